//! `voxhire transcribe` on real audio with the real models: English and Mandarin
//! clips of the ASR test set (tests/speech/asr/, G.711 through a phone line),
//! WAV files of several layouts, and a broken file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn clip(id: &str) -> Vec<i16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/speech/asr/{id}.ulaw"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    voxhire_media::g711::decode_ulaw(&bytes)
}

/// Writes `audio` (8 kHz) as a WAV of `rate` Hz and `channels` channels.
fn write_wav(dir: &Path, name: &str, audio: &[i16], rate: u32, channels: u16) -> PathBuf {
    let audio = voxhire_media::resample::resample_i16(audio, 8000, rate).unwrap();
    let path = dir.join(name);
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in audio {
        for _ in 0..channels {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
    path
}

fn transcribe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_voxhire"))
        .arg("transcribe")
        .args(args)
        .output()
        .expect("run voxhire")
}

fn json_line(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "voxhire transcribe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stdout:?}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn english_wideband_stereo_as_json() {
    let dir = tempfile::tempdir().unwrap();
    // en-09: "Please don't call me again." as 44.1 kHz stereo.
    let wav = write_wav(dir.path(), "stereo.wav", &clip("en-09"), 44_100, 2);
    let v = json_line(&transcribe(&[
        wav.to_str().unwrap(),
        "--lang",
        "en",
        "--json",
    ]));
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{v}");
    let text = v["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("don't call me again"), "{v}");
    assert_eq!(v["language"], "en");
    assert!(v["decode_ms"].as_u64().is_some());
    let segments = v["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 1, "{v}");
    let s = &segments[0];
    assert!(s["start_ms"].as_u64().unwrap() < s["end_ms"].as_u64().unwrap());
    assert!(s["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(s.as_object().unwrap().len(), 4);
}

#[test]
fn two_answers_in_one_file_are_two_segments_auto_language() {
    let dir = tempfile::tempdir().unwrap();
    // zh-08 "请不要再给我打电话了。", 1.5 s of silence, zh-09 "我在上海工作了三年。"
    let mut audio = clip("zh-08");
    audio.extend(std::iter::repeat_n(0i16, 12_000));
    audio.extend(clip("zh-09"));
    let wav = write_wav(dir.path(), "two.wav", &audio, 16_000, 1);
    let v = json_line(&transcribe(&[wav.to_str().unwrap(), "--json"]));
    assert_eq!(v["language"], "zh", "{v}");
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("打电话") && text.contains("上海"), "{v}");
    let segments = v["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "{v}");
    assert!(segments[1]["start_ms"].as_u64() > segments[0]["end_ms"].as_u64());
}

#[test]
fn hotwords_make_the_names_given_likelier() {
    // zh-dev-036 of the held-out set: "Spring Cloud和Kubernetes" over a phone line.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/speech/heldout/zh-dev-036.ulaw");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dir = tempfile::tempdir().unwrap();
    let wav = write_wav(
        dir.path(),
        "skills.wav",
        &voxhire_media::g711::decode_ulaw(&bytes),
        8000,
        1,
    );
    let heard = |extra: &[&str]| {
        let mut args = vec![wav.to_str().unwrap(), "--lang", "zh"];
        args.extend_from_slice(extra);
        let out = transcribe(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = heard(&[]);
    assert!(!plain.contains("Spring Cloud"), "{plain}");
    // Every name of the skills taxonomy, as a call's skills question boosts them.
    let skills = heard(&["--hotwords", "skills"]);
    assert!(
        skills.contains("Spring Cloud") && skills.contains("Kubernetes"),
        "{skills}"
    );
    // A list of one's own (names sharing a first token add their entry bonuses).
    let listed = heard(&["--hotwords", "Spring, Spring Boot, Spring Cloud"]);
    assert!(listed.contains("Spring Cloud"), "{listed}");
}

#[test]
fn plain_text_output_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let wav = write_wav(dir.path(), "a.wav", &clip("en-07"), 8000, 1);
    let out = transcribe(&[wav.to_str().unwrap(), "--lang", "en"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.to_lowercase().contains("two weeks"), "{text:?}");

    // The same clip as a mu-law WAV (format 7), as PBXs record calls.
    let ulaw = voxhire_media::g711::encode_ulaw(&clip("en-07"));
    let mut riff = Vec::new();
    riff.extend_from_slice(b"RIFF");
    riff.extend_from_slice(&(4 + 8 + 18 + 8 + ulaw.len() as u32).to_le_bytes());
    riff.extend_from_slice(b"WAVEfmt ");
    riff.extend_from_slice(&18u32.to_le_bytes());
    for v in [7u16, 1] {
        riff.extend_from_slice(&v.to_le_bytes());
    }
    riff.extend_from_slice(&8000u32.to_le_bytes());
    riff.extend_from_slice(&8000u32.to_le_bytes());
    for v in [1u16, 8, 0] {
        riff.extend_from_slice(&v.to_le_bytes());
    }
    riff.extend_from_slice(b"data");
    riff.extend_from_slice(&(ulaw.len() as u32).to_le_bytes());
    riff.extend_from_slice(&ulaw);
    let ulaw_wav = dir.path().join("ulaw.wav");
    std::fs::write(&ulaw_wav, riff).unwrap();
    let v = json_line(&transcribe(&[
        ulaw_wav.to_str().unwrap(),
        "--lang",
        "en",
        "--json",
    ]));
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("two weeks"),
        "{v}"
    );

    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF\x10\x00\x00\x00WAVEjunkjunk").unwrap();
    let out = transcribe(&[bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.wav") && err.contains("cannot transcribe"),
        "{err}"
    );

    let out = transcribe(&[dir.path().join("missing.wav").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.wav"));

    let out = transcribe(&[wav.to_str().unwrap(), "--lang", "fr"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("auto, en or zh"));
}
