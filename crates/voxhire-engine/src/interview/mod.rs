//! The call engine: one answered call becomes an interview.
//!
//! ```text
//! RTP in ─▶ media task ─audio─▶ listener (VAD → endpointer → Whisper) ─heard─▶ session
//!                                                                            │ NLU, dialog
//! RTP out ◀─ media task ◀─audio── speaker (prompt cache / streaming TTS) ◀─say─┘
//! ```
//!
//! Every arrow is a bounded channel. The models behind the listener, the NLU and
//! the speaker are loaded once per process ([`InterviewStack`]) and shared by all
//! calls; each call has its own VAD state, endpointer, recogniser and dialog.

pub mod end_of_turn;
pub mod listener;
pub mod outputs;
pub mod prompt_store;
pub mod session;
pub mod speaker;
pub mod turn_taking;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use voxhire_dialog::io::EndpointSettings;
use voxhire_dialog::InterviewScript;
use voxhire_nlu::{IntentExamples, Lang, Nlu};
use voxhire_speech::asr::{AsrConfig, AsrEngine, Hotwords};
use voxhire_speech::endpoint::EndpointConfig;
use voxhire_speech::models::ModelDir;
use voxhire_speech::tts::{PromptCache, Tts, Voice};

use self::prompt_store::PromptStore;
use voxhire_speech::vad::SileroVad;

/// An operator's tuning of the speech stack, for a deployment without a
/// rebuild. The CLI reads it from the environment (`VOXHIRE_ASR_THREADS`,
/// `VOXHIRE_ASR_SOLO_THREADS`,
/// `VOXHIRE_ASR_AUDIO_CTX_PAD`, `VOXHIRE_TTS_THREADS`, `VOXHIRE_PARTIAL_MS`,
/// `VOXHIRE_VOICE_END_TRIM_MS`, `VOXHIRE_PAUSE_MS`, `VOXHIRE_ASR_HOTWORDS`,
/// `VOXHIRE_OPEN_SILENCE_MS`);
/// `None` keeps the measured default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tuning {
    /// Threads per Whisper decode (default 1: see [`asr_config`]).
    pub asr_threads: Option<usize>,
    /// Threads for a decode with the machine to itself (`AsrConfig::solo_threads`;
    /// default all cores, 1 turns it off).
    pub asr_solo_threads: Option<usize>,
    /// Whisper's audio-context padding (see `AsrConfig::audio_ctx_pad`).
    pub asr_audio_ctx_pad: Option<u32>,
    /// Threads per TTS synthesis (default: all cores).
    pub tts_threads: Option<usize>,
    /// Partial transcripts every this many ms while the candidate speaks
    /// (default: none; the dialog acts on finals).
    pub partial_ms: Option<u32>,
    /// How far the end of speech may move back from the VAD's last speech frame
    /// to where the voice stopped (`EndpointConfig::voice_end_trim_ms`; 0: the
    /// VAD's end, as before 2026-12-04).
    pub voice_end_trim_ms: Option<u32>,
    /// Silence after the voice at which the utterance so far is decoded
    /// (`EndpointConfig::pause_ms`; 150 until 2026-12-04).
    pub pause_ms: Option<u32>,
    /// Whether Whisper boosts the skills taxonomy's names while decoding an answer
    /// to a skills question (default: yes; `VOXHIRE_ASR_HOTWORDS=0` turns it off).
    pub asr_hotwords: Option<bool>,
    /// Silence that ends an open answer at a whole sentence (default
    /// `turn_taking::OPEN_SILENCE`; 0 turns it off: the script's silence).
    pub open_silence_ms: Option<u32>,
}

/// The models every call shares.
pub struct InterviewStack {
    pub vad: Arc<SileroVad>,
    pub asr: Arc<AsrEngine>,
    pub tts: Tts,
    pub cache: Arc<PromptCache>,
    pub store: PromptStore,
    pub nlu: Arc<Nlu>,
    pub tuning: Tuning,
    /// The skills taxonomy's names, boosted while Whisper decodes an answer to a
    /// skills question (None: turned off).
    pub skill_hotwords: Option<Hotwords>,
}

impl InterviewStack {
    /// Loads the models the given scripts need (their languages' voices and ASR,
    /// the NLU with their intent examples) and synthesises every fixed line of the
    /// scripts into the prompt cache, so no call waits for them.
    ///
    /// `concurrent_calls` sizes the ASR (see [`asr_config`]).
    pub fn load(
        scripts: &[(Arc<InterviewScript>, Lang)],
        concurrent_calls: usize,
        tuning: &Tuning,
    ) -> Result<InterviewStack> {
        let started = Instant::now();
        let models = ModelDir::locate();
        let env = models.onnxruntime()?;
        let vad = SileroVad::load(&models).context("loading the VAD")?;
        let asr = AsrEngine::load(&models, asr_config(concurrent_calls, tuning))
            .context("loading Whisper")?;
        let mut langs: Vec<Lang> = scripts.iter().map(|(_, l)| *l).collect();
        langs.dedup();
        let tts = match tuning.tts_threads {
            Some(n) => Tts::load_langs_with_threads(&models, &langs, n),
            None => Tts::load_langs(&models, &langs),
        }
        .context("loading the TTS voices")?;
        let mut examples = IntentExamples::default();
        for (s, _) in scripts {
            examples.examples.extend(s.intent_examples().examples);
        }
        let nlu = Nlu::load(env, models.root(), &examples).context("loading the NLU models")?;
        let stack = InterviewStack {
            vad,
            asr,
            tts,
            cache: Arc::new(PromptCache::new(PromptCache::DEFAULT_CAPACITY_SAMPLES)),
            store: PromptStore::locate(),
            nlu: Arc::new(nlu),
            tuning: tuning.clone(),
            skill_hotwords: (tuning.asr_hotwords != Some(false)).then(skill_hotwords),
        };
        tracing::info!(ms = started.elapsed().as_millis() as u64, "models loaded");
        for (script, lang) in scripts {
            let t = Instant::now();
            let made = stack.warm(script, *lang)?;
            tracing::info!(lines = made, lang = %lang, ms = t.elapsed().as_millis() as u64, "prompt cache warmed");
        }
        Ok(stack)
    }

    pub fn voice(&self, lang: Lang) -> Result<Arc<dyn Voice>> {
        Ok(self.tts.voice(lang)?.clone())
    }

    /// Puts the script's fixed lines (those without a per-call `{name}`) into
    /// the prompt cache: from the disk store, else synthesised (and stored).
    /// Returns how many had to be synthesised.
    pub fn warm(&self, script: &InterviewScript, lang: Lang) -> Result<usize> {
        let mut made = 0;
        for line in fixed_lines(script, lang) {
            made += usize::from(
                self.line(lang, &line)
                    .with_context(|| format!("synthesising the prompts of {}", script.id()))?,
            );
        }
        Ok(made)
    }

    /// Synthesises one call's personalised lines (`{name}` filled in) ahead of
    /// the call, so even those come from the cache.
    pub fn warm_for(&self, script: &InterviewScript, lang: Lang, name: Option<&str>) -> Result<()> {
        let name = name.unwrap_or_default();
        for (_, text) in script.prompts(lang) {
            if text.contains("{name}") {
                self.line(lang, &text.replace("{name}", name))?;
            }
        }
        Ok(())
    }

    /// Ensures one line is in the memory cache; true if it was synthesised.
    fn line(&self, lang: Lang, text: &str) -> Result<bool> {
        let voice = self.voice(lang)?;
        if self.cache.contains(voice.name(), text) {
            return Ok(false);
        }
        let (audio, made) = self.store.load_or_synthesize(&voice, text)?;
        self.cache.insert(voice.name(), text, Arc::new(audio));
        Ok(made)
    }
}

/// A script's lines that are the same on every call (no `{name}`): what the
/// prompt cache holds ahead of calls.
pub fn fixed_lines(script: &InterviewScript, lang: Lang) -> Vec<String> {
    script
        .prompts(lang)
        .into_iter()
        .map(|(_, text)| text)
        .filter(|t| !t.contains('{'))
        .collect()
}

/// `--lang` for an interview: the given one, else the script's first language.
/// `--lang`, checked against the languages the script is written in (an English
/// script read by the Mandarin voice is no interview); default: its first.
pub fn interview_lang(script: &InterviewScript, flag: Option<&str>) -> Result<Lang> {
    let offered = script.languages();
    let Some(flag) = flag else {
        return Ok(offered[0]);
    };
    let lang: Lang = flag.parse().map_err(anyhow::Error::msg)?;
    if !offered.contains(&lang) {
        let names: Vec<String> = offered.iter().map(|l| l.to_string()).collect();
        anyhow::bail!(
            "--lang {flag}: the script {} is written in {} only",
            script.path().display(),
            names.join(", ")
        );
    }
    Ok(lang)
}

/// Interviews one core holds at once, from `cargo bench --bench interview_capacity`
/// on 2-core machines, with the simulated candidates sharing the cores: on
/// 2026-12-04, N = 8 held (closed-answer agent p95 859-1127 ms, the bench's pass
/// line is 1200 ms); on 2026-12-05, another machine of the same size, N = 4 held
/// (1063 ms) and N = 6 and 8 did not (1355, 2143-2283 ms) — with the previous
/// day's binary as well. The lower figure is the default, so a campaign does not
/// make every candidate wait on a slower host; `--max-calls` raises it.
pub const INTERVIEWS_PER_CORE: usize = 2;

/// Interviews this machine holds at once: admission control for `serve`
/// (503 beyond it) and campaigns (never dial more).
pub fn interview_capacity() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores * INTERVIEWS_PER_CORE
}

/// `--tz`: an IANA time zone, for callback times.
pub fn time_zone(flag: &str) -> Result<chrono_tz::Tz> {
    flag.parse()
        .map_err(|_| anyhow::anyhow!("--tz {flag:?} is not an IANA time zone (e.g. Asia/Shanghai)"))
}

/// An hour: longer than any utterance, so no partial decode is requested.
const NO_PARTIALS_MS: u32 = 3_600_000;

/// The names of the skills taxonomy (the NLU's skill slot), as Whisper should
/// write them: "Spring Cloud", "Kubernetes", "WeChat Mini Program".
pub fn skill_hotwords() -> Hotwords {
    let taxonomy = voxhire_nlu::skills::SkillTaxonomy::builtin();
    Hotwords::new(taxonomy.ids().filter_map(|id| taxonomy.display_name(id)))
}

/// The ASR sizing for this many simultaneous calls (see [`InterviewStack::load`]).
/// One single-threaded worker per core by default: a decode on two threads is
/// ~40 % faster on an idle box (voice-to-voice p50 742 vs 1242 ms), but ggml's
/// threads spin at barriers and, with another process on the cores, one Mandarin
/// decode took 24 s. [`Tuning::asr_threads`] = 2 opts in for a dedicated machine.
fn asr_config(concurrent_calls: usize, tuning: &Tuning) -> AsrConfig {
    let mut config = AsrConfig::default();
    if let Some(n) = tuning.asr_threads {
        config.threads_per_worker = n.max(1);
    }
    if let Some(n) = tuning.asr_solo_threads {
        config.solo_threads = n.max(1);
    }
    if let Some(pad) = tuning.asr_audio_ctx_pad {
        config.audio_ctx_pad = pad;
    }
    if concurrent_calls <= 1 && config.threads_per_worker > 1 {
        // One call never needs more than one decode at a time.
        config.workers = 1;
    }
    config
}

/// Longest utterance handed to Whisper: its 30 s window less the endpointer's
/// pre-roll and trailing silence.
const MAX_UTTERANCE_MS: u32 = 29_000;

/// The script's (or a question's) endpointing settings as the endpointer's
/// configuration.
pub fn endpoint_config(e: &EndpointSettings, tuning: &Tuning) -> EndpointConfig {
    let defaults = EndpointConfig::default();
    EndpointConfig {
        min_speech_ms: e.min_speech_ms,
        end_silence_ms: e.end_of_turn_silence_ms,
        max_utterance_ms: e.max_utterance_ms.min(MAX_UTTERANCE_MS),
        // Partial transcripts while the candidate speaks cost a core and the
        // dialog acts only on finals (and the speculative decode at each pause),
        // so they are off unless asked for ([`Tuning::partial_ms`]).
        progress_ms: tuning.partial_ms.unwrap_or(NO_PARTIALS_MS),
        voice_end_trim_ms: tuning
            .voice_end_trim_ms
            .unwrap_or(defaults.voice_end_trim_ms),
        pause_ms: tuning.pause_ms.unwrap_or(defaults.pause_ms),
        ..defaults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_must_be_one_the_script_is_written_in() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/interview-java-backend.en.toml"
        );
        let script = InterviewScript::load(path).expect("example script");
        assert_eq!(interview_lang(&script, None).unwrap(), Lang::En);
        assert_eq!(interview_lang(&script, Some("en")).unwrap(), Lang::En);
        let e = interview_lang(&script, Some("zh")).unwrap_err().to_string();
        assert!(
            e.contains("--lang zh") && e.contains("written in en only"),
            "{e}"
        );
        assert!(interview_lang(&script, Some("fr")).is_err());
    }
}
