//! The intent of a turn: what the candidate meant by it as a whole.
//!
//! Evidence is weighed in a fixed order (see [`decide`]):
//! 1. keyword rules for the intents that change the call (opt out, reschedule,
//!    repeat) — a candidate who says "stop calling me" is never "answering";
//! 2. a turn that fills a slot the question asked for is an answer (unless the
//!    slot is free text, which any words fill, and the turn is close to a
//!    call-changing example);
//! 3. keyword yes/no;
//! 4. similarity to example utterances: MiniLM cosine for English, character
//!    bigram overlap for Mandarin (plus LAC cues: a TIME word with 打/联系/再 is a
//!    reschedule), each intent with its own threshold — opting out ends the call,
//!    so it needs a closer match than an answer;
//! 5. on a yes/no question the yes/no word the turn leads with (MiniLM hardly
//!    sees negation), else the closer of yes and no; elsewhere a turn with a few
//!    content words is an answer, and anything else is `Unclear`.

mod examples;
mod zh;

use crate::embed::{cosine, MiniLm};
use crate::nlu::error::NluError;
use crate::types::{Intent, IntentExamples, Lang};

pub use zh::{mandarin_cues, MandarinCues};

/// The example utterances, English ones embedded once at load.
pub struct IntentClassifier {
    en: Vec<(Intent, Vec<f32>)>,
    zh: Vec<(Intent, zh::Grams)>,
}

impl std::fmt::Debug for IntentClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentClassifier")
            .field("en_examples", &self.en.len())
            .field("zh_examples", &self.zh.len())
            .finish()
    }
}

impl IntentClassifier {
    /// Embeds the built-in English examples and the script's, and indexes the
    /// Mandarin ones.
    pub fn load(minilm: &MiniLm, script: &IntentExamples) -> Result<Self, NluError> {
        let mut en_texts: Vec<(Intent, &str)> = examples::EN
            .iter()
            .flat_map(|(i, ts)| ts.iter().map(move |t| (*i, *t)))
            .collect();
        let mut zh_texts: Vec<(Intent, &str)> = examples::ZH
            .iter()
            .flat_map(|(i, ts)| ts.iter().map(move |t| (*i, *t)))
            .collect();
        // An empty example would embed as bare [CLS] [SEP] and attract noise.
        for (intent, lang, text) in script.examples.iter().filter(|e| !e.2.trim().is_empty()) {
            match lang {
                Lang::En => en_texts.push((*intent, text.as_str())),
                Lang::Zh => zh_texts.push((*intent, text.as_str())),
            }
        }
        let mut en = Vec::with_capacity(en_texts.len());
        for chunk in en_texts.chunks(32) {
            let texts: Vec<&str> = chunk.iter().map(|(_, t)| *t).collect();
            let embedded = minilm.embed_batch(&texts)?;
            en.extend(chunk.iter().map(|(i, _)| *i).zip(embedded));
        }
        let zh = zh_texts
            .into_iter()
            .map(|(i, t)| (i, zh::Grams::of(t)))
            .collect();
        Ok(IntentClassifier { en, zh })
    }

    /// How close an English utterance (its embedding) is to each intent's examples.
    pub fn english_scores(&self, embedding: &[f32]) -> IntentScores {
        IntentScores::from_pairs(self.en.iter().map(|(i, e)| (*i, cosine(embedding, e))))
    }

    /// How close a Mandarin utterance is to each intent's examples.
    pub fn mandarin_scores(&self, text: &str) -> IntentScores {
        let grams = zh::Grams::of(text);
        IntentScores::from_pairs(self.zh.iter().map(|(i, g)| (*i, grams.dice(g))))
    }
}

/// The best similarity per intent, highest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntentScores {
    pub scores: Vec<(Intent, f32)>,
}

impl IntentScores {
    fn from_pairs(pairs: impl Iterator<Item = (Intent, f32)>) -> Self {
        let mut scores: Vec<(Intent, f32)> = Vec::new();
        for (intent, s) in pairs {
            match scores.iter_mut().find(|(i, _)| *i == intent) {
                Some((_, best)) => *best = best.max(s),
                None => scores.push((intent, s)),
            }
        }
        scores.sort_by(|a, b| b.1.total_cmp(&a.1));
        IntentScores { scores }
    }

    pub fn best(&self) -> Option<(Intent, f32)> {
        self.scores.first().copied()
    }

    pub fn of(&self, intent: Intent) -> f32 {
        self.scores
            .iter()
            .find(|(i, _)| *i == intent)
            .map_or(0.0, |(_, s)| *s)
    }
}

/// Everything known about a turn when its intent is decided.
#[derive(Debug, Clone)]
pub struct TurnCues {
    pub lang: Lang,
    /// The question is a yes/no question.
    pub yes_no: bool,
    /// What the keyword rules said, if anything.
    pub rule: Option<(Intent, f32)>,
    /// A slot the question asked for was found in the turn.
    pub fills_expected: bool,
    /// Words that carry meaning (fillers like "uh", 嗯 not counted; Mandarin counts
    /// characters of content words).
    pub content_words: usize,
    /// Similarity to the example utterances.
    pub similar: IntentScores,
    /// The turn leads with a yes or a no word ("yeah …", "no, I …", 不是 …).
    pub polarity: Option<Intent>,
    /// The only expected slot found is free text (a project description), which
    /// any utterance fills: weak evidence of an answer.
    pub fills_only_free_text: bool,
    /// The question asked when to call back and the turn says when: "call me at
    /// three" is then the answer, not a new request to reschedule.
    pub answers_callback: bool,
    /// A time or "later" is said (a callback time was parsed, 改天, "next week").
    pub time_mentioned: bool,
    /// English: the turn asks to be called or talked to again ("ring me", "try
    /// again", "give me an hour"); with a time, that is a reschedule however the
    /// rest of the sentence reads.
    pub call_back_asked: bool,
    /// Mandarin only: LAC-derived cues.
    pub mandarin: Option<MandarinCues>,
}

/// The lowest similarity at which an example match counts, per language and
/// intent. MiniLM cosines of unrelated short English sentences sit around
/// 0.1–0.4, paraphrases 0.6–0.9; bigram Dice is harsher on paraphrase.
fn accept(lang: Lang, intent: Intent) -> f32 {
    match (lang, intent) {
        (Lang::En, Intent::OptOut) => 0.62,
        (Lang::En, Intent::Reschedule | Intent::Repeat) => 0.58,
        (Lang::En, _) => 0.55,
        (Lang::Zh, Intent::OptOut) => 0.7,
        (Lang::Zh, _) => 0.6,
    }
}

/// On a yes/no question with no clear match, the closer of yes and no wins when
/// at least this close.
const YES_NO_FALLBACK: f32 = 0.4;
/// Content words from which an unmatched turn to an open question is an answer.
const ANSWER_MIN_WORDS_EN: usize = 3;
const ANSWER_MIN_CHARS_ZH: usize = 3;

/// The intent and its confidence (0..1), in the order the module doc gives.
pub fn decide(c: &TurnCues) -> (Intent, f32) {
    match c.rule {
        Some((Intent::Reschedule, _)) if c.answers_callback => return (Intent::Answer, 0.9),
        Some((i @ (Intent::OptOut | Intent::Reschedule | Intent::Repeat), s)) => return (i, s),
        _ => {}
    }
    if c.fills_expected && c.fills_only_free_text {
        // Free text takes any utterance; "sorry what was the question" is no project.
        if let Some(i) = call_changing(c, FREE_TEXT_SLACK) {
            return i;
        }
    }
    if c.fills_expected {
        return (Intent::Answer, 0.9);
    }
    if let Some(rule) = c.rule {
        return rule;
    }
    if c.content_words == 0 {
        return (Intent::Unclear, 0.0);
    }
    if let Some(i) = call_changing(c, 0.0) {
        return i;
    }
    if let Some((i, s)) = c.similar.best() {
        if s >= accept(c.lang, i) {
            match (c.yes_no, c.polarity) {
                // MiniLM barely sees negation ("no, I haven't" ~ "yes, I have"):
                // the leading word decides between yes, no and a bare answer.
                // (What is left here is yes, no, an answer, or a reschedule the
                // leading yes contradicts: call_changing took the rest.)
                (true, Some(p)) => return (p, s),
                (true, None) if i == Intent::Answer => {}
                _ => return (i, s),
            }
        }
    }
    if c.yes_no {
        if let Some(p) = c.polarity {
            return (p, 0.6);
        }
        let (yes, no) = (c.similar.of(Intent::Yes), c.similar.of(Intent::No));
        if yes.max(no) >= YES_NO_FALLBACK {
            return if yes >= no {
                (Intent::Yes, yes)
            } else {
                (Intent::No, no)
            };
        }
    }
    let enough = match c.lang {
        Lang::En => ANSWER_MIN_WORDS_EN,
        Lang::Zh => ANSWER_MIN_CHARS_ZH,
    };
    if c.content_words >= enough {
        // An open question got a reply with substance that matched nothing else.
        let s = c.similar.of(Intent::Answer).max(0.5);
        return (Intent::Answer, s);
    }
    (Intent::Unclear, c.similar.best().map_or(0.0, |(_, s)| s))
}

/// How much closer than an answer a call-changing example must be for a turn that
/// filled a free-text slot, and how far under its usual threshold it may be.
const FREE_TEXT_SLACK: f32 = 0.1;
const FREE_TEXT_MARGIN: f32 = 0.25;

/// Opt out, reschedule or repeat, from Mandarin phrase cues or a close example.
/// `slack` > 0 (free-text answers) lowers the threshold but then asks the example
/// to beat the closest answer example by a clear margin.
fn call_changing(c: &TurnCues, slack: f32) -> Option<(Intent, f32)> {
    if let Some(cues) = &c.mandarin {
        if cues.opt_out {
            return Some((Intent::OptOut, 0.8));
        }
        if cues.repeat {
            return Some((Intent::Repeat, 0.75));
        }
        if cues.reschedule {
            return Some((Intent::Reschedule, 0.75));
        }
    }
    if c.call_back_asked && c.time_mentioned && !c.answers_callback {
        return Some((Intent::Reschedule, 0.7));
    }
    let (i, s) = c.similar.best()?;
    if c.answers_callback && i == Intent::Reschedule {
        return None;
    }
    let changes = matches!(i, Intent::OptOut | Intent::Reschedule | Intent::Repeat);
    // "Yes, this is a good time" sits close to "this is not a good time".
    let contradicted = c.yes_no && c.polarity == Some(Intent::Yes) && i == Intent::Reschedule;
    let close = if slack > 0.0 {
        s >= accept(c.lang, i) - slack && s - c.similar.of(Intent::Answer) >= FREE_TEXT_MARGIN
    } else {
        s >= accept(c.lang, i)
    };
    if !(changes && !contradicted && close) {
        return None;
    }
    // "Not a good time" with no time or "later" to a yes/no question is a no (the
    // dialog then asks when to call), as the keyword rules have it.
    if c.yes_no && i == Intent::Reschedule && !c.time_mentioned {
        return Some((Intent::No, s));
    }
    Some((i, s))
}

/// The yes or no an English turn leads with, fillers skipped.
pub fn english_polarity(text: &str) -> Option<Intent> {
    const YES: &[&str] = &[
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "absolutely",
        "definitely",
        "correct",
        "right",
        "certainly",
        "exactly",
    ];
    const NO: &[&str] = &["no", "nope", "nah", "not", "never", "negative"];
    let first = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(str::to_lowercase)
        .find(|w| !w.is_empty() && !EN_FILLERS.contains(&w.as_str()))?;
    if YES.contains(&first.as_str()) {
        Some(Intent::Yes)
    } else if NO.contains(&first.as_str()) {
        Some(Intent::No)
    } else {
        None
    }
}

const EN_FILLERS: &[&str] = &[
    "uh", "um", "umm", "uhm", "er", "erm", "ah", "hmm", "mm", "mhm", "oh", "well", "like", "so",
    "okay", "ok",
];

/// Whether an English turn names a time or "later" (for telling "call me later"
/// from a bare "not a good time").
pub fn english_mentions_time(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "later",
        "tomorrow",
        "tonight",
        "another",
        "next",
        "back",
        "again",
        "morning",
        "afternoon",
        "evening",
        "minutes",
        "hour",
        "hours",
        "week",
        "weekend",
        "reschedule",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "after",
        "when",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| WORDS.contains(&w.to_lowercase().as_str()))
}

/// Whether an English turn asks to be called or talked to again: a call verb
/// followed closely by me/again/back/later, or "give me" an amount of time.
pub fn english_asks_call_back(text: &str) -> bool {
    const VERBS: &[&str] = &[
        "call", "ring", "phone", "try", "reach", "talk", "speak", "contact", "do",
    ];
    const AFTER: &[&str] = &[
        "me", "again", "back", "later", "tomorrow", "tonight", "this",
    ];
    const SPANS: &[&str] = &[
        "minute", "minutes", "hour", "hours", "an", "a", "couple", "few", "some", "ten", "five",
        "fifteen", "twenty", "thirty", "half",
    ];
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        let next = |k: usize| words.get(i + k).map(String::as_str);
        (VERBS.contains(&w.as_str())
            && (1..=2).any(|k| next(k).is_some_and(|n| AFTER.contains(&n))))
            || (w == "give" && next(1) == Some("me") && next(2).is_some_and(|n| SPANS.contains(&n)))
    })
}

/// Phrases that hold the floor without saying anything: someone thinking.
const EN_STALLS: &[&[&str]] = &[
    &["let", "me", "think"],
    &["let", "me", "see"],
    &["hold", "on"],
    &["one", "moment"],
    &["one", "second"],
    &["just", "a", "second"],
    &["give", "me", "a", "second"],
    &["good", "question"],
];

/// Words of an English utterance that are not fillers or a stall ("hmm, let me
/// think" says nothing yet).
pub fn english_content_words(text: &str) -> usize {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut count = 0;
    let mut i = 0;
    while i < words.len() {
        let stall = EN_STALLS
            .iter()
            .find(|s| words.len() - i >= s.len() && s.iter().zip(&words[i..]).all(|(a, b)| a == b));
        if let Some(s) = stall {
            i += s.len();
            continue;
        }
        if !EN_FILLERS.contains(&words[i].as_str()) {
            count += 1;
        }
        i += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(lang: Lang) -> TurnCues {
        TurnCues {
            lang,
            yes_no: false,
            rule: None,
            fills_expected: false,
            content_words: 5,
            similar: IntentScores::default(),
            polarity: None,
            fills_only_free_text: false,
            answers_callback: false,
            time_mentioned: false,
            call_back_asked: false,
            mandarin: None,
        }
    }

    fn scores(pairs: &[(Intent, f32)]) -> IntentScores {
        IntentScores::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn call_changing_rules_beat_a_filled_slot() {
        let mut c = cues(Lang::En);
        c.fills_expected = true;
        c.rule = Some((Intent::Reschedule, 1.0));
        assert_eq!(decide(&c).0, Intent::Reschedule);
        c.rule = Some((Intent::Yes, 1.0));
        assert_eq!(decide(&c).0, Intent::Answer);
    }

    #[test]
    fn opt_out_needs_a_closer_match_than_an_answer() {
        let mut c = cues(Lang::En);
        c.similar = scores(&[(Intent::OptOut, 0.6), (Intent::Answer, 0.3)]);
        assert_eq!(decide(&c).0, Intent::Answer, "weak opt-out falls back");
        c.similar = scores(&[(Intent::OptOut, 0.7), (Intent::Answer, 0.3)]);
        assert_eq!(decide(&c).0, Intent::OptOut);
    }

    #[test]
    fn yes_no_questions_get_yes_or_no() {
        let mut c = cues(Lang::En);
        c.yes_no = true;
        c.similar = scores(&[
            (Intent::Answer, 0.7),
            (Intent::Yes, 0.45),
            (Intent::No, 0.2),
        ]);
        assert_eq!(decide(&c).0, Intent::Yes);
        c.content_words = 1;
        c.similar = scores(&[(Intent::Answer, 0.3), (Intent::Yes, 0.2), (Intent::No, 0.1)]);
        assert_eq!(decide(&c).0, Intent::Unclear);
    }

    #[test]
    fn short_unmatched_turns_are_unclear_long_ones_answers() {
        let mut c = cues(Lang::En);
        c.similar = scores(&[(Intent::Yes, 0.3)]);
        c.content_words = 1;
        assert_eq!(decide(&c).0, Intent::Unclear);
        c.content_words = 6;
        assert_eq!(decide(&c).0, Intent::Answer);
        c.content_words = 0;
        assert_eq!(decide(&c).0, Intent::Unclear);
    }

    #[test]
    fn scores_keep_the_best_per_intent_sorted() {
        let s = scores(&[(Intent::No, 0.2), (Intent::Yes, 0.5), (Intent::No, 0.7)]);
        assert_eq!(s.best(), Some((Intent::No, 0.7)));
        assert_eq!(s.of(Intent::Yes), 0.5);
        assert_eq!(s.of(Intent::OptOut), 0.0);
    }

    #[test]
    fn leading_polarity_settles_yes_no_confusions() {
        let mut c = cues(Lang::En);
        c.yes_no = true;
        c.polarity = english_polarity("No, I haven't worked remotely");
        assert_eq!(c.polarity, Some(Intent::No));
        c.similar = scores(&[(Intent::Yes, 0.7), (Intent::No, 0.5)]);
        assert_eq!(decide(&c).0, Intent::No);
        // A yes does not turn "call me later" into a yes, but "yes, good time" is one.
        c.polarity = english_polarity("uh yeah this is a good time");
        c.similar = scores(&[(Intent::Reschedule, 0.66), (Intent::Yes, 0.5)]);
        assert_eq!(decide(&c).0, Intent::Yes);
        c.polarity = None;
        c.time_mentioned = true;
        assert_eq!(decide(&c).0, Intent::Reschedule);
        c.time_mentioned = false;
        assert_eq!(decide(&c).0, Intent::No, "not a good time, no time given");
    }

    #[test]
    fn free_text_does_not_hide_a_repeat_request() {
        let mut c = cues(Lang::En);
        c.fills_expected = true;
        c.fills_only_free_text = true;
        c.similar = scores(&[(Intent::Repeat, 0.7), (Intent::Answer, 0.3)]);
        assert_eq!(decide(&c).0, Intent::Repeat);
        c.fills_only_free_text = false;
        assert_eq!(decide(&c).0, Intent::Answer);
    }

    #[test]
    fn a_callback_time_answers_the_callback_question() {
        let mut c = cues(Lang::En);
        c.fills_expected = true;
        c.rule = Some((Intent::Reschedule, 0.9));
        assert_eq!(decide(&c).0, Intent::Reschedule);
        c.answers_callback = true;
        assert_eq!(decide(&c).0, Intent::Answer);
    }

    #[test]
    fn asking_to_be_called_again_with_a_time_is_a_reschedule() {
        assert!(english_asks_call_back("now doesnt work ring me tomorrow"));
        assert!(english_asks_call_back("give me a couple of hours"));
        assert!(english_asks_call_back("could you try again around eight"));
        assert!(!english_asks_call_back("i called the client every day"));
        assert!(!english_asks_call_back("give me the salary range first"));
        let mut c = cues(Lang::En);
        c.yes_no = true;
        c.call_back_asked = true;
        c.similar = scores(&[(Intent::Answer, 0.4)]);
        assert_eq!(decide(&c).0, Intent::Answer, "no time said");
        c.time_mentioned = true;
        assert_eq!(decide(&c).0, Intent::Reschedule);
    }

    #[test]
    fn fillers_are_not_content() {
        assert_eq!(english_content_words("uh um well"), 0);
        assert_eq!(english_content_words("Hmm, let me think."), 0);
        assert_eq!(
            english_content_words("Hold on, let me see... five years."),
            2
        );
        assert_eq!(english_content_words("uh i've got five years"), 4);
    }
}
