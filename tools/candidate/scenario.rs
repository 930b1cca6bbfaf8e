//! A simulated candidate's scenario: how the first call attempts fail (busy, no
//! answer) and, once answered, what the candidate does on each of its turns.
//!
//! ```toml
//! busy_attempts = 1          # the first INVITE gets 486 Busy Here
//! no_answer_attempts = 0     # the first N INVITEs only ring (180) until CANCEL
//!
//! [[turn]]
//! say = "alice/consent.wav"  # relative to the scenario directory
//! [[turn]]
//! silence_ms = 6000          # say nothing: the agent's no-input reprompt comes next
//! [[turn]]
//! dtmf = "1"
//! [[turn]]
//! say = "alice/years.wav"
//! barge_in_after_ms = 800    # talk over the agent 800 ms after it starts
//! [[turn]]
//! say = "alice/bye.wav"
//! optional = true            # the agent may hang up first: still a completed call
//! ```
//!
//! Everything is checked at load (unknown keys, a turn with no or two actions, a
//! WAV that doesn't read, DTMF that isn't a digit, turns after a hangup) and each
//! error names the file and the key.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// Longest silence turn: beyond this an agent has long given up, and a typo like
/// `silence_ms = 60000000` should fail loudly rather than hang a test.
const MAX_SILENCE: Duration = Duration::from_secs(120);
/// Longest barge-in delay; longer than any single prompt.
const MAX_BARGE_IN: Duration = Duration::from_secs(30);
/// A sample at or below this magnitude counts as silence when measuring an answer's
/// trailing pad (about -50 dBFS: well under speech, above G.711 idle noise).
const SILENCE_LEVEL: i16 = 100;

/// One candidate, loaded from `<dir>/<user>.toml`.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The Request-URI user that selects it (the file stem).
    pub user: String,
    pub path: PathBuf,
    pub busy_attempts: u32,
    pub no_answer_attempts: u32,
    pub turns: Vec<Turn>,
}

#[derive(Debug, Clone)]
pub struct Turn {
    pub action: Action,
    /// Take the turn this long after the agent starts speaking instead of waiting
    /// for it to finish (to exercise barge-in).
    pub barge_in_after: Option<Duration>,
    /// The agent may end the call before this turn (a goodbye after its closing)
    /// and the call still counts as completed. Only trailing turns may be optional.
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub enum Action {
    Say(Answer),
    Dtmf(String),
    Silence(Duration),
    Hangup,
}

/// A recorded answer, 8 kHz mono.
#[derive(Debug, Clone)]
pub struct Answer {
    pub file: PathBuf,
    pub samples: Arc<Vec<i16>>,
    /// Silence at the end of the file: the candidate stopped talking this long
    /// before the last sample was sent (voice-to-voice latency counts from there).
    pub trailing_silence: Duration,
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Say(_) => "say",
            Action::Dtmf(_) => "dtmf",
            Action::Silence(_) => "silence",
            Action::Hangup => "hangup",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    busy_attempts: u32,
    #[serde(default)]
    no_answer_attempts: u32,
    /// Free text for the reader of the file.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    turn: Vec<RawTurn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTurn {
    say: Option<String>,
    dtmf: Option<String>,
    silence_ms: Option<u64>,
    hangup: Option<bool>,
    barge_in_after_ms: Option<u64>,
    #[serde(default)]
    optional: bool,
}

impl Scenario {
    /// Loads and validates one scenario file; `say` paths are relative to its directory.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading scenario {}", path.display()))?;
        let user = path
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: the file name is not a SIP user", path.display()))?
            .to_string();
        let raw: RawScenario = toml::from_str(&text)
            .with_context(|| format!("{}: invalid scenario", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut turns = Vec::with_capacity(raw.turn.len());
        for (i, t) in raw.turn.into_iter().enumerate() {
            let key = format!("{}: turn[{i}]", path.display());
            turns.push(t.validate(dir, &key)?);
        }
        if let Some(i) = turns
            .iter()
            .position(|t| matches!(t.action, Action::Hangup))
            .filter(|&i| i + 1 < turns.len())
        {
            bail!(
                "{}: turn[{i}] hangs up but {} more turn(s) follow it; they could never run",
                path.display(),
                turns.len() - i - 1
            );
        }
        if let Some(i) = turns
            .windows(2)
            .position(|w| w[0].optional && !w[1].optional)
        {
            bail!(
                "{}: turn[{i}].optional: only the last turns may be optional (turn[{}] is not)",
                path.display(),
                i + 1
            );
        }
        Ok(Scenario {
            user,
            path: path.to_path_buf(),
            busy_attempts: raw.busy_attempts,
            no_answer_attempts: raw.no_answer_attempts,
            turns,
        })
    }

    /// Loads every `*.toml` in `dir`, sorted by user.
    pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading the scenario directory {}", dir.display()))?;
        let mut paths = Vec::new();
        for e in entries {
            let path = e
                .with_context(|| format!("listing {}", dir.display()))?
                .path();
            if path.extension().is_some_and(|x| x == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            bail!("{}: no scenario (*.toml) files", dir.display());
        }
        paths.iter().map(|p| Scenario::load(p)).collect()
    }
}

impl Scenario {
    /// Turns the candidate must get to for the call to count as completed.
    pub fn required_turns(&self) -> usize {
        self.turns
            .iter()
            .rposition(|t| !t.optional)
            .map_or(0, |i| i + 1)
    }
}

impl RawTurn {
    fn validate(self, dir: &Path, key: &str) -> Result<Turn> {
        let given = [
            self.say.is_some(),
            self.dtmf.is_some(),
            self.silence_ms.is_some(),
            self.hangup.is_some(),
        ]
        .into_iter()
        .filter(|&b| b)
        .count();
        if given != 1 {
            bail!("{key}: needs exactly one of say, dtmf, silence_ms, hangup (found {given})");
        }
        let action = if let Some(file) = self.say {
            Action::Say(load_answer(&dir.join(&file)).with_context(|| format!("{key}.say"))?)
        } else if let Some(digits) = self.dtmf {
            if digits.is_empty() || !digits.chars().all(|c| "0123456789*#ABCD".contains(c)) {
                bail!("{key}.dtmf: {digits:?} must be one or more of 0-9 * # A-D");
            }
            Action::Dtmf(digits)
        } else if let Some(ms) = self.silence_ms {
            let d = Duration::from_millis(ms);
            if d.is_zero() || d > MAX_SILENCE {
                bail!(
                    "{key}.silence_ms: {ms} must be between 1 and {}",
                    MAX_SILENCE.as_millis()
                );
            }
            Action::Silence(d)
        } else {
            if self.hangup != Some(true) {
                bail!("{key}.hangup: only `hangup = true` means anything");
            }
            Action::Hangup
        };
        let barge_in_after = match self.barge_in_after_ms {
            None => None,
            Some(_) if matches!(action, Action::Silence(_)) => {
                bail!("{key}.barge_in_after_ms: a silence turn cannot barge in")
            }
            Some(ms) if Duration::from_millis(ms) > MAX_BARGE_IN => bail!(
                "{key}.barge_in_after_ms: {ms} is longer than {} ms",
                MAX_BARGE_IN.as_millis()
            ),
            Some(ms) => Some(Duration::from_millis(ms)),
        };
        Ok(Turn {
            action,
            barge_in_after,
            optional: self.optional,
        })
    }
}

fn load_answer(path: &Path) -> Result<Answer> {
    // The WAV error already names the file and carries its cause in its message.
    let samples = voxhire_media::wav::read_wav_mono(path, voxhire_media::PCM_RATE)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(last_loud) = samples
        .iter()
        .rposition(|s| s.unsigned_abs() > SILENCE_LEVEL as u16)
    else {
        bail!("{}: the answer is silent", path.display());
    };
    let trailing = (samples.len() - last_loud - 1) as u64;
    Ok(Answer {
        file: path.to_path_buf(),
        trailing_silence: Duration::from_micros(
            trailing * 1_000_000 / u64::from(voxhire_media::PCM_RATE),
        ),
        samples: Arc::new(samples),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, samples: &[i16]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    fn scenario(toml: &str) -> Result<Scenario> {
        let dir = tempfile::tempdir().unwrap();
        // 0.5 s of tone then 0.25 s of silence.
        let mut audio: Vec<i16> = (0..4000)
            .map(|i| if i % 16 < 8 { 3000 } else { -3000 })
            .collect();
        audio.extend([0i16; 2000]);
        write_wav(&dir.path().join("yes.wav"), &audio);
        let path = dir.path().join("alice.toml");
        std::fs::write(&path, toml).unwrap();
        Scenario::load(&path)
    }

    fn error(toml: &str) -> String {
        format!("{:#}", scenario(toml).unwrap_err())
    }

    #[test]
    fn loads_every_turn_kind() {
        let s = scenario(
            "busy_attempts = 1\nno_answer_attempts = 2\n\
             [[turn]]\nsay = \"yes.wav\"\nbarge_in_after_ms = 800\n\
             [[turn]]\ndtmf = \"1#\"\n[[turn]]\nsilence_ms = 6000\n\
             [[turn]]\nhangup = true\noptional = true\n",
        )
        .unwrap();
        assert_eq!(s.user, "alice");
        assert_eq!((s.busy_attempts, s.no_answer_attempts), (1, 2));
        let kinds: Vec<&str> = s.turns.iter().map(|t| t.action.kind()).collect();
        assert_eq!(kinds, ["say", "dtmf", "silence", "hangup"]);
        assert_eq!(s.turns[0].barge_in_after, Some(Duration::from_millis(800)));
        let Action::Say(a) = &s.turns[0].action else {
            panic!()
        };
        assert_eq!(a.samples.len(), 6000);
        assert_eq!(a.trailing_silence, Duration::from_millis(250));
        assert_eq!(s.required_turns(), 3);
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let e = error("[[turn]]\nsay = \"missing.wav\"\n");
        assert!(
            e.contains("alice.toml: turn[0].say") && e.contains("missing.wav"),
            "{e}"
        );
        let e = error("[[turn]]\nsay = \"yes.wav\"\ndtmf = \"1\"\n");
        assert!(e.contains("turn[0]: needs exactly one"), "{e}");
        let e = error("[[turn]]\nhangup = true\n[[turn]]\nsilence_ms = 10\n");
        assert!(e.contains("turn[0] hangs up but 1 more"), "{e}");
        let e = error("[[turn]]\ndtmf = \"x\"\n");
        assert!(e.contains("turn[0].dtmf"), "{e}");
        let e = error("[[turn]]\nsilence_ms = 0\n");
        assert!(e.contains("turn[0].silence_ms"), "{e}");
        let e = error("[[turn]]\nsilence_ms = 5\nbarge_in_after_ms = 5\n");
        assert!(e.contains("turn[0].barge_in_after_ms"), "{e}");
        let e = error("busy_atempts = 1\n");
        assert!(
            e.contains("alice.toml") && e.contains("busy_atempts"),
            "{e}"
        );
        let e = error("[[turn]]\nsilence_ms = 5\noptional = true\n[[turn]]\nsilence_ms = 5\n");
        assert!(e.contains("turn[0].optional"), "{e}");
        let e = error("[[turn]]\nhangup = false\n");
        assert!(e.contains("turn[0].hangup"), "{e}");
    }
}
