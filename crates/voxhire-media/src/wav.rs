//! WAV input for prompts and test audio, WAV output for call recordings (`hound`).
//!
//! [`read_wav_mono`] accepts what people actually have lying around: any sample rate,
//! any channel count (downmixed), 8/16/24/32-bit integer and 32-bit float.
//! [`WavWriter`] writes 16-bit PCM at 8 kHz incrementally to `<name>.partial` and
//! renames it into place on [`WavWriter::finalize`] after an fsync, so a finished
//! recording is either complete or absent, never half-written. Written to a
//! [`WavSink`] instead (an encrypting stream, which cannot seek back), the
//! header says "length unknown" ([`STREAMING_LEN`]) and a reader that knows
//! the length puts it in with [`set_header_len`].

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavSpec};
use thiserror::Error;

use crate::resample::{self, ResampleError};
use crate::PCM_RATE;

#[derive(Debug, Error)]
pub enum WavError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a readable WAV file: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("{}: WAV file holds no audio", path.display())]
    Empty { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Resample {
        path: PathBuf,
        source: ResampleError,
    },
    #[error("{}: writing {given}-channel audio to a {expected}-channel recording", path.display())]
    ChannelMismatch {
        path: PathBuf,
        expected: u16,
        given: u16,
    },
}

impl WavError {
    fn from_hound(path: &Path, err: hound::Error) -> Self {
        let path = path.to_owned();
        match err {
            hound::Error::IoError(source) => Self::Io { path, source },
            other => Self::Format {
                path,
                reason: other.to_string(),
            },
        }
    }
}

/// Reads a WAV file as mono 16-bit audio at `target_rate`.
pub fn read_wav_mono(path: impl AsRef<Path>, target_rate: u32) -> Result<Vec<i16>, WavError> {
    let path = path.as_ref();
    let hound_err = |e| WavError::from_hound(path, e);
    let mut reader = hound::WavReader::open(path).map_err(hound_err)?;
    let spec = reader.spec();
    let interleaved: Vec<f32> = match spec.sample_format {
        SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        SampleFormat::Int => {
            // hound returns integer samples sign-extended (8-bit made signed), so
            // full scale is 2^(bits-1) whatever the container width.
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect()
        }
    }
    .map_err(hound_err)?;

    let channels = usize::from(spec.channels.max(1));
    if interleaved.len() < channels {
        return Err(WavError::Empty {
            path: path.to_owned(),
        });
    }
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    let resampled = resample::resample(&mono, spec.sample_rate, target_rate).map_err(|source| {
        WavError::Resample {
            path: path.to_owned(),
            source,
        }
    })?;
    Ok(resample::to_i16(&resampled))
}

/// Channel layout of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavChannels {
    Mono,
    /// Left = agent, right = candidate.
    Stereo,
}

/// Where a streamed recording's bytes go: written in order, never
/// revisited. `finish` completes and syncs it.
pub trait WavSink: std::io::Write + Send {
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

/// The RIFF and data sizes a streamed header carries: "unknown" (as
/// streaming WAV writers such as ffmpeg's and sox's write them).
pub const STREAMING_LEN: u32 = u32::MAX;
/// The canonical PCM header's length.
pub const HEADER_LEN: usize = 44;

/// A 16-bit 8 kHz PCM header for `data_len` bytes of samples.
pub fn header(channels: u16, data_len: u32) -> [u8; HEADER_LEN] {
    let block = channels * 2;
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h[8..16].copy_from_slice(b"WAVEfmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&PCM_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(PCM_RATE * u32::from(block)).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

/// Puts the real sizes into a streamed recording's header, given the whole
/// file's length. Leaves anything that is not such a header alone.
pub fn set_header_len(head: &mut [u8], file_len: u64) {
    if head.len() < HEADER_LEN || &head[0..4] != b"RIFF" || &head[36..40] != b"data" {
        return;
    }
    let data =
        u32::try_from(file_len.saturating_sub(HEADER_LEN as u64)).unwrap_or(STREAMING_LEN - 36);
    head[4..8].copy_from_slice(&data.saturating_add(36).to_le_bytes());
    head[40..44].copy_from_slice(&data.to_le_bytes());
}

/// An 8 kHz 16-bit recording being written.
pub struct WavWriter {
    out: Out,
    channels: u16,
    partial: PathBuf,
    path: PathBuf,
}

enum Out {
    /// A file of its own, its header kept current (a crash leaves a valid WAV).
    File(hound::WavWriter<BufWriter<File>>),
    /// A sink: PCM appended after a streaming header, frame by frame.
    Sink(Box<dyn WavSink>, Vec<u8>),
}

impl WavWriter {
    /// Starts a recording that will appear at `path` when finalised.
    pub fn create(path: impl AsRef<Path>, layout: WavChannels) -> Result<Self, WavError> {
        let path = path.as_ref().to_owned();
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let channels = match layout {
            WavChannels::Mono => 1,
            WavChannels::Stereo => 2,
        };
        let spec = WavSpec {
            channels,
            sample_rate: PCM_RATE,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let inner = hound::WavWriter::create(&partial, spec)
            .map_err(|e| WavError::from_hound(&partial, e))?;
        Ok(Self {
            out: Out::File(inner),
            channels,
            partial,
            path,
        })
    }

    /// Starts a recording streamed into `sink`, which writes to `partial`;
    /// [`WavWriter::finalize`] finishes the sink and renames `partial` to
    /// `path`.
    pub fn to_sink(
        path: impl AsRef<Path>,
        partial: impl AsRef<Path>,
        layout: WavChannels,
        mut sink: Box<dyn WavSink>,
    ) -> Result<Self, WavError> {
        let channels = match layout {
            WavChannels::Mono => 1,
            WavChannels::Stereo => 2,
        };
        let partial = partial.as_ref().to_owned();
        sink.write_all(&header(channels, STREAMING_LEN))
            .map_err(|source| WavError::Io {
                path: partial.clone(),
                source,
            })?;
        Ok(Self {
            out: Out::Sink(sink, Vec::with_capacity(1280)),
            channels,
            partial,
            path: path.as_ref().to_owned(),
        })
    }

    /// Appends mono samples.
    pub fn write_mono(&mut self, samples: &[i16]) -> Result<(), WavError> {
        self.expect_channels(1)?;
        samples.iter().try_for_each(|&s| self.write_sample(s))?;
        self.write_frame()
    }

    /// Appends a stereo block, left = agent and right = candidate. If one side is
    /// shorter it is padded with silence.
    pub fn write_stereo(&mut self, left: &[i16], right: &[i16]) -> Result<(), WavError> {
        self.expect_channels(2)?;
        for i in 0..left.len().max(right.len()) {
            self.write_sample(left.get(i).copied().unwrap_or(0))?;
            self.write_sample(right.get(i).copied().unwrap_or(0))?;
        }
        self.write_frame()
    }

    /// Writes buffered samples and updates the header, so the partial file is a
    /// valid WAV of everything written so far.
    pub fn flush(&mut self) -> Result<(), WavError> {
        match &mut self.out {
            Out::File(w) => w
                .flush()
                .map_err(|e| WavError::from_hound(&self.partial, e)),
            Out::Sink(sink, _) => sink.flush().map_err(|source| WavError::Io {
                path: self.partial.clone(),
                source,
            }),
        }
    }

    /// Completes the file, syncs it to disk and renames it to its final path.
    pub fn finalize(self) -> Result<PathBuf, WavError> {
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| WavError::Io { path, source }
        };
        match self.out {
            Out::File(w) => {
                w.finalize()
                    .map_err(|e| WavError::from_hound(&self.partial, e))?;
                File::open(&self.partial)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err(&self.partial))?;
            }
            Out::Sink(sink, _) => sink.finish().map_err(io_err(&self.partial))?,
        }
        std::fs::rename(&self.partial, &self.path).map_err(io_err(&self.path))?;
        // Persist the rename itself.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io_err(dir))?;
        }
        Ok(self.path)
    }

    fn write_sample(&mut self, sample: i16) -> Result<(), WavError> {
        match &mut self.out {
            Out::File(w) => w
                .write_sample(sample)
                .map_err(|e| WavError::from_hound(&self.partial, e)),
            Out::Sink(_, frame) => {
                frame.extend_from_slice(&sample.to_le_bytes());
                Ok(())
            }
        }
    }

    /// Hands a sink the frame's samples in one write.
    fn write_frame(&mut self) -> Result<(), WavError> {
        if let Out::Sink(sink, frame) = &mut self.out {
            sink.write_all(frame).map_err(|source| WavError::Io {
                path: self.partial.clone(),
                source,
            })?;
            frame.clear();
        }
        Ok(())
    }

    fn expect_channels(&self, given: u16) -> Result<(), WavError> {
        if given == self.channels {
            Ok(())
        } else {
            Err(WavError::ChannelMismatch {
                path: self.path.clone(),
                expected: self.channels,
                given,
            })
        }
    }
}

impl std::fmt::Debug for WavWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavWriter")
            .field("path", &self.path)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that keeps what it was given, as a file would.
    struct MemSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>, PathBuf);
    impl std::io::Write for MemSink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl WavSink for MemSink {
        fn finish(self: Box<Self>) -> std::io::Result<()> {
            std::fs::write(&self.1, &*self.0.lock().unwrap())
        }
    }

    #[test]
    fn a_streamed_recording_reads_back_once_its_sizes_are_put_in() {
        let dir = tempfile::tempdir().unwrap();
        let (path, partial) = (dir.path().join("r.wav"), dir.path().join("r.wav.partial"));
        let bytes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Box::new(MemSink(bytes.clone(), partial.clone()));
        let mut w = WavWriter::to_sink(&path, &partial, WavChannels::Stereo, sink).unwrap();
        w.write_stereo(&[1, 2, 3], &[-1, -2]).unwrap();
        w.write_stereo(&[4], &[-4]).unwrap();
        w.finalize().unwrap();
        let mut file = std::fs::read(&path).unwrap();
        assert_eq!(&file[40..44], &STREAMING_LEN.to_le_bytes());
        let len = file.len() as u64;
        set_header_len(&mut file, len);
        let mut r = hound::WavReader::new(std::io::Cursor::new(file)).unwrap();
        assert_eq!(r.spec().channels, 2);
        let got: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(got, [1, -1, 2, -2, 3, 0, 4, -4]);
    }

    fn write(path: &Path, spec: WavSpec, frames: usize, sample: impl Fn(usize, u16) -> f64) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames {
            for c in 0..spec.channels {
                let v = sample(i, c);
                match spec.sample_format {
                    SampleFormat::Float => w.write_sample(v as f32).unwrap(),
                    SampleFormat::Int => {
                        let full = f64::from(1u32 << (spec.bits_per_sample - 1));
                        w.write_sample((v * full).round().min(full - 1.0) as i32)
                            .unwrap()
                    }
                }
            }
        }
        w.finalize().unwrap();
    }

    fn tone(i: usize, rate: u32) -> f64 {
        0.5 * (2.0 * std::f64::consts::PI * 500.0 * i as f64 / f64::from(rate)).sin()
    }

    #[test]
    fn reads_every_supported_format_and_downmixes() {
        let dir = tempfile::tempdir().unwrap();
        let formats = [
            (8, SampleFormat::Int),
            (16, SampleFormat::Int),
            (24, SampleFormat::Int),
            (32, SampleFormat::Int),
            (32, SampleFormat::Float),
        ];
        for (bits, format) in formats {
            for (channels, rate) in [(1, 8000), (2, 44_100), (3, 16_000)] {
                let path = dir.path().join(format!("{bits}-{format:?}-{channels}.wav"));
                let spec = WavSpec {
                    channels,
                    sample_rate: rate,
                    bits_per_sample: bits,
                    sample_format: format,
                };
                // Channel 0 carries the tone, the others silence: the downmix divides
                // the tone by the channel count.
                write(&path, spec, rate as usize / 2, |i, c| {
                    if c == 0 {
                        tone(i, rate)
                    } else {
                        0.0
                    }
                });
                let pcm = read_wav_mono(&path, 8000).unwrap();
                assert_eq!(pcm.len(), 4000, "{path:?}");
                let peak = pcm[200..3800]
                    .iter()
                    .map(|s| s.unsigned_abs())
                    .max()
                    .unwrap();
                let expected = 16384.0 / f64::from(channels);
                assert!(
                    (f64::from(peak) - expected).abs() < expected * 0.03,
                    "{path:?}: peak {peak}"
                );
            }
        }
    }

    #[test]
    fn clear_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wav");
        let err = read_wav_mono(&missing, 8000).unwrap_err();
        assert!(matches!(err, WavError::Io { .. }));
        assert!(err.to_string().contains("missing.wav"));

        let text = dir.path().join("notes.wav");
        std::fs::write(&text, "this is not audio").unwrap();
        let err = read_wav_mono(&text, 8000).unwrap_err();
        assert!(matches!(err, WavError::Format { .. }), "{err}");
        assert!(err.to_string().contains("notes.wav"));

        let empty = dir.path().join("empty.wav");
        let spec = WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        write(&empty, spec, 0, |_, _| 0.0);
        let err = read_wav_mono(&empty, 8000).unwrap_err();
        assert!(matches!(err, WavError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("empty.wav"));
    }

    #[test]
    fn stereo_recording_is_written_incrementally_then_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recording.wav");
        let mut w = WavWriter::create(&path, WavChannels::Stereo).unwrap();
        w.write_stereo(&[1, 2, 3], &[-1, -2]).unwrap();
        assert!(matches!(
            w.write_mono(&[0]),
            Err(WavError::ChannelMismatch { .. })
        ));
        w.flush().unwrap();
        let partial = dir.path().join("recording.wav.partial");
        assert!(!path.exists());
        assert_eq!(hound::WavReader::open(&partial).unwrap().len(), 6);
        w.write_stereo(&[4], &[-4]).unwrap();
        assert_eq!(w.finalize().unwrap(), path);
        assert!(!partial.exists());

        let mut r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.spec().channels, 2);
        assert_eq!(r.spec().sample_rate, 8000);
        let samples: Vec<i16> = r.samples().map(Result::unwrap).collect();
        assert_eq!(samples, [1, -1, 2, -2, 3, 0, 4, -4]);
    }

    #[test]
    fn mono_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.wav");
        let mut w = WavWriter::create(&path, WavChannels::Mono).unwrap();
        w.write_mono(&[5; 160]).unwrap();
        w.finalize().unwrap();
        assert_eq!(read_wav_mono(&path, 8000).unwrap(), vec![5; 160]);
    }
}
