//! Self-test of the speech detector used by the SIPp tests
//! (`common::audio::locate`): no network, no voxhire. It proves the threshold
//! accepts the candidate sentence after a PCMU leg with loss and a time warp,
//! and rejects a different sentence (the agent greeting), the same voice
//! played backwards, silence and noise. Run with `--nocapture` to see the
//! figures.

mod common;

use common::audio::{
    locate, read_wav, ulaw_decode, ulaw_round_trip, SpeechMatch, RATE, SAME_SPEECH_MIN_SEGMENT_CORR,
};
use common::audio_fixture;

struct XorShift(u64);
impl XorShift {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

fn mono(name: &str) -> Vec<f32> {
    let wav = read_wav(&audio_fixture(name));
    assert_eq!(wav.rate, RATE, "{name} must be 8 kHz");
    assert_eq!(wav.channels.len(), 1, "{name} must be mono");
    wav.channels.into_iter().next().unwrap()
}

fn silence(seconds: f64) -> Vec<f32> {
    vec![0.0; (seconds * RATE as f64) as usize]
}

/// What a decent voxhire recording of the candidate looks like: PCMU, a late
/// start, 2 % of 20 ms packets lost (concealed as silence), a 60 ms stall in
/// the middle (jitter-buffer time warp), background noise at -50 dBFS.
fn degraded(x: &[f32], seed: u64) -> Vec<f32> {
    let mut rng = XorShift(seed);
    let mut out = silence(0.35);
    let pcmu = ulaw_round_trip(x);
    for (i, packet) in pcmu.chunks(160).enumerate() {
        if i == 150 {
            out.extend(silence(0.06));
        }
        if rng.next_f32().abs() < 0.02 {
            out.extend(std::iter::repeat_n(0.0, packet.len()));
        } else {
            out.extend_from_slice(packet);
        }
    }
    out.extend(silence(1.0));
    let noise = 10f32.powf(-50.0 / 20.0) * 3f32.sqrt();
    out.iter().map(|s| s + noise * rng.next_f32()).collect()
}

fn show(label: &str, m: &SpeechMatch) {
    eprintln!("{label:<46} {m}");
}

#[test]
fn detector_accepts_the_candidate_and_rejects_everything_else() {
    let candidate = mono("candidate-en.wav");
    let agent = mono("agent-en.wav");
    let max_lag = 1.0;

    // Positive cases.
    let mut clean = silence(0.3);
    clean.extend(ulaw_round_trip(&candidate));
    clean.extend(silence(1.0));
    let m_clean = locate(&candidate, &clean, RATE, max_lag);
    show("candidate via PCMU, +300 ms", &m_clean);
    let m_degraded = locate(&candidate, &degraded(&candidate, 7), RATE, max_lag);
    show("candidate via PCMU, loss + stall + noise", &m_degraded);
    let mut cut = ulaw_round_trip(&candidate[4000..]); // first 0.5 s missing
    cut.extend(silence(0.5));
    let m_cut = locate(&candidate, &cut, RATE, max_lag);
    show("candidate with first 500 ms cut off", &m_cut);

    let m_agent = locate(&candidate, &degraded(&agent, 11), RATE, max_lag);
    show("agent greeting (different sentence+voice)", &m_agent);
    let reversed: Vec<f32> = candidate.iter().rev().copied().collect();
    let m_rev = locate(&candidate, &degraded(&reversed, 13), RATE, max_lag);
    show("candidate played backwards", &m_rev);
    let m_silence = locate(&candidate, &silence(8.0), RATE, max_lag);
    show("digital silence", &m_silence);
    let mut rng = XorShift(99);
    let noise: Vec<f32> = (0..8 * RATE).map(|_| 0.1 * rng.next_f32()).collect();
    let m_noise = locate(&candidate, &noise, RATE, max_lag);
    show("white noise", &m_noise);
    // The reverse direction too: the agent greeting is not in a candidate recording.
    let m_agent_in_cand = locate(&agent, &degraded(&candidate, 17), RATE, max_lag);
    show("agent searched in a candidate recording", &m_agent_in_cand);

    assert!(
        m_clean.envelope_corr > 0.99 && m_clean.sample_corr > 0.99,
        "{m_clean}"
    );
    assert!((m_clean.lag_ms - 300.0).abs() <= 10.0, "lag {m_clean}");
    assert_eq!(m_clean.sample_lag, 2400, "{m_clean}");
    for m in [&m_degraded, &m_cut] {
        assert!(m.segment_corr >= SAME_SPEECH_MIN_SEGMENT_CORR, "{m}");
    }
    assert!((m_cut.lag_ms + 500.0).abs() <= 10.0, "lag {m_cut}");

    // Negative cases: all must fall clearly below the threshold.
    for (label, m) in [
        ("agent", m_agent),
        ("reversed", m_rev),
        ("silence", m_silence),
        ("noise", m_noise),
        ("agent-in-candidate", m_agent_in_cand),
    ] {
        assert!(
            m.segment_corr < SAME_SPEECH_MIN_SEGMENT_CORR - 0.15,
            "{label} must be far below the threshold {SAME_SPEECH_MIN_SEGMENT_CORR}: {m}"
        );
    }
}

#[test]
fn ulaw_fixtures_match_their_wavs() {
    // The raw µ-law files SIPp streams (rtp_stream) are the WAVs, encoded.
    for name in ["candidate-en", "agent-en"] {
        let wav = mono(&format!("{name}.wav"));
        let raw = std::fs::read(audio_fixture(&format!("{name}.ulaw"))).expect("read .ulaw");
        assert_eq!(
            raw.len() % 160,
            0,
            "{name}.ulaw must be whole 20 ms packets"
        );
        assert!(raw.len() >= wav.len() && raw.len() < wav.len() + 160);
        let decoded: Vec<f32> = raw
            .iter()
            .map(|&b| ulaw_decode(b) as f32 / 32768.0)
            .collect();
        let m = locate(&wav, &decoded, RATE, 0.1);
        show(&format!("{name}.ulaw vs {name}.wav"), &m);
        assert!(m.sample_corr > 0.999 && m.sample_lag == 0, "{name}: {m}");
    }
}

#[test]
fn g711_ulaw_reference_points() {
    // ITU-T G.711 table values.
    assert_eq!(ulaw_decode(0xFF), 0);
    assert_eq!(ulaw_decode(0x7F), 0);
    assert_eq!(ulaw_decode(0x80), 32124);
    assert_eq!(ulaw_decode(0x00), -32124);
    assert_eq!(common::audio::ulaw_encode(0), 0xFF);
    for s in (-32768i32..32768).step_by(7) {
        let s = s as i16;
        let back = ulaw_decode(common::audio::ulaw_encode(s)) as i32;
        let err = (back - s as i32).abs();
        assert!(err <= (s as i32).abs() / 16 + 8, "{s} -> {back}");
    }
}
