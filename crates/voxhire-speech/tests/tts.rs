//! TTS with the real models (scripts/fetch-models.sh fetches them; a missing model
//! fails the test with that command, it never skips).

use std::sync::{Arc, OnceLock};

use voxhire_speech::models::ModelDir;
use voxhire_speech::tts::zh::MandarinG2p;
use voxhire_speech::tts::{self, KokoroModel, KokoroVoice, Lang, PiperVoice, PromptCache, Voice};

fn models() -> ModelDir {
    ModelDir::locate()
}

fn piper() -> &'static Arc<PiperVoice> {
    static VOICE: OnceLock<Arc<PiperVoice>> = OnceLock::new();
    VOICE.get_or_init(|| {
        Arc::new(PiperVoice::load(&models()).unwrap_or_else(|e| panic!("loading Piper: {e}")))
    })
}

fn english() -> Arc<dyn Voice> {
    piper().clone()
}

fn kokoro() -> &'static Arc<KokoroVoice> {
    static VOICE: OnceLock<Arc<KokoroVoice>> = OnceLock::new();
    VOICE.get_or_init(|| {
        let model = KokoroModel::load(&models()).unwrap_or_else(|e| panic!("loading Kokoro: {e}"));
        let voice = KokoroVoice::load(&models(), model, tts::MANDARIN_VOICE)
            .unwrap_or_else(|e| panic!("loading {}: {e}", tts::MANDARIN_VOICE));
        Arc::new(voice)
    })
}

fn mandarin() -> Arc<dyn Voice> {
    kokoro().clone()
}

/// RMS of the 20 ms frames that hold sound, and the share of such frames.
fn loudness(samples: &[i16], rate: u32) -> (f64, f64) {
    let frame = (rate / 50) as usize;
    let frames: Vec<f64> = samples
        .chunks(frame)
        .map(|f| (f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64).sqrt())
        .collect();
    let loud: Vec<f64> = frames.iter().copied().filter(|&r| r > 300.0).collect();
    let rms = (loud.iter().map(|r| r * r).sum::<f64>() / loud.len().max(1) as f64).sqrt();
    (rms, loud.len() as f64 / frames.len().max(1) as f64)
}

fn seconds(samples: &[i16], rate: u32) -> f64 {
    samples.len() as f64 / f64::from(rate)
}

#[test]
fn piper_phonemes_follow_espeak_ipa_with_punctuation() {
    let voice = piper();
    assert_eq!(
        voice.phonemes("Hello, world. How are you?", true).unwrap(),
        "həlˈoʊ, wˈɜːld. hˈaʊ ɑːɹ juː?"
    );
    // No final punctuation: read as a statement.
    assert_eq!(voice.phonemes("Yes", true).unwrap(), "jˈɛs.");
    assert_eq!(voice.phonemes("Yes", false).unwrap(), "jˈɛs");
    // Money is rewritten before espeak-ng ("dollar eighty thousand" otherwise).
    assert!(voice
        .phonemes("I want $80,000.", true)
        .unwrap()
        .ends_with("ˈeɪɾi θˈaʊzənd dˈɑːlɚz."));
}

#[test]
fn piper_ids_interleave_pad_between_bos_and_eos() {
    // ^ = 1, _ = 0, $ = 2, h = 20, ə = 59, . = 10 in en_US-joe-medium.onnx.json
    assert_eq!(
        piper().phoneme_ids("hə."),
        vec![1, 0, 20, 0, 59, 0, 10, 0, 2]
    );
    // Symbols outside the map are skipped, not guessed.
    assert_eq!(piper().phoneme_ids("h☃"), vec![1, 0, 20, 0, 2]);
}

#[test]
fn english_sentence_has_speech_of_plausible_length_and_energy() {
    let text = "Thanks for taking my call. How many years of experience do you have with Java?";
    let audio = tts::synthesize(english(), text, 8000).unwrap();
    let secs = seconds(&audio, 8000);
    // 16 words: about 2.5 words a second when read.
    assert!((3.0..9.0).contains(&secs), "{secs:.2} s");
    let (rms, voiced) = loudness(&audio, 8000);
    assert!(rms > 2000.0, "speech RMS {rms:.0}");
    assert!((0.5..0.98).contains(&voiced), "voiced share {voiced:.2}");
}

#[test]
fn english_streams_the_first_clause_first() {
    let text = "Great, and could you tell me a bit about your most recent role? Take your time.";
    let chunks: Vec<_> = tts::synthesize_stream(english(), text, 8000)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Great,",
            "and could you tell me a bit about your most recent role?",
            "Take your time."
        ]
    );
    assert!(chunks.iter().all(|c| c.sample_rate == 8000));
    assert!(chunks.last().unwrap().is_last && !chunks[0].is_last);
    // The first chunk is short, so it is ready well before the whole text would be.
    assert!(chunks[0].samples.len() * 3 < chunks[1].samples.len());
    // Native rate on request.
    let native = tts::synthesize(english(), "Okay.", english().sample_rate()).unwrap();
    assert_eq!(english().sample_rate(), 22050);
    assert!((0.2..2.0).contains(&seconds(&native, 22050)));
}

#[test]
fn empty_text_is_an_error() {
    for text in ["", "   ", " ... !"] {
        let e = tts::synthesize_stream(english(), text, 8000).unwrap_err();
        assert!(matches!(e, tts::TtsError::EmptyText), "{text:?}: {e}");
    }
}

#[test]
fn missing_model_names_the_fetch_command() {
    let e = PiperVoice::load(&ModelDir::new("/nonexistent-models")).unwrap_err();
    assert!(e.to_string().contains("scripts/fetch-models.sh"), "{e}");
    for lang in [Lang::En, Lang::Zh] {
        let e = tts::Tts::load_langs(&ModelDir::new("/nonexistent-models"), &[lang]).unwrap_err();
        assert!(
            e.to_string().contains("scripts/fetch-models.sh"),
            "{lang}: {e}"
        );
    }
}

#[test]
fn prompt_cache_synthesises_each_line_once() {
    let voice = english();
    let cache = PromptCache::new(PromptCache::DEFAULT_CAPACITY_SAMPLES);
    let lines = ["Thank you for your time.", "Goodbye."];
    assert_eq!(cache.warm(&voice, lines).unwrap(), 2);
    assert_eq!(cache.warm(&voice, lines).unwrap(), 0);
    let a = cache.get_or_synthesize(&voice, "Goodbye.").unwrap();
    let b = cache.get_or_synthesize(&voice, " Goodbye. ").unwrap();
    assert!(
        Arc::ptr_eq(&a, &b),
        "the same audio is shared, not re-synthesised"
    );
    assert_eq!(cache.stats(), (2, 0));
    assert!(seconds(&a, 8000) > 0.3);
}

#[test]
fn mandarin_pinyin_reads_numbers_and_heteronyms() {
    let g2p = kokoro().g2p();
    let pinyin = |text: &str| -> String {
        g2p.pinyin(text)
            .into_iter()
            .map(|(_, syllables)| syllables.join(" "))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert_eq!(
        pinyin("我有5年开发经验"),
        "wo3 | you3 | wu3 nian2 | kai1 fa1 | jing1 yan4"
    );
    assert_eq!(
        pinyin("期望薪资2万5"),
        "qi1 wang4 | xin1 zi1 | liang3 wan4 wu3"
    );
    assert_eq!(pinyin("月薪15000"), "yue4 xin1 | yi1 wan4 wu3 qian1");
    // The per-character table alone would say yín xíng and zhǎng.
    assert_eq!(pinyin("银行"), "yin2 hang2");
    assert_eq!(pinyin("多长时间"), "duo1 chang2 shi2 jian1");
    assert_eq!(pinyin("了解"), "liao3 jie3");
}

#[test]
fn mandarin_phonemes_follow_misaki() {
    let g2p = MandarinG2p::new();
    assert_eq!(g2p.phonemes("你好。").unwrap(), "ni↓xau↓.");
    assert_eq!(g2p.phonemes("好的，谢谢！").unwrap(), "xau↓ tɤ, ɕje↘ɕje!");
    assert_eq!(
        g2p.phonemes("下午2:30").unwrap(),
        "ɕja↘u↓ lja↓ŋtjɛ↓n sa→nʂɨ↗fə→n"
    );
    // Latin words go through espeak-ng's English when it is wired (the voice does).
    let with_english = kokoro().phonemes("会Java吗？").unwrap();
    assert!(with_english.contains("dʒˈɑːvə"), "{with_english}");
    assert!(MandarinG2p::new()
        .phonemes("会Java吗？")
        .unwrap()
        .starts_with("xwei↘ ma"));
}

#[test]
fn mandarin_sentence_has_speech_of_plausible_length_and_energy() {
    let text = "您好，请问您有几年的开发经验？";
    let chunks: Vec<_> = tts::synthesize_stream(mandarin(), text, 8000)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The first clause streams first.
    assert_eq!(chunks[0].text, "您好，");
    let audio: Vec<i16> = chunks
        .iter()
        .flat_map(|c| c.samples.iter().copied())
        .collect();
    let secs = seconds(&audio, 8000);
    // 14 syllables at 3–6 a second.
    assert!((2.0..6.0).contains(&secs), "{secs:.2} s");
    let (rms, voiced) = loudness(&audio, 8000);
    assert!(rms > 2000.0, "speech RMS {rms:.0}");
    assert!((0.5..0.98).contains(&voiced), "voiced share {voiced:.2}");
    assert_eq!(mandarin().sample_rate(), 24000);
}
