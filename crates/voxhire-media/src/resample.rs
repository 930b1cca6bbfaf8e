//! Sample-rate conversion with `rubato`'s FFT resampler.
//!
//! The rates in play are fixed for a stream (a WAV file's rate or a TTS engine's
//! 16/22.05/24 kHz to the call's 8 kHz, the call's 8 kHz to an ASR model's 16 kHz),
//! so the synchronous `Fft` resampler fits: band-limited and cheap. Its start-up
//! delay is trimmed so output sample n lines up with input sample n × ratio, and
//! [`Resampler::flush`] pads the tail with silence so nothing is lost at the end.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{audioadapter_buffers, Fft, FixedSync, Indexing, Resampler as _};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ResampleError {
    #[error("cannot resample {from} Hz to {to} Hz: {source}")]
    Construction {
        from: u32,
        to: u32,
        source: rubato::ResamplerConstructionError,
    },
    #[error("resampling failed: {0}")]
    Process(#[from] rubato::ResampleError),
    #[error("resampler buffer: {0}")]
    Buffer(#[from] audioadapter_buffers::SizeError),
}

/// Resamples a whole buffer of mono `f32` samples.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, ResampleError> {
    let mut resampler = Resampler::new(from_hz, to_hz)?;
    let mut out = resampler.process(samples)?;
    out.extend(resampler.flush()?);
    Ok(out)
}

/// Resamples a whole buffer of mono 16-bit samples.
pub fn resample_i16(samples: &[i16], from_hz: u32, to_hz: u32) -> Result<Vec<i16>, ResampleError> {
    Ok(to_i16(&resample(&to_f32(samples), from_hz, to_hz)?))
}

/// Converts 16-bit PCM to floats in [-1, 1).
pub fn to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| f32::from(s) / 32768.0).collect()
}

/// Converts floats to 16-bit PCM, clipping out-of-range values.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    // The float-to-int `as` cast saturates, which is the clipping wanted here.
    samples
        .iter()
        .map(|&s| (s * 32768.0).round() as i16)
        .collect()
}

/// Streaming mono resampler: feed chunks of any length, then [`flush`](Self::flush).
pub struct Resampler {
    /// `None` when the rates are equal and samples pass through.
    inner: Option<Fft<f32>>,
    /// Input not yet processed (less than one resampler chunk).
    pending: Vec<f32>,
    /// Output frames still to discard: the resampler's start-up delay.
    to_trim: usize,
    ratio: f64,
    consumed: u64,
    produced: u64,
}

/// Input chunk: 20 ms at the input rate keeps the added latency at one frame.
const CHUNK_PER_SECOND: u32 = 50;

impl Resampler {
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, ResampleError> {
        let inner = if from_hz == to_hz {
            None
        } else {
            let chunk = usize::try_from((from_hz / CHUNK_PER_SECOND).max(1)).unwrap_or(1);
            let to_usize = |hz: u32| usize::try_from(hz).unwrap_or(usize::MAX);
            let fft = Fft::new(
                to_usize(from_hz),
                to_usize(to_hz),
                chunk,
                1,
                FixedSync::Input,
            )
            .map_err(|source| ResampleError::Construction {
                from: from_hz,
                to: to_hz,
                source,
            })?;
            Some(fft)
        };
        Ok(Self {
            to_trim: inner.as_ref().map_or(0, |r| r.output_delay()),
            inner,
            pending: Vec::new(),
            ratio: f64::from(to_hz) / f64::from(from_hz),
            consumed: 0,
            produced: 0,
        })
    }

    /// Resamples a chunk; returns what is ready (possibly nothing yet).
    pub fn process(&mut self, input: &[f32]) -> Result<Vec<f32>, ResampleError> {
        self.consumed += input.len() as u64;
        let Some(inner) = &mut self.inner else {
            self.produced += input.len() as u64;
            return Ok(input.to_vec());
        };
        self.pending.extend_from_slice(input);
        let mut out = Vec::new();
        let mut offset = 0;
        while self.pending.len() - offset >= inner.input_frames_next() {
            let indexing = Indexing::new().input_offset(offset);
            offset += run(
                inner,
                &self.pending,
                Some(&indexing),
                &mut out,
                &mut self.to_trim,
            )?;
        }
        self.pending.drain(..offset);
        self.produced += out.len() as u64;
        Ok(out)
    }

    /// Resamples a chunk of 16-bit samples.
    pub fn process_i16(&mut self, input: &[i16]) -> Result<Vec<i16>, ResampleError> {
        Ok(to_i16(&self.process(&to_f32(input))?))
    }

    /// Drains the resampler: the rest of the input, and its delay line filled with
    /// silence, so the total output is `input length × ratio` (rounded up). The
    /// resampler is then ready for a new stream.
    pub fn flush(&mut self) -> Result<Vec<f32>, ResampleError> {
        let expected = (self.consumed as f64 * self.ratio).ceil() as u64;
        let mut out = Vec::new();
        if let Some(inner) = &mut self.inner {
            let mut partial = Some(self.pending.len());
            while self.produced + (out.len() as u64) < expected {
                // The first pass takes the pending tail, the following ones silence.
                let len = partial.take().unwrap_or(0);
                let indexing = Indexing::new().partial_len(len);
                run(
                    inner,
                    &self.pending,
                    Some(&indexing),
                    &mut out,
                    &mut self.to_trim,
                )?;
            }
            out.truncate(usize::try_from(expected - self.produced).unwrap_or(usize::MAX));
            inner.reset();
            self.to_trim = inner.output_delay();
        }
        self.pending.clear();
        self.consumed = 0;
        self.produced = 0;
        Ok(out)
    }

    /// Flushes, converting to 16-bit samples.
    pub fn flush_i16(&mut self) -> Result<Vec<i16>, ResampleError> {
        Ok(to_i16(&self.flush()?))
    }
}

/// Runs one resampler chunk, appends its output minus any start-up delay still to
/// trim, and returns the input frames consumed.
fn run(
    inner: &mut Fft<f32>,
    input: &[f32],
    indexing: Option<&Indexing>,
    out: &mut Vec<f32>,
    to_trim: &mut usize,
) -> Result<usize, ResampleError> {
    let mut chunk = vec![0.0; inner.output_frames_max()];
    let buffer_in = InterleavedSlice::new(input, 1, input.len())?;
    let frames_out = chunk.len();
    let mut buffer_out = InterleavedSlice::new_mut(&mut chunk, 1, frames_out)?;
    let (consumed, produced) = inner.process_into_buffer(&buffer_in, &mut buffer_out, indexing)?;
    let trim = (*to_trim).min(produced);
    *to_trim -= trim;
    out.extend_from_slice(&chunk[trim..produced]);
    Ok(consumed)
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("ratio", &self.ratio)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// Frequency from zero crossings, away from the edges.
    fn frequency(x: &[f32], rate: u32) -> f64 {
        let body = &x[x.len() / 10..x.len() * 9 / 10];
        let crossings = body
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        crossings as f64 * f64::from(rate) / body.len() as f64
    }

    #[test]
    fn a_1khz_sine_keeps_its_frequency_and_energy_from_22050_to_8000() {
        let input = sine(1000.0, 22_050, 1.0);
        let out = resample(&input, 22_050, 8000).unwrap();
        assert_eq!(out.len(), 8000);
        let f = frequency(&out, 8000);
        assert!((f - 1000.0).abs() < 5.0, "frequency {f}");
        let (a, b) = (rms(&input), rms(&out[400..7600]));
        assert!((a - b).abs() / a < 0.02, "rms {a} vs {b}");
        // The start-up delay is trimmed: the output lines up with the input to within
        // a fraction of a sample (the FFT resampler's delay is not a whole number).
        let expected = sine(1000.0, 8000, 1.0);
        let misfit = |lag: isize| {
            (400..7600)
                .map(|i: isize| (out[i as usize] - expected[(i + lag) as usize]).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(misfit(0) < 0.1 && misfit(0) < misfit(-1) && misfit(0) < misfit(1));
    }

    #[test]
    fn streaming_in_odd_chunks_matches_whole_buffer() {
        let input = sine(440.0, 16_000, 0.5);
        let whole = resample(&input, 16_000, 8000).unwrap();
        let mut r = Resampler::new(16_000, 8000).unwrap();
        let mut streamed = Vec::new();
        for chunk in input.chunks(77) {
            streamed.extend(r.process(chunk).unwrap());
        }
        streamed.extend(r.flush().unwrap());
        assert_eq!(streamed.len(), 4000);
        let max_diff = whole
            .iter()
            .zip(&streamed)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "{max_diff}");
        // After a flush the resampler starts a fresh stream.
        streamed.clear();
        streamed.extend(r.process(&input).unwrap());
        streamed.extend(r.flush().unwrap());
        assert_eq!(streamed.len(), 4000);
    }

    #[test]
    fn upsampling_and_identity() {
        let pcm: Vec<i16> = (0..1600)
            .map(|i| ((i % 40) * 500 - 10_000) as i16)
            .collect();
        assert_eq!(resample_i16(&pcm, 8000, 8000).unwrap(), pcm);
        assert_eq!(resample_i16(&pcm, 8000, 16_000).unwrap().len(), 3200);
        assert_eq!(resample_i16(&[], 8000, 16_000).unwrap(), Vec::<i16>::new());
        assert!(matches!(
            resample(&[0.0], 0, 8000),
            Err(ResampleError::Construction { .. })
        ));
    }

    #[test]
    fn i16_conversion_clips() {
        assert_eq!(to_i16(&[1.5, -1.5, 0.5]), [i16::MAX, i16::MIN, 16384]);
        assert_eq!(to_f32(&[i16::MIN]), [-1.0]);
    }
}
