//! Does a recording contain a given sentence? Two measures:
//!
//! * **envelope correlation**: 10 ms RMS frames of reference and recording,
//!   Pearson correlation at every frame offset where at most `max_lag` of the
//!   reference hangs off either end of the recording; the best offset wins.
//!   Robust to G.711, resampling, gain, small time warps from a jitter buffer.
//! * **sample correlation**: normalised cross-correlation of the waveforms
//!   around the best envelope offset (±2 frames). Near 1.0 for a bit-exact
//!   µ-law path; lower if the pipeline resamples or warps time.
//!
//! `tests/audio_match.rs` proves these separate the right sentence from a
//! different sentence, silence and noise.

use std::path::Path;

/// 8 kHz is what every recording in the contract uses.
pub const RATE: u32 = 8000;
pub const FRAME_MS: u32 = 10;

/// A WAV file as f32 samples in [-1, 1], one Vec per channel.
pub struct Wav {
    pub rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Wav {
    pub fn duration_s(&self) -> f64 {
        self.channels.first().map(|c| c.len()).unwrap_or(0) as f64 / self.rate as f64
    }
}

pub fn read_wav(path: &Path) -> Wav {
    let mut reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("cannot read WAV {}: {e}", path.display()));
    let spec = reader.spec();
    let n = spec.channels as usize;
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .samples::<i16>()
            .map(|s| s.expect("WAV sample") as f32 / 32768.0)
            .collect(),
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.expect("WAV sample"))
            .collect(),
        other => panic!(
            "{}: unsupported WAV sample format {other:?}",
            path.display()
        ),
    };
    let mut channels = vec![Vec::with_capacity(interleaved.len() / n.max(1)); n];
    for (i, s) in interleaved.into_iter().enumerate() {
        channels[i % n].push(s);
    }
    Wav {
        rate: spec.sample_rate,
        channels,
    }
}

pub fn write_wav_mono(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create WAV");
    for &s in samples {
        w.write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
            .expect("write WAV");
    }
    w.finalize().expect("finalize WAV");
}

/// ITU-T G.711 µ-law encoder (the classic Sun reference algorithm).
pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut x = sample as i32;
    let sign = if x < 0 {
        x = -x;
        0x80
    } else {
        0
    };
    x = x.min(CLIP) + BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && x & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (x >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

pub fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// What a PCMU leg does to audio.
pub fn ulaw_round_trip(x: &[f32]) -> Vec<f32> {
    x.iter()
        .map(|&s| {
            let q = (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
            ulaw_decode(ulaw_encode(q)) as f32 / 32768.0
        })
        .collect()
}

/// RMS level in dBFS (-inf for digital silence).
pub fn rms_dbfs(x: &[f32]) -> f64 {
    if x.is_empty() {
        return f64::NEG_INFINITY;
    }
    let ms = x.iter().map(|&s| (s as f64) * (s as f64)).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

/// RMS of consecutive `FRAME_MS` frames.
pub fn rms_envelope(x: &[f32], rate: u32) -> Vec<f64> {
    let frame = (rate * FRAME_MS / 1000) as usize;
    x.chunks(frame)
        .filter(|c| c.len() == frame)
        .map(|c| (c.iter().map(|&s| (s as f64) * (s as f64)).sum::<f64>() / frame as f64).sqrt())
        .collect()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    // A flat (silent or constant) segment carries no evidence of speech.
    if saa < 1e-12 || sbb < 1e-12 {
        return 0.0;
    }
    sab / (saa * sbb).sqrt()
}

/// Where (and how well) `reference` appears in `recording`.
#[derive(Clone, Copy, Debug)]
pub struct SpeechMatch {
    /// Best Pearson correlation of the 10 ms RMS envelopes, in [-1, 1].
    pub envelope_corr: f64,
    /// Mean envelope correlation of the reference's 1 s pieces, each allowed
    /// to slide ±`SEGMENT_SLACK_MS` around the best global lag: tolerates the
    /// time warps a jitter buffer introduces (stalls, drops).
    pub segment_corr: f64,
    /// Start of the reference in the recording, ms (negative: cut off).
    pub lag_ms: f64,
    /// Best normalised waveform cross-correlation near that lag.
    pub sample_corr: f64,
    /// Start of the reference in the recording, samples (waveform lag).
    pub sample_lag: i64,
}

impl std::fmt::Display for SpeechMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "envelope corr {:.3} at {:+.0} ms, segments {:.3}, sample corr {:.3} at {:+} samples",
            self.envelope_corr, self.lag_ms, self.segment_corr, self.sample_corr, self.sample_lag
        )
    }
}

pub const SEGMENT_MS: i64 = 1000;
pub const SEGMENT_SLACK_MS: i64 = 200;

/// See [`SpeechMatch::segment_corr`]. Segments of the reference that are
/// nearly silent (mean RMS under a quarter of the utterance's) are skipped.
fn segmental(er: &[f64], ex: &[f64], lag: i64) -> f64 {
    let seg = (SEGMENT_MS / FRAME_MS as i64) as usize;
    let slack = SEGMENT_SLACK_MS / FRAME_MS as i64;
    let mean_all = er.iter().sum::<f64>() / er.len().max(1) as f64;
    let (mut sum, mut count, mut voiced) = (0.0, 0usize, 0usize);
    for (idx, chunk) in er.chunks(seg).enumerate() {
        if chunk.len() < seg / 2
            || chunk.iter().sum::<f64>() / (chunk.len() as f64) < 0.25 * mean_all
        {
            continue;
        }
        voiced += 1;
        let start = (idx * seg) as i64;
        let mut best = None::<f64>;
        for k in (lag - slack)..=(lag + slack) {
            let b0 = start + k;
            let b1 = b0 + chunk.len() as i64;
            if b0 < 0 || b1 > ex.len() as i64 {
                continue;
            }
            let c = pearson(chunk, &ex[b0 as usize..b1 as usize]);
            best = Some(best.map_or(c, |b: f64| b.max(c)));
        }
        // A piece that lies outside the recording (cut off) is not evidence
        // either way; the global search already bounds how much may be missing.
        if let Some(b) = best {
            sum += b;
            count += 1;
        }
    }
    if count == 0 || count * 2 < voiced {
        0.0
    } else {
        sum / count as f64
    }
}

/// Finds `reference` in `recording` (both at `rate`). At most `max_lag_s` of
/// the reference may fall outside the recording at either end.
pub fn locate(reference: &[f32], recording: &[f32], rate: u32, max_lag_s: f64) -> SpeechMatch {
    let er = rms_envelope(reference, rate);
    let ex = rms_envelope(recording, rate);
    let frame = (rate * FRAME_MS / 1000) as i64;
    let r = er.len() as i64;
    let n = ex.len() as i64;
    let max_lag = (max_lag_s * 1000.0 / FRAME_MS as f64).round() as i64;
    let min_overlap = (r - max_lag).max(r / 2).max(2);

    let mut best = (f64::MIN, 0i64);
    for k in -max_lag..=(n - r + max_lag) {
        let i0 = (-k).max(0);
        let i1 = r.min(n - k);
        if i1 - i0 < min_overlap {
            continue;
        }
        let a = &er[i0 as usize..i1 as usize];
        let b = &ex[(i0 + k) as usize..(i1 + k) as usize];
        let c = pearson(a, b);
        if c > best.0 {
            best = (c, k);
        }
    }
    if best.0 == f64::MIN {
        return SpeechMatch {
            envelope_corr: 0.0,
            segment_corr: 0.0,
            lag_ms: 0.0,
            sample_corr: 0.0,
            sample_lag: 0,
        };
    }

    // Waveform correlation within ±2 frames of the envelope lag.
    let center = best.1 * frame;
    let mut best_s = (f64::MIN, center);
    for s in (center - 2 * frame)..=(center + 2 * frame) {
        let i0 = (-s).max(0) as usize;
        let i1 = (reference.len() as i64)
            .min(recording.len() as i64 - s)
            .max(0) as usize;
        if i1 <= i0 + 1 {
            continue;
        }
        let (mut sxy, mut sxx, mut syy) = (0.0f64, 0.0f64, 0.0f64);
        for i in i0..i1 {
            let x = reference[i] as f64;
            let y = recording[(i as i64 + s) as usize] as f64;
            sxy += x * y;
            sxx += x * x;
            syy += y * y;
        }
        let c = if sxx > 1e-12 && syy > 1e-12 {
            sxy / (sxx * syy).sqrt()
        } else {
            0.0
        };
        if c > best_s.0 {
            best_s = (c, s);
        }
    }

    let segment_corr = segmental(&er, &ex, best.1);

    SpeechMatch {
        envelope_corr: best.0,
        segment_corr,
        lag_ms: (best.1 * FRAME_MS as i64) as f64,
        sample_corr: best_s.0.max(0.0),
        sample_lag: best_s.1,
    }
}

/// Minimum [`SpeechMatch::segment_corr`] for "this recording contains that
/// sentence". Calibrated by tests/audio_match.rs (measured figures there).
pub const SAME_SPEECH_MIN_SEGMENT_CORR: f64 = 0.75;
