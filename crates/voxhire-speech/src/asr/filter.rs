//! Whisper's failure modes on phone audio, caught after decoding.
//!
//! On silence, line noise or breathing Whisper invents text: phrases from the
//! subtitles it was trained on ("Thank you.", "谢谢观看"), an echo of the prompt, bare
//! punctuation. On some clips greedy decoding loops, repeating a phrase until the
//! token cap. The first kind is dropped (when the audio or the model's own
//! no-speech estimate supports it: "Thank you." is also a real answer); loops are
//! collapsed to one occurrence, since the text before the loop is usually right.

/// Why a decode's text was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// Whisper produced no text.
    Empty,
    /// Only punctuation or symbols.
    PunctuationOnly,
    /// Whisper's no-speech probability was high and the text unconvincing.
    NoSpeech,
    /// A phrase Whisper is known to produce on silence (or the prompt echoed back),
    /// on audio that does not look like speech.
    KnownHallucination,
}

/// What the decision rests on besides the text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evidence {
    pub no_speech_prob: f32,
    /// Geometric mean token probability.
    pub confidence: f32,
    /// RMS level of the decoded audio, dBFS.
    pub rms_dbfs: f32,
}

/// Below this the audio is line noise, not a voice on a phone line (speech through
/// G.711 sits around -30 to -15 dBFS RMS).
const QUIET_DBFS: f32 = -40.0;

/// Below this there is no voice at all (digital silence, a muted line): whatever
/// Whisper says is invented.
const SILENT_DBFS: f32 = -55.0;

/// Subtitle-credit and sign-off phrases Whisper produces on silence, normalised
/// (lower case, no punctuation or spaces). Dropped only on weak evidence of speech.
const SILENCE_PHRASES: &[&str] = &[
    "thankyou",
    "thankyouverymuch",
    "thanks",
    "thanksforwatching",
    "thankyouforwatching",
    "thankyousomuchforwatching",
    "thanksforlistening",
    "pleasesubscribe",
    "bye",
    "byebye",
    "you",
    "so",
    "hmm",
    "谢谢",
    "谢谢观看",
    "谢谢大家",
    "感谢观看",
    "谢谢收看",
    "以下是普通话的句子",
];

/// Fragments that never occur in an interview answer but do in Whisper's
/// training subtitles: dropped whatever the evidence.
const CREDIT_FRAGMENTS: &[&str] = &[
    "amaraorg",
    "字幕由",
    "字幕提供",
    "点赞",
    "订阅",
    "打赏",
    "明镜",
    "subtitlesby",
    "subscribetomychannel",
];

/// Lower case, letters and digits only (CJK characters kept).
pub(crate) fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

pub(crate) fn rms_dbfs(audio: &[f32]) -> f32 {
    if audio.is_empty() {
        return -120.0;
    }
    let mean_square = audio
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / audio.len() as f64;
    (10.0 * mean_square.max(1e-12).log10()) as f32
}

/// Decides whether `text` (already loop-collapsed) is kept. `prompt` is the
/// caller's vocabulary prompt, which Whisper sometimes echoes on silence.
pub(crate) fn judge(text: &str, prompt: Option<&str>, ev: &Evidence) -> Option<Suppression> {
    if text.trim().is_empty() {
        return Some(Suppression::Empty);
    }
    let norm = normalise(text);
    if norm.is_empty() {
        return Some(Suppression::PunctuationOnly);
    }
    if CREDIT_FRAGMENTS.iter().any(|f| norm.contains(f)) {
        return Some(Suppression::KnownHallucination);
    }
    if ev.rms_dbfs < SILENT_DBFS {
        return Some(Suppression::NoSpeech);
    }
    let quiet = ev.rms_dbfs < QUIET_DBFS;
    if ev.no_speech_prob > 0.6 && (ev.confidence < 0.55 || quiet) {
        return Some(Suppression::NoSpeech);
    }
    // Words guessed out of noise: Whisper's no-speech estimate can stay at zero
    // there, but its token probabilities collapse (real answers through the phone
    // band score 0.4-0.95).
    if ev.confidence < 0.1 || (quiet && ev.confidence < 0.3) {
        return Some(Suppression::NoSpeech);
    }
    let weak = quiet || ev.no_speech_prob > 0.3 || ev.confidence < 0.5;
    let echo = prompt.is_some_and(|p| {
        let p = normalise(p);
        !p.is_empty() && (p == norm || (norm.chars().count() > 8 && p.contains(&norm)))
    });
    if weak && (SILENCE_PHRASES.contains(&norm.as_str()) || echo) {
        return Some(Suppression::KnownHallucination);
    }
    None
}

/// A unit for repetition detection: a word, or one CJK character (Mandarin has no
/// spaces), with its byte span in the text.
fn units(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut word_start: Option<usize> = None;
    let flush = |out: &mut Vec<(usize, usize, String)>, start: usize, end: usize| {
        let norm = normalise(&text[start..end]);
        if !norm.is_empty() {
            out.push((start, end, norm));
        }
    };
    for (i, c) in text.char_indices() {
        let cjk = is_cjk(c);
        if c.is_whitespace() || cjk {
            if let Some(s) = word_start.take() {
                flush(&mut out, s, i);
            }
            if cjk {
                flush(&mut out, i, i + c.len_utf8());
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(s) = word_start {
        flush(&mut out, s, text.len());
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Collapses a phrase repeated back to back (a decoding loop) to one occurrence.
/// Single units need 5 repeats ("no no no no" and "对对对对" are real speech),
/// phrases of 2–4 units 4, longer ones 2. Returns the text and whether anything changed.
pub(crate) fn collapse_loops(text: &str) -> (String, bool) {
    let u = units(text);
    let mut cut: Option<(usize, usize)> = None;
    'search: for i in 0..u.len() {
        for n in 1..u.len() - i {
            let needed = match n {
                1 => 5,
                2..=4 => 4,
                // A whole clause said twice back to back is a decoding loop.
                _ => 2,
            };
            let same = |a: usize, b: usize| (0..n).all(|k| u[a + k].2 == u[b + k].2);
            let mut reps = 1;
            while i + (reps + 1) * n <= u.len() && same(i, i + reps * n) {
                reps += 1;
            }
            let rest = i + reps * n;
            // The last unit of a partial copy may itself be cut ("…month, 10" for
            // "10,500"): a prefix of its counterpart.
            let partial_tail = rest < u.len()
                && u.len() - rest < n
                && (rest..u.len()).all(|j| {
                    let (got, want) = (&u[j].2, &u[i + j - rest].2);
                    got == want || (j + 1 == u.len() && want.starts_with(got.as_str()))
                });
            // Copies of a phrase that run to the end of an unfinished text
            // ("around 25,000 a month, around 25,000 a month,") are a loop even
            // twice over: Whisper padded a short clip with silence and went round
            // again until the token cap. "I don't know, I don't know." ends a
            // sentence, and stays.
            let tail = u.len() - rest;
            // The phrase ends a clause ("25,000 monthly. 25,"): one unit of a
            // second copy after it is already a loop.
            let clause_end = text[..u[i + n - 1].1].ends_with(['.', ',', '，', '。']);
            // A phrase of one word said over ("yes yes yes") is speech, not a loop.
            let varied = (i + 1..i + n).any(|k| u[k].2 != u[i].2);
            let open_loop = varied
                && !ends_sentence(text)
                && ((n >= 2 && reps >= 2 && (tail == 0 || partial_tail))
                    || (reps == 1
                        && partial_tail
                        && ((n >= 3 && tail >= 2) || (n >= 2 && clause_end))));
            if reps >= needed || open_loop {
                // Keep the first occurrence; drop the copies, and a last partial
                // copy running to the end (the token cap cut the loop mid-phrase).
                let keep_end = u[i + n - 1].1;
                let mut drop_end = u[i + reps * n - 1].1;
                if partial_tail {
                    drop_end = text.len();
                }
                cut = Some((keep_end, drop_end));
                break 'search;
            }
        }
    }
    match cut {
        Some((keep_end, drop_end)) => {
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..keep_end]);
            out.push_str(&text[drop_end..]);
            // A repeat of the loop after the cut (rare) is handled by another pass.
            let (again, _) = collapse_loops(&out);
            (again, true)
        }
        None => match doubled_sentence(text) {
            Some(once) => (once.to_owned(), true),
            None => (text.to_owned(), false),
        },
    }
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end().ends_with(['.', '?', '!', '。', '？', '！'])
}

/// A short reply decoded as the same full sentence over and over ("Yes, that's
/// fine. Yes, that's fine.", "Probably in two weeks." three times): seen on
/// phone-band clips of 1–2 s, where the candidate said it once. Only whole
/// sentences ending in a full stop, question or exclamation mark count, so "I
/// don't know, I don't know." stays.
fn doubled_sentence(text: &str) -> Option<&str> {
    let t = text.trim();
    let ends = |s: &str| s.ends_with(['.', '?', '!', '。', '？', '！']);
    if !ends(t) {
        return None;
    }
    let bytes = t.len();
    // Split points where the first half ends a sentence; compare the halves.
    t.char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&i| i < bytes && ends(&t[..i]))
        .find(|&i| {
            let a = t[..i].trim();
            let (once, all) = (normalise(a), normalise(t));
            a.chars().count() >= 2
                && !once.is_empty()
                && all.len() >= 2 * once.len()
                && all.len() % once.len() == 0
                && all == once.repeat(all.len() / once.len())
        })
        .map(|i| t[..i].trim())
}

/// For a decode that ran into the token cap (it never said it was done: a loop
/// or a runaway), cuts the text where it starts copying itself: the first point
/// from which everything left (at least two units, often cut mid-word by the cap)
/// repeats earlier text. "Mostly Spring Cloud. Mostly Spring Cl" → "Mostly Spring
/// Cloud." Returns the text and whether it was cut.
pub(crate) fn cut_runaway(text: &str) -> (String, bool) {
    let u = units(text);
    let n = u.len();
    for i in 1..n.saturating_sub(1) {
        let rest = n - i;
        let copies_earlier = (0..i).any(|j| {
            (0..rest).all(|k| {
                let (a, b) = (&u[j + k].2, &u[i + k].2);
                if j + k >= i {
                    return false;
                }
                // The last unit may be cut mid-word by the cap.
                a == b || (i + k == n - 1 && a.starts_with(b.as_str()))
            })
        });
        if copies_earlier {
            return (text[..u[i].0].trim_end().to_owned(), true);
        }
    }
    (text.to_owned(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speech() -> Evidence {
        Evidence {
            no_speech_prob: 0.02,
            confidence: 0.85,
            rms_dbfs: -22.0,
        }
    }

    fn silence() -> Evidence {
        Evidence {
            no_speech_prob: 0.7,
            confidence: 0.3,
            rms_dbfs: -60.0,
        }
    }

    #[test]
    fn real_answers_are_kept() {
        for t in [
            "I have seven years of experience with Java.",
            "Thank you.",
            "我有五年的Java开发经验。",
            "No, no, no.",
            "对对对对",
        ] {
            assert_eq!(judge(t, None, &speech()), None, "{t}");
        }
    }

    #[test]
    fn silence_hallucinations_are_dropped() {
        for t in [
            "Thank you.",
            "Thanks for watching!",
            "谢谢观看",
            " you",
            "以下是普通话的句子。",
        ] {
            assert_eq!(
                judge(t, None, &silence()),
                Some(Suppression::NoSpeech),
                "{t}"
            );
            let quiet_but_confident = Evidence {
                no_speech_prob: 0.1,
                confidence: 0.9,
                rms_dbfs: -50.0,
            };
            let digital_silence = Evidence {
                rms_dbfs: -90.0,
                ..speech()
            };
            assert_eq!(
                judge("你不想要我。", None, &digital_silence),
                Some(Suppression::NoSpeech)
            );
            assert_eq!(
                judge(t, None, &quiet_but_confident),
                Some(Suppression::KnownHallucination),
                "{t}"
            );
        }
        assert_eq!(
            judge("字幕由Amara.org社区提供", None, &speech()),
            Some(Suppression::KnownHallucination)
        );
        let noise = Evidence {
            no_speech_prob: 0.0,
            confidence: 0.08,
            rms_dbfs: -54.0,
        };
        assert_eq!(
            judge("这些人都在想。", None, &noise),
            Some(Suppression::NoSpeech)
        );
        assert_eq!(judge("  ", None, &speech()), Some(Suppression::Empty));
        assert_eq!(
            judge("...", None, &speech()),
            Some(Suppression::PunctuationOnly)
        );
    }

    #[test]
    fn prompt_echo_is_dropped_on_weak_audio() {
        let prompt = "Java, Spring Cloud, Kubernetes, React";
        let weak = Evidence {
            rms_dbfs: -50.0,
            ..speech()
        };
        assert_eq!(
            judge(
                "Java, Spring Cloud, Kubernetes, React.",
                Some(prompt),
                &weak
            ),
            Some(Suppression::KnownHallucination)
        );
        assert_eq!(
            judge(
                "Java, Spring Cloud, Kubernetes, React.",
                Some(prompt),
                &speech()
            ),
            None
        );
    }

    #[test]
    fn loops_collapse_to_one_occurrence() {
        let (t, changed) =
            collapse_loops("I worked on payments. I worked on payments. I worked on payments. I worked on payments. I worked on");
        assert!(changed);
        assert_eq!(t, "I worked on payments.");
        let (t, changed) = collapse_loops("我做了五年我做了五年我做了五年我做了五年");
        assert!(changed);
        assert_eq!(t, "我做了五年");
        let (t, changed) = collapse_loops("yes yes yes yes");
        assert!(!changed);
        assert_eq!(t, "yes yes yes yes");
        let (t, _) = collapse_loops("OK, so, so, so, so, so, so that's it.");
        assert_eq!(t, "OK, so, that's it.");
        let sentence = "I have seven years of experience as a Java developer.";
        let (t, changed) = collapse_loops(&format!("{sentence} {sentence} {sentence} I have"));
        assert!(changed);
        assert_eq!(t, sentence);
        let (t, changed) = collapse_loops("I don't know, I don't know.");
        assert!(!changed, "{t}");
        let (t, changed) = collapse_loops("Yes, that's fine. Yes, that's fine.");
        assert!(changed);
        assert_eq!(t, "Yes, that's fine.");
        let (t, changed) = collapse_loops("是的，我是陈静。是的，我是陈静。");
        assert!(changed);
        assert_eq!(t, "是的，我是陈静。");
        let (t, changed) = collapse_loops("Yes. No.");
        assert!(!changed, "{t}");
        let (t, changed) = collapse_loops("No. No.");
        assert!(changed, "{t}");
        // Three times over (held-out dev en-dev-042, decoded as a call hears it).
        let (t, _) =
            collapse_loops("Probably in two weeks. Probably in two weeks. Probably in two weeks.");
        assert_eq!(t, "Probably in two weeks.");
        let (t, _) = collapse_loops("你那个?你那个?你那个?");
        assert_eq!(t, "你那个?");
        // A sentence and then more is not a repeat.
        let (t, changed) = collapse_loops("Two weeks. Two weeks and a day.");
        assert!(!changed, "{t}");
        // Twice to the end of an unfinished text: a loop on a short clip.
        let (t, _) = collapse_loops("around 25,000 a month, around 25,000 a month,");
        assert_eq!(t, "around 25,000 a month,");
        let (t, _) = collapse_loops("Webpack，Vte都用过，Webpack，Vte都用");
        assert_eq!(t, "Webpack，Vte都用过");
        let (t, _) = collapse_loops("10,500 per month, 10");
        assert_eq!(t, "10,500 per month,");
        let (t, _) = collapse_loops("25,000 monthly. 25,");
        assert_eq!(t, "25,000 monthly.");
        let (t, changed) = collapse_loops("I use Java and I");
        assert!(!changed, "{t}");
        let (t, _) = collapse_loops("你四年多吧，四年多吧");
        assert_eq!(t, "你四年多吧");
    }

    #[test]
    fn runaway_decodes_are_cut_where_they_repeat() {
        let (t, cut) = cut_runaway(
            "Mostly Spring Boot and Spring Cloud Microservices. Mostly Spring Boot and Spring Cloud Micro",
        );
        assert!(cut);
        assert_eq!(t, "Mostly Spring Boot and Spring Cloud Microservices.");
        let (t, cut) = cut_runaway("Please don't call me again. Please don");
        assert!(cut);
        assert_eq!(t, "Please don't call me again.");
        let (t, cut) = cut_runaway("我在上海工作了三年。我在上海");
        assert!(cut);
        assert_eq!(t, "我在上海工作了三年。");
        let (_, cut) = cut_runaway("I worked in Shanghai for three years and in Beijing for two");
        assert!(!cut);
    }

    #[test]
    fn rms_levels() {
        assert!(rms_dbfs(&[0.0; 100]) < -100.0);
        let full_scale_square = vec![1.0f32; 100];
        assert!(rms_dbfs(&full_scale_square).abs() < 0.01);
    }
}
