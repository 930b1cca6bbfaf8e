//! The call's voice: the dialog's lines → prompt cache or streaming TTS → the
//! media task's send queue, and back the moments each line started and finished
//! leaving, which the session needs for no-input timers and latency figures.
//!
//! Lines play in order. A line in the prompt cache is queued whole at once; any
//! other is synthesised sentence by sentence on a blocking thread and each chunk
//! is queued as soon as it exists (the first audio leaves while the rest is
//! still being made), then the whole line is cached. `Stop` (barge-in) clears
//! the media queue at once and abandons the lines not yet played.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use voxhire_speech::tts::{self, PromptCache, Voice};

use crate::media_task::{MediaHandle, Playout};

#[derive(Debug)]
pub enum SpeakerCommand {
    Say {
        id: String,
        text: String,
    },
    /// Barge-in: stop now and drop what is queued.
    Stop,
}

#[derive(Debug)]
pub enum Spoken {
    /// The line's first audio went out.
    Started {
        id: String,
        at: Instant,
        /// From the prompt cache (no synthesis on the call's critical path).
        cached: bool,
        /// Synthesis time of the first chunk (0 when cached).
        first_chunk_ms: u64,
    },
    /// The line has been sent completely, or was cut by `Stop`.
    Finished {
        id: String,
        interrupted: bool,
        audio_ms: u64,
    },
}

struct Line {
    id: String,
    text: String,
}

/// The line being played.
struct Current {
    id: String,
    /// Playout position (samples sent) at which this line's audio starts / ends.
    start: u64,
    end: u64,
    started: bool,
    cached: bool,
    first_chunk_ms: u64,
    /// Chunks still coming from the synthesiser.
    chunks: Option<mpsc::Receiver<Result<tts::AudioChunk, tts::TtsError>>>,
    cancel: Arc<AtomicBool>,
    /// The whole line, for the cache once complete.
    audio: Vec<i16>,
    text: String,
}

pub struct Speaker {
    pub voice: Arc<dyn Voice>,
    pub cache: Arc<PromptCache>,
}

impl Speaker {
    /// Runs until the command channel closes or the session stops listening.
    /// (Long on purpose: one loop that owns the line playing and the queue;
    /// splitting it would spread that state across tasks.)
    pub async fn run(
        self,
        media: Arc<MediaHandle>,
        mut commands: mpsc::Receiver<SpeakerCommand>,
        spoken: mpsc::Sender<Spoken>,
    ) {
        let mut playout: watch::Receiver<Playout> = media.playout();
        let mut queue: VecDeque<Line> = VecDeque::new();
        let mut current: Option<Current> = None;
        // Total samples handed to the media queue (the playout clock's target).
        let mut queued_total = playout.borrow().queued_total;
        loop {
            if current.is_none() {
                if let Some(line) = queue.pop_front() {
                    current = Some(self.begin(&media, line, &mut queued_total).await);
                }
            }
            // Report progress of the current line.
            if let Some(c) = current.as_mut() {
                let p = *playout.borrow_and_update();
                if !c.started && p.sent_total > c.start && c.end > c.start {
                    c.started = true;
                    let msg = Spoken::Started {
                        id: c.id.clone(),
                        at: Instant::now(),
                        cached: c.cached,
                        first_chunk_ms: c.first_chunk_ms,
                    };
                    if spoken.send(msg).await.is_err() {
                        return;
                    }
                }
                if c.chunks.is_none() && p.sent_total >= c.end {
                    let c = current.take().expect("checked");
                    if !c.cached && !c.audio.is_empty() {
                        self.cache
                            .insert(self.voice.name(), &c.text, Arc::new(c.audio));
                    }
                    let msg = Spoken::Finished {
                        id: c.id,
                        interrupted: false,
                        audio_ms: (c.end - c.start) / 8,
                    };
                    if spoken.send(msg).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => break,
                    Some(SpeakerCommand::Say { id, text }) => queue.push_back(Line { id, text }),
                    Some(SpeakerCommand::Stop) => {
                        media.stop_playback().await;
                        let mut cut: Vec<String> = queue.drain(..).map(|l| l.id).collect();
                        if let Some(c) = current.take() {
                            c.cancel.store(true, Ordering::Relaxed);
                            cut.insert(0, c.id);
                        }
                        queued_total = media.playout().borrow().queued_total.max(queued_total);
                        for id in cut {
                            if spoken.send(Spoken::Finished { id, interrupted: true, audio_ms: 0 }).await.is_err() {
                                return;
                            }
                        }
                    }
                },
                chunk = next_chunk(&mut current) => {
                    let c = current.as_mut().expect("a chunk comes only with a current line");
                    match chunk {
                        Some(Ok(chunk)) => {
                            if c.end == c.start {
                                c.first_chunk_ms = chunk.synthesis_time.as_millis() as u64;
                            }
                            c.audio.extend_from_slice(&chunk.samples);
                            c.end += chunk.samples.len() as u64;
                            queued_total += chunk.samples.len() as u64;
                            media.play(Arc::new(chunk.samples)).await;
                        }
                        Some(Err(e)) => {
                            tracing::warn!(line = %c.id, error = %e, "synthesis failed; line cut short");
                            c.chunks = None;
                            c.audio.clear();
                        }
                        None => c.chunks = None,
                    }
                }
                changed = playout.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        if let Some(c) = current {
            c.cancel.store(true, Ordering::Relaxed);
        }
    }

    async fn begin(&self, media: &MediaHandle, line: Line, queued_total: &mut u64) -> Current {
        let start = (*queued_total).max(media.playout().borrow().sent_total);
        *queued_total = start;
        let cancel = Arc::new(AtomicBool::new(false));
        if let Some(audio) = self.cache.get(self.voice.name(), &line.text) {
            *queued_total += audio.len() as u64;
            let end = *queued_total;
            media.play(audio).await;
            return Current {
                id: line.id,
                start,
                end,
                started: false,
                cached: true,
                first_chunk_ms: 0,
                chunks: None,
                cancel,
                audio: Vec::new(),
                text: line.text,
            };
        }
        let (tx, rx) = mpsc::channel(2);
        let voice = self.voice.clone();
        let text = line.text.clone();
        let stop = cancel.clone();
        tokio::task::spawn_blocking(move || {
            let stream = match tts::synthesize_stream(voice, &text, voxhire_media::PCM_RATE) {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            for chunk in stream {
                if stop.load(Ordering::Relaxed) || tx.blocking_send(chunk).is_err() {
                    return;
                }
            }
        });
        Current {
            id: line.id,
            start,
            end: start,
            started: false,
            cached: false,
            first_chunk_ms: 0,
            chunks: Some(rx),
            cancel,
            audio: Vec::new(),
            text: line.text,
        }
    }
}

async fn next_chunk(
    current: &mut Option<Current>,
) -> Option<Result<tts::AudioChunk, tts::TtsError>> {
    match current.as_mut().and_then(|c| c.chunks.as_mut()) {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
