//! One call's media: RTP and RTCP sockets around a Sans-IO [`MediaSession`], the
//! WAV being played, echo, the recording and the statistics; SRTP on the wire when
//! the SDP keyed it (every packet protected on the way out, authenticated and
//! decrypted on the way in; one that fails is counted and dropped).

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;
use voxhire_media::codec::CodecKind;
use voxhire_media::session::{MediaConfig, MediaEvent, MediaSession, Transmit, TransmitKind};
use voxhire_media::srtp::{MasterKey, Srtp};
use voxhire_media::stats::RtpStats;
use voxhire_media::wav::{WavChannels, WavWriter};
use voxhire_sip::sdp::{Codec, NegotiatedAudio, SrtpKey};

/// How long each sent DTMF digit lasts (RFC 4733 senders commonly use 100 ms).
const DTMF_DIGIT: std::time::Duration = std::time::Duration::from_millis(100);

/// What the media does with audio besides sending the queued prompt.
#[derive(Debug, Clone)]
pub enum Recording {
    /// The remote party only, mono.
    Remote(PathBuf),
    /// Stereo: left = what we sent, right = what we received.
    Stereo(PathBuf),
}

#[derive(Debug, Clone)]
pub struct MediaParams {
    pub negotiated: NegotiatedAudio,
    pub echo: bool,
    pub recording: Option<Recording>,
    /// Whether the recording is sealed.
    pub archive: crate::archive::Archive,
    pub seed: u64,
    /// For the task's tracing span.
    pub call_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaReport {
    pub rtp: RtpStats,
    pub dtmf: String,
    /// The media was SRTP (keyed in the SDP).
    pub srtp: bool,
    /// SRTP/SRTCP packets that failed authentication (or replayed), dropped.
    #[serde(skip_serializing_if = "crate::summary::is_zero")]
    pub srtp_rejected: u64,
}

/// The SDP's key as the SRTP context takes it.
fn master(k: &SrtpKey) -> MasterKey<'_> {
    MasterKey {
        key: &k.key,
        salt: &k.salt,
    }
}

/// The packets' way to and from the sockets: as they are, or through SRTP.
struct Wire {
    srtp: Option<Srtp>,
    rejected: u64,
}

impl Wire {
    /// What goes on the wire for `t` (`None`: it could not be protected).
    fn outgoing(&mut self, t: Transmit) -> Option<Vec<u8>> {
        let Some(srtp) = self.srtp.as_mut() else {
            return Some(t.payload);
        };
        srtp.protect(t.kind, &t.payload)
            .map_err(|e| tracing::debug!(error = %e, "packet not sent"))
            .ok()
    }

    /// A received packet in the clear (`None`: rejected, and counted).
    fn incoming<'a>(&mut self, kind: TransmitKind, bytes: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        let Some(srtp) = self.srtp.as_mut() else {
            return Some(Cow::Borrowed(bytes));
        };
        match srtp.unprotect(kind, bytes) {
            Ok(clear) => Some(Cow::Owned(clear)),
            Err(e) => {
                self.rejected += 1;
                if self.rejected == 1 {
                    tracing::warn!(error = %e, "SRTP packet rejected (more are only counted)");
                }
                None
            }
        }
    }
}

enum Control {
    Play(Arc<Vec<i16>>),
    /// Barge-in: drop what is queued.
    StopPlayback,
    Dtmf(String),
    UpdateRemote(SocketAddr),
    Stop,
}

pub struct MediaHandle {
    control: mpsc::Sender<Control>,
    /// Counts prompts that have been sent completely.
    pub prompts_played: watch::Receiver<u32>,
    playout: watch::Receiver<Playout>,
    dtmf: tokio::sync::broadcast::Sender<char>,
    task: std::sync::Mutex<Option<JoinHandle<Result<MediaReport>>>>,
}

/// The send queue's clock, in 8 kHz samples since the media started: audio
/// handed to [`MediaHandle::play`] and audio sent (or dropped by
/// [`MediaHandle::stop_playback`]). A line queued when `queued_total` was `q`
/// has started leaving once `sent_total > q`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Playout {
    pub queued_total: u64,
    pub sent_total: u64,
}

pub fn codec_kind(c: Codec) -> CodecKind {
    match c {
        Codec::Pcmu => CodecKind::Pcmu,
        Codec::Pcma => CodecKind::Pcma,
        Codec::Opus => CodecKind::Opus,
    }
}

/// Frames of received audio handed to the application: 20 ms at 8 kHz each, 50 a
/// second without gaps (the session conceals losses and fills silence before the
/// peer's first packet), so the stream position is also the time since the start.
pub type ReceivedAudio = mpsc::Sender<Arc<[i16]>>;

impl MediaHandle {
    pub fn start(rtp: UdpSocket, rtcp: UdpSocket, params: MediaParams) -> Result<MediaHandle> {
        Self::start_with_tap(rtp, rtcp, params, None)
    }

    /// Like [`MediaHandle::start`], and also sends every received 20 ms frame to
    /// `received`. The media task never waits on it: a frame that finds the channel
    /// full is dropped (and counted in the log at the end), so a slow consumer cannot
    /// disturb the RTP pacing. Size the channel for the consumer's worst stall.
    pub fn start_with_tap(
        rtp: UdpSocket,
        rtcp: UdpSocket,
        params: MediaParams,
        received: Option<ReceivedAudio>,
    ) -> Result<MediaHandle> {
        let neg = &params.negotiated;
        let mut config = MediaConfig::new(
            codec_kind(neg.codec),
            neg.remote,
            params.seed,
            std::time::SystemTime::now(),
        );
        config.payload_type = neg.payload_type;
        config.dtmf_payload_type = neg.dtmf_payload_type;
        let session =
            MediaSession::new(config, Instant::now()).context("starting the RTP session")?;
        let srtp = neg
            .srtp
            .as_ref()
            .map(|k| Srtp::new(master(&k.local), master(&k.remote)))
            .transpose()
            .context("starting SRTP")?;
        let (control_tx, control_rx) = mpsc::channel(8);
        let (played_tx, played_rx) = watch::channel(0);
        let (playout_tx, playout_rx) = watch::channel(Playout::default());
        let (dtmf_tx, _) = tokio::sync::broadcast::channel(32);
        let span = tracing::info_span!("media", call_id = %params.call_id);
        let task = tokio::spawn(
            run(
                rtp,
                rtcp,
                session,
                Wire { srtp, rejected: 0 },
                params,
                control_rx,
                played_tx,
                received,
                Taps {
                    playout: playout_tx,
                    dtmf: dtmf_tx.clone(),
                },
            )
            .instrument(span),
        );
        Ok(MediaHandle {
            control: control_tx,
            prompts_played: played_rx,
            playout: playout_rx,
            dtmf: dtmf_tx,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// Queues audio (8 kHz mono) after whatever is already queued.
    pub async fn play(&self, samples: Arc<Vec<i16>>) {
        let _ = self.control.send(Control::Play(samples)).await;
    }

    /// Drops the queued audio now (barge-in): the next 20 ms tick sends silence.
    pub async fn stop_playback(&self) {
        let _ = self.control.send(Control::StopPlayback).await;
    }

    /// The send queue's progress (see [`Playout`]).
    pub fn playout(&self) -> watch::Receiver<Playout> {
        self.playout.clone()
    }

    /// Received RFC 4733 digits from now on, one event per key press.
    pub fn dtmf_events(&self) -> tokio::sync::broadcast::Receiver<char> {
        self.dtmf.subscribe()
    }

    /// Sends RFC 4733 digits, 100 ms each (queued audio pauses meanwhile).
    pub async fn send_dtmf(&self, digits: String) {
        let _ = self.control.send(Control::Dtmf(digits)).await;
    }

    pub async fn update_remote(&self, remote: SocketAddr) {
        let _ = self.control.send(Control::UpdateRemote(remote)).await;
    }

    /// Stops the media (RTCP BYE), finalises the recording and returns the figures.
    pub async fn stop(&self) -> Result<MediaReport> {
        let _ = self.control.send(Control::Stop).await;
        let task = self
            .task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .context("the media was already stopped")?;
        task.await.context("media task panicked")?
    }
}

/// The recording, written one 20 ms frame per playout tick so both channels stay
/// aligned: the left channel mirrors what was queued for sending, in send order.
struct Recorder {
    writer: WavWriter,
    stereo: bool,
    sent: std::collections::VecDeque<i16>,
}

impl Recorder {
    fn open(rec: &Recording, archive: &crate::archive::Archive) -> Result<Recorder> {
        let (path, stereo) = match rec {
            Recording::Remote(p) => (p, false),
            Recording::Stereo(p) => (p, true),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let layout = if stereo {
            WavChannels::Stereo
        } else {
            WavChannels::Mono
        };
        let writer = if archive.is_sealed() {
            let mut name = path.file_name().unwrap_or_default().to_owned();
            name.push(".partial");
            let partial = path.with_file_name(name);
            let sink = Box::new(archive.append(path, &partial)?);
            WavWriter::to_sink(path, &partial, layout, sink)
        } else {
            WavWriter::create(path, layout)
        }
        .with_context(|| format!("creating recording {}", path.display()))?;
        Ok(Recorder {
            writer,
            stereo,
            sent: Default::default(),
        })
    }

    fn mirror_sent(&mut self, samples: &[i16]) {
        if self.stereo {
            self.sent.extend(samples);
        }
    }

    fn frame(&mut self, received: &[i16]) -> Result<()> {
        if !self.stereo {
            return Ok(self.writer.write_mono(received)?);
        }
        let n = received.len().min(self.sent.len());
        let sent: Vec<i16> = self.sent.drain(..n).collect();
        Ok(self.writer.write_stereo(&sent, received)?)
    }
}

/// What the media task reports besides its final figures.
struct Taps {
    playout: watch::Sender<Playout>,
    dtmf: tokio::sync::broadcast::Sender<char>,
}

#[allow(clippy::too_many_arguments)]
/// (Long on purpose: the media task's single `select!` loop over both sockets,
/// the session's timer and the commands; each arm drives the Sans-IO session.)
async fn run(
    rtp: UdpSocket,
    rtcp: UdpSocket,
    mut session: MediaSession,
    mut wire: Wire,
    params: MediaParams,
    mut control: mpsc::Receiver<Control>,
    prompts_played: watch::Sender<u32>,
    mut received: Option<ReceivedAudio>,
    taps: Taps,
) -> Result<MediaReport> {
    let mut queued_total = 0u64;
    let mut recorder = params
        .recording
        .as_ref()
        .map(|r| Recorder::open(r, &params.archive))
        .transpose()?;
    let mut tap_dropped = 0u64;
    let mut prompt_playing = false;
    let mut dtmf = String::new();
    let mut rtp_buf = vec![0u8; 2048];
    let mut rtcp_buf = vec![0u8; 2048];
    loop {
        while let Some(t) = session.poll_transmit() {
            let socket = match t.kind {
                TransmitKind::Rtp => &rtp,
                TransmitKind::Rtcp => &rtcp,
            };
            let dst = t.dst;
            let Some(packet) = wire.outgoing(t) else {
                continue;
            };
            if let Err(e) = socket.send_to(&packet, dst).await {
                tracing::debug!(%dst, error = %e, "RTP send failed");
            }
        }
        while let Some(ev) = session.poll_event() {
            match ev {
                MediaEvent::Audio(frame) => {
                    if params.echo {
                        session.queue_audio(&frame);
                        queued_total += frame.len() as u64;
                        if let Some(r) = recorder.as_mut() {
                            r.mirror_sent(&frame);
                        }
                    }
                    if let Some(r) = recorder.as_mut() {
                        r.frame(&frame)?;
                    }
                    if let Some(tap) = &received {
                        match tap.try_send(Arc::from(frame)) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => tap_dropped += 1,
                            // The consumer is gone: stop copying frames for it.
                            Err(mpsc::error::TrySendError::Closed(_)) => received = None,
                        }
                    }
                }
                MediaEvent::Dtmf { digit, .. } => {
                    tracing::info!(%digit, "DTMF received");
                    dtmf.push(digit);
                    let _ = taps.dtmf.send(digit);
                }
                MediaEvent::RemoteLatched(addr) => {
                    tracing::debug!(%addr, "RTP latched to the remote source")
                }
                MediaEvent::RemoteBye => tracing::debug!("remote RTP source sent RTCP BYE"),
            }
        }
        let sent_total = queued_total.saturating_sub(session.queued_samples() as u64);
        taps.playout.send_if_modified(|p| {
            let now = Playout {
                queued_total,
                sent_total,
            };
            let changed = *p != now;
            *p = now;
            changed
        });
        if prompt_playing && session.queued_audio_ms() == 0 {
            prompt_playing = false;
            prompts_played.send_modify(|n| *n += 1);
        }
        let deadline = session.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            r = rtp.recv_from(&mut rtp_buf) => {
                if let Ok((n, src)) = r {
                    if let Some(packet) = wire.incoming(TransmitKind::Rtp, &rtp_buf[..n]) {
                        session.handle_rtp(Instant::now(), src, &packet);
                    }
                }
            }
            r = rtcp.recv_from(&mut rtcp_buf) => {
                if let Ok((n, src)) = r {
                    if let Some(packet) = wire.incoming(TransmitKind::Rtcp, &rtcp_buf[..n]) {
                        session.handle_rtcp(Instant::now(), src, &packet);
                    }
                }
            }
            c = control.recv() => match c {
                Some(Control::Play(samples)) => {
                    session.queue_audio(&samples);
                    queued_total += samples.len() as u64;
                    if let Some(r) = recorder.as_mut() {
                        r.mirror_sent(&samples);
                    }
                    prompt_playing = true;
                }
                Some(Control::StopPlayback) => {
                    session.clear_queued_audio();
                    if let Some(r) = recorder.as_mut() {
                        r.sent.clear();
                    }
                }
                Some(Control::Dtmf(digits)) => {
                    for digit in digits.chars() {
                        if let Err(e) = session.send_dtmf(digit, DTMF_DIGIT) {
                            tracing::warn!(%digit, error = %e, "cannot send DTMF");
                        }
                    }
                }
                Some(Control::UpdateRemote(addr)) => session.set_remote(addr),
                Some(Control::Stop) | None => break,
            },
            _ = async { tokio::time::sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => {
                session.handle_timeout(Instant::now());
            }
        }
    }
    if tap_dropped > 0 {
        tracing::warn!(
            frames = tap_dropped,
            "received audio dropped: its consumer fell behind"
        );
    }
    session.bye(Instant::now());
    while let Some(t) = session.poll_transmit() {
        if matches!(t.kind, TransmitKind::Rtcp) {
            let dst = t.dst;
            if let Some(packet) = wire.outgoing(t) {
                let _ = rtcp.send_to(&packet, dst).await;
            }
        }
    }
    if let Some(r) = recorder {
        r.writer.finalize().context("finalising the recording")?;
    }
    if wire.rejected > 0 {
        tracing::warn!(packets = wire.rejected, "SRTP packets rejected");
    }
    Ok(MediaReport {
        rtp: session.stats(),
        dtmf,
        srtp: wire.srtp.is_some(),
        srtp_rejected: wire.rejected,
    })
}
