//! The ASR engine on real models: routing, settings, the bounded queue, the
//! streaming recogniser over VAD + endpointer, hallucination suppression.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use voxhire_speech::asr::{
    phone_to_asr, AsrConfig, AsrEngine, AsrError, AsrModel, DecodeRequest, Language, Priority,
    Recognition, StreamingRecognizer,
};
use voxhire_speech::endpoint::{EndpointConfig, Endpointer};
use voxhire_speech::models::ModelDir;
use voxhire_speech::vad::{SileroVad, VadConfig, VadStream};

/// A clip of the ASR test set (tests/speech/asr/, G.711 mu-law at 8 kHz).
fn clip(id: &str) -> Vec<i16> {
    let path = format!(
        "{}/../../tests/speech/asr/{id}.ulaw",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    voxhire_media::g711::decode_ulaw(&bytes)
}

/// One engine for the whole file: loading and warming up costs seconds.
fn engine() -> Arc<AsrEngine> {
    static ENGINE: OnceLock<Arc<AsrEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            AsrEngine::load(&ModelDir::locate(), AsrConfig::default())
                .expect("Whisper models (run scripts/fetch-models.sh)")
        })
        .clone()
}

fn request(audio: &[i16], language: Language) -> DecodeRequest {
    DecodeRequest {
        audio: phone_to_asr(audio).unwrap(),
        language,
        prompt: None,
        hotwords: None,
        offset_ms: 0,
    }
}

fn words(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect()
}

#[test]
fn english_and_mandarin_phone_audio() {
    let engine = engine();
    // en-01: "I have seven years of experience as a Java developer." (4.7 s)
    let en = clip("en-01");
    for language in [Language::En, Language::Auto] {
        let t = engine.transcribe(request(&en, language)).unwrap();
        eprintln!("{language}: {:?} ({} ms, {})", t.text, t.decode_ms, t.model);
        let w = words(&t.text);
        assert!(
            w.contains("seven years") && w.contains("java developer"),
            "{language}: {:?}",
            t.text
        );
        assert_eq!(t.language, Language::En);
        assert_eq!(t.segments.len(), 1);
        let s = &t.segments[0];
        assert!(s.confidence > 0.5 && s.confidence <= 1.0, "{s:?}");
        assert!(s.start_ms == 0 && (4700..4750).contains(&s.end_ms), "{s:?}");
    }
    // zh-05: "我下周三下午两点有空。"
    let zh = clip("zh-05");
    for language in [Language::Zh, Language::Auto] {
        let t = engine.transcribe(request(&zh, language)).unwrap();
        eprintln!("{language}: {:?} ({} ms, {})", t.text, t.decode_ms, t.model);
        assert!(t.text.contains("下周三下午"), "{language}: {:?}", t.text);
        assert_eq!(t.language, Language::Zh);
        assert_eq!(t.model, AsrModel::Base);
    }
    assert_eq!(engine.model_for(Language::En), AsrModel::TinyEn);
    assert_eq!(engine.model_for(Language::Zh), AsrModel::Base);
    assert_eq!(engine.model_for(Language::Auto), AsrModel::Base);
}

#[test]
fn silence_and_noise_give_no_text() {
    let engine = engine();
    let silence = vec![0i16; 8000 * 3];
    // Low-level white noise (about -50 dBFS), like an idle line.
    let mut seed = 12345u32;
    let noise: Vec<i16> = (0..8000 * 3)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((seed >> 16) as i16) / 300
        })
        .collect();
    for (name, audio) in [("silence", &silence), ("noise", &noise)] {
        for language in [Language::En, Language::Zh, Language::Auto] {
            let t = engine.transcribe(request(audio, language)).unwrap();
            assert!(
                t.text.is_empty() && t.segments.is_empty(),
                "{name}/{language}: {:?} (suppressed {:?}, no-speech {:.2}, confidence {:.2})",
                t.text,
                t.suppressed,
                t.no_speech_prob,
                t.confidence()
            );
        }
    }
}

#[test]
fn a_full_queue_refuses_instead_of_growing() {
    let config = AsrConfig {
        workers: 1,
        queue_capacity: 2,
        ..AsrConfig::default()
    };
    let engine = AsrEngine::load(&ModelDir::locate(), config).expect("Whisper models");
    let audio = clip("en-07"); // "Yes, I can start in two weeks."
    let mut tickets = Vec::new();
    let mut busy = 0;
    for _ in 0..6 {
        match engine.submit(request(&audio, Language::En), Priority::Partial) {
            Ok(t) => tickets.push(t),
            Err(AsrError::Busy { capacity: 2 }) => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    // One running (maybe), two waiting; the rest refused.
    assert!(busy >= 3, "{busy} refused");
    // Finals have their own queue: still accepted.
    let final_ticket = engine
        .submit(request(&audio, Language::En), Priority::Final)
        .unwrap();
    assert!(!final_ticket.wait().unwrap().text.is_empty());
    for t in tickets {
        assert!(!t.wait().unwrap().text.is_empty());
    }
}

/// 25 s of Mandarin: a decode of seconds on this machine.
fn long_mandarin() -> Vec<i16> {
    let mut long = Vec::new();
    for id in [
        "zh-01", "zh-02", "zh-03", "zh-04", "zh-05", "zh-06", "zh-07",
    ] {
        long.extend(clip(id));
    }
    long.truncate(25 * 8000);
    long
}

/// Returns once a decode is running (its ticket can then be dropped mid-way).
fn wait_until_decoding(engine: &AsrEngine) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while engine.stats().running == 0 {
        assert!(Instant::now() < deadline, "the decode never started");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_dropped_ticket_stops_its_decode_part_way() {
    let config = AsrConfig {
        workers: 1,
        ..AsrConfig::default()
    };
    let engine = AsrEngine::load(&ModelDir::locate(), config).expect("Whisper models");
    let ticket = engine
        .submit(request(&long_mandarin(), Language::Zh), Priority::Final)
        .unwrap();
    wait_until_decoding(&engine);
    drop(ticket);
    // The worker is free for the next request, and its state decodes as before.
    let t = engine
        .transcribe(request(&clip("zh-05"), Language::Zh))
        .unwrap();
    assert!(t.text.contains("下周三下午"), "{:?}", t.text);
    // Counted before the reply is sent (`running` drops only after it).
    let stats = engine.stats();
    assert_eq!((stats.stopped, stats.decoded), (1, 1), "{stats:?}");
}

#[test]
fn while_two_calls_listen_every_decode_is_single_threaded() {
    let config = AsrConfig {
        workers: 2,
        threads_per_worker: 1,
        solo_threads: 2,
        ..AsrConfig::default()
    };
    let engine = AsrEngine::load(&ModelDir::locate(), config).expect("Whisper models");
    let audio = clip("en-07"); // "Yes, I can start in two weeks."
    let first = engine.listening();
    let second = engine.listening();
    let narrow = engine.transcribe(request(&audio, Language::En)).unwrap();
    assert_eq!(narrow.threads, 1);
    assert!(
        words(&narrow.text).contains("two weeks"),
        "{:?}",
        narrow.text
    );
    drop(second);
    // One call listening: this decode may have both cores, if no other process
    // is busy on them (the test suite's other tests may be); the words must not
    // depend on it.
    for _ in 0..3 {
        let t = engine.transcribe(request(&audio, Language::En)).unwrap();
        assert!(t.threads == 1 || t.threads == 2, "{} threads", t.threads);
        assert_eq!(t.text, narrow.text, "on {} threads", t.threads);
    }
    drop(first);
}

#[test]
fn too_long_audio_is_refused_with_advice() {
    let engine = engine();
    let e = engine
        .transcribe(request(&vec![0i16; 8000 * 31], Language::En))
        .unwrap_err();
    assert!(e.to_string().contains("split it into utterances"), "{e}");
}

#[test]
fn streaming_gives_partials_then_the_final() {
    let models = ModelDir::locate();
    let engine = engine();
    let vad = SileroVad::load_with_sessions(&models, 1).expect("Silero VAD");
    let mut vad = VadStream::new(vad, VadConfig::default());
    let mut endpointer = Endpointer::new(EndpointConfig::default());
    let mut asr = StreamingRecognizer::new(engine, Language::En);
    asr.set_prompt(Some("Java, Spring Cloud, Kubernetes, React".into()));

    // en-17: "I prefer working remotely, but I can come to the office twice a week."
    let mut audio = clip("en-17");
    audio.extend(std::iter::repeat_n(0i16, 8000)); // the candidate stops talking
    let mut results = Vec::new();
    // Waits for every decode before feeding more audio: a machine fast enough for
    // every partial, so the sequence of results is deterministic.
    for frame in audio.chunks(160) {
        for f in vad.push(frame).unwrap() {
            endpointer.handle_frame(f.is_speech, &f.samples);
            while let Some(e) = endpointer.poll_event() {
                asr.handle_event(&e).unwrap();
                while let Some(r) = asr.wait_recognition() {
                    results.push(r.unwrap());
                }
            }
        }
    }
    let partials = results
        .iter()
        .filter(|r| matches!(r, Recognition::Partial(_)))
        .count();
    let finals: Vec<_> = results
        .iter()
        .filter_map(|r| match r {
            Recognition::Final(f) => Some(f),
            _ => None,
        })
        .collect();
    for r in &results {
        match r {
            Recognition::Partial(h) => eprintln!(
                "partial @{:?}{}: {:?} ({} ms)",
                h.audio_end,
                if h.speculative { " (speculative)" } else { "" },
                h.transcript.text,
                h.transcript.decode_ms
            ),
            Recognition::Final(f) => eprintln!(
                "final {:?}..{:?}: {:?} latency {:?} speculative {}",
                f.start, f.end, f.transcript.text, f.latency, f.speculative
            ),
        }
    }
    // 5 s of speech: a partial every 700 ms of it, then the speculative decode at
    // the pause, which becomes the final.
    assert!(partials >= 5, "{partials} partials");
    assert!(matches!(&results[results.len() - 2], Recognition::Partial(h) if h.speculative));
    assert_eq!(finals.len(), 1);
    let f = finals[0];
    assert!(matches!(results.last(), Some(Recognition::Final(_))));
    let w = words(&f.transcript.text);
    assert!(
        w.contains("working remotely") && w.contains("twice a week"),
        "{:?}",
        f.transcript.text
    );
    assert!(f.speculative, "the final reuses the speculative decode");
    assert!(f.start < Duration::from_millis(800) && f.end > Duration::from_millis(4000));
}

#[test]
fn a_pause_decode_the_candidate_talks_over_is_stopped() {
    use voxhire_speech::endpoint::{EndReason, EndpointEvent, Utterance};
    let config = AsrConfig {
        workers: 1,
        ..AsrConfig::default()
    };
    let engine = AsrEngine::load(&ModelDir::locate(), config).expect("Whisper models");
    let mut asr = StreamingRecognizer::new(engine.clone(), Language::Zh);
    // A long pause decode, then the candidate speaks again.
    let start = Duration::ZERO;
    asr.handle_event(&EndpointEvent::SpeechPaused {
        audio: long_mandarin(),
        start,
        end: Duration::from_secs(25),
    })
    .unwrap();
    wait_until_decoding(&engine);
    asr.handle_event(&EndpointEvent::SpeechResumed { start })
        .unwrap();
    // The utterance then ends elsewhere: its final is a decode of its own.
    let audio = clip("zh-05"); // 我下周三下午两点有空。
    let end = Duration::from_millis(audio.len() as u64 / 8);
    asr.handle_event(&EndpointEvent::UtteranceEnded(Utterance {
        audio,
        audio_start: start,
        start,
        end,
        detected_at: end + Duration::from_millis(700),
        reason: EndReason::Silence,
    }))
    .unwrap();
    let Some(Ok(Recognition::Final(f))) = asr.wait_recognition() else {
        panic!("no final");
    };
    assert!(!f.speculative);
    assert!(
        f.transcript.text.contains("下周三下午"),
        "{:?}",
        f.transcript.text
    );
    let stats = engine.stats();
    assert_eq!((stats.stopped, stats.decoded), (1, 1), "{stats:?}");
}
