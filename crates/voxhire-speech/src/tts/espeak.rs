//! espeak-ng as a separate process: text in, IPA phonemes out.
//!
//! espeak-ng is GPL-3.0. voxhire never links it; it runs the `espeak-ng` program
//! (Debian package `espeak-ng`) and reads its output, which keeps the voxhire
//! binary Apache-2.0 (see the [`tts`](super) module docs). `$VOXHIRE_ESPEAK`
//! overrides the program path.
//!
//! Starting espeak-ng and loading its voice takes 10–40 ms, so one process is kept
//! started and waiting on stdin; a request takes it (≈ 10 ms to phonemise a
//! sentence) and starts the next one. Each process still handles exactly one text
//! and exits at end of input, so its output is that of a plain run.
//!
//! `espeak-ng -q --ipa -b 1 -v VOICE` prints one line per clause: it breaks at
//! `, ; : . ! ?` followed by a space, and drops the punctuation. That is the same
//! IPA (stress marks, length marks, no separators) that Piper's
//! `espeak_TextToPhonemes(…, espeakPHONEMES_IPA)` gives its voices in training.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use super::TtsError;

/// An espeak-ng voice used as a phonemiser.
#[derive(Debug)]
pub struct Espeak {
    program: String,
    voice: String,
    /// A process already started with this voice, waiting for its text.
    spare: Mutex<Option<Child>>,
}

impl Espeak {
    /// `voice` is an espeak-ng voice name, e.g. `en-us` (from a Piper `.onnx.json`).
    pub fn new(voice: &str) -> Self {
        let program = std::env::var("VOXHIRE_ESPEAK").unwrap_or_else(|_| "espeak-ng".to_owned());
        Espeak {
            program,
            voice: voice.to_owned(),
            spare: Mutex::new(None),
        }
    }

    fn spawn(&self) -> Result<Child, TtsError> {
        Command::new(&self.program)
            .args(["-q", "--ipa", "-b", "1", "-v", &self.voice])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TtsError::EspeakMissing {
                program: self.program.clone(),
                message: e.to_string(),
            })
    }

    /// The waiting process if it is still alive, else a new one.
    fn take_process(&self) -> Result<Child, TtsError> {
        let spare = self.spare.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut child) = spare {
            if matches!(child.try_wait(), Ok(None)) {
                return Ok(child);
            }
        }
        self.spawn()
    }

    /// Starts the next waiting process (best effort: a failure shows on next use).
    fn refill(&self) {
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        if spare.is_none() {
            *spare = self.spawn().ok();
        }
    }

    pub fn voice(&self) -> &str {
        &self.voice
    }

    /// IPA of `text`, one entry per clause espeak-ng found (empty lines dropped).
    pub fn ipa_clauses(&self, text: &str) -> Result<Vec<String>, TtsError> {
        // Control characters would be read as espeak-ng's own markup; newlines would
        // split clauses where the caller did not.
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut child = self.take_process()?;
        // Text goes on stdin, never in argv, so a leading '-' is not an option.
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(text.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"))
                .map_err(|e| TtsError::Espeak(format!("writing to espeak-ng: {e}")))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| TtsError::Espeak(format!("reading espeak-ng's output: {e}")))?;
        self.refill();
        if !output.status.success() {
            return Err(TtsError::Espeak(format!(
                "espeak-ng -v {} exited with {}: {}",
                self.voice,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        Ok(stdout
            .lines()
            .map(strip_language_switches)
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect())
    }
}

impl Drop for Espeak {
    fn drop(&mut self) {
        let spare = self.spare.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = spare.take() {
            // Closing stdin would end it too; kill and reap so no zombie is left.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Removes espeak-ng's language-switch marks, e.g. `(fr)` … `(en)` around a word it
/// pronounces with another language's rules; they are not phonemes.
fn strip_language_switches(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close)
                if (2..=8).contains(&close)
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-') =>
            {
                rest = &after[close + 1..];
            }
            _ => {
                out.push('(');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_switch_marks_are_removed() {
        assert_eq!(
            strip_language_switches("ʃˈɛɹ (fr)pɑːʁ(en) bˈɪk"),
            "ʃˈɛɹ pɑːʁ bˈɪk"
        );
        assert_eq!(strip_language_switches("(a) b (c d)"), "(a) b (c d)");
    }

    #[test]
    fn espeak_gives_one_ipa_line_per_clause() {
        let lines = Espeak::new("en-us")
            .ipa_clauses("Hello, world. -How are you?")
            .expect("espeak-ng installed (apt-get install espeak-ng)");
        assert_eq!(lines, vec!["həlˈoʊ", "wˈɜːld", "hˈaʊ ɑːɹ juː"]);
    }
}
