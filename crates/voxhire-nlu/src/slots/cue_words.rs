//! Mandarin cue words heard as homophones.
//!
//! Over a phone line Whisper often writes a word it heard in other characters
//! that sound the same and mean nothing in the answer: 约底 for 月底, 倒港 for 到岗,
//! 心知 for 薪资 (the "希望心知的话…两万五"). The extractors key on those
//! words (月底 is a date, 薪资 marks a salary, 离职 a notice period), so before
//! they run, a window of Chinese characters that sounds exactly like a cue word
//! — the same toneless pinyin after the folds a phone line blurs (zh/z, ch/c,
//! sh/s, n/l, -ng/-n; see `skills::sounds`) — is read as that word. Only exact
//! matches of two syllables or more are taken, and only character for
//! character, so byte offsets are unchanged and the evidence quotes the
//! characters that were heard.

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::skills::sounds::{Reading, Unit};

/// The words the Mandarin extractors key on that a homophone can hide.
const CUE_WORDS: [&str; 18] = [
    // Start date and notice period.
    "月底",
    "月初",
    "月中",
    "到岗",
    "入职",
    "离职",
    "辞职",
    "交接",
    "下周",
    "下个月",
    "随时",
    "马上",
    // Salary.
    "薪资",
    "月薪",
    "年薪",
    "工资",
    "税前",
    "左右",
];

/// Each cue word with its sound, read once.
static CUE_SOUNDS: LazyLock<Vec<(&str, Vec<Unit>)>> = LazyLock::new(|| {
    CUE_WORDS
        .iter()
        .map(|&w| (w, Reading::of(w).units()))
        .collect()
});

/// `text` with every homophone of a cue word replaced by the word.
pub(crate) fn normalise(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let reading = Reading::of(text);
    let mut out: Option<String> = None;
    for (word, units) in CUE_SOUNDS.iter() {
        for m in reading.find(units) {
            let heard = &text[m.span.clone()];
            // A window of as many syllables as the word: the same length in bytes
            // and no Latin word in it keeps every offset where it was.
            let same_shape = heard.len() == word.len() && heard.chars().all(|c| !c.is_ascii());
            if m.cost > 0.0 || !same_shape || heard == *word {
                continue;
            }
            out.get_or_insert_with(|| text.to_owned())
                .replace_range(m.span, word);
        }
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn homophones_of_cue_words_are_read_as_the_words() {
        // Transcripts Whisper base wrote for phone-band answers.
        assert_eq!(normalise("约底罢要交接以下。"), "月底罢要交接以下。");
        assert_eq!(normalise("2周以后可以倒港。"), "2周以后可以到岗。");
        assert_eq!(normalise("希望心知的话两万五"), "希望薪资的话两万五");
    }

    #[test]
    fn other_words_and_other_sounds_are_left_alone() {
        for text in [
            // 公司 gongsi is not 工资 gongzi; 希望 is not 期望.
            "我在公司做了三年，希望两万。",
            "月底可以到岗。",
            "主要用React和Vue。",
            // One syllable alone (底) is never taken.
            "底薪多少？",
            "",
        ] {
            assert_eq!(normalise(text), text);
        }
    }
}
