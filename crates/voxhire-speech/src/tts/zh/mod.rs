//! Mandarin front end for Kokoro: text → misaki's Mandarin phonemes.
//!
//! The steps follow misaki's `ZHG2P` (the one Kokoro v1.0 was trained with):
//! numbers to Chinese numerals ([`numbers`]); full-width punctuation to ASCII plus
//! a space; jieba word segmentation (`jieba-rs`); pinyin per word (`pinyin` crate,
//! corrected by a small lexicon for heteronyms); each syllable to phonemes with a tone
//! arrow ([`syllable`]); syllables of a word joined, words separated by a space.
//! Latin-letter words inside Chinese (Java, Spring Cloud, HR) are phonemised with
//! espeak-ng's English voice, as Kokoro's English front end does (misaki would
//! drop them).

mod lexicon;
pub mod numbers;
pub mod syllable;

use jieba_rs::Jieba;
use pinyin::ToPinyin;

use super::espeak::Espeak;
use super::TtsError;

/// Mandarin grapheme-to-phoneme conversion. Building one loads jieba's dictionary
/// (≈ 0.3 s); share it.
pub struct MandarinG2p {
    jieba: Jieba,
    english: Option<Espeak>,
}

impl std::fmt::Debug for MandarinG2p {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MandarinG2p")
            .field("english", &self.english.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for MandarinG2p {
    fn default() -> Self {
        Self::new()
    }
}

/// What a run of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Han,
    Latin,
    Other,
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '〇')
}

fn run_of(c: char) -> Run {
    if is_han(c) {
        Run::Han
    } else if c.is_ascii_alphabetic() {
        Run::Latin
    } else {
        Run::Other
    }
}

/// Punctuation Kokoro knows; everything else outside words becomes a space.
fn is_kokoro_punctuation(c: char) -> bool {
    matches!(
        c,
        ';' | ':' | ',' | '.' | '!' | '?' | '—' | '…' | '"' | '(' | ')' | '“' | '”'
    )
}

impl MandarinG2p {
    /// Without English support: Latin words are dropped.
    pub fn new() -> Self {
        MandarinG2p {
            jieba: Jieba::new(),
            english: None,
        }
    }

    /// Latin words are phonemised with espeak-ng (voice `en-us`).
    pub fn with_english(english: Espeak) -> Self {
        MandarinG2p {
            jieba: Jieba::new(),
            english: Some(english),
        }
    }

    /// Words and their pinyin syllables (TONE3 form, 5 = neutral) after number
    /// conversion, for the Chinese parts of `text`.
    pub fn pinyin(&self, text: &str) -> Vec<(String, Vec<String>)> {
        let text = numbers::to_chinese(text);
        let mut out = Vec::new();
        for (run, s) in runs(&text) {
            if run == Run::Han {
                for word in self.jieba.cut(s, true) {
                    out.push((word.word.to_owned(), word_pinyin(word.word)));
                }
            }
        }
        out
    }

    /// misaki phonemes of `text`, ready for Kokoro's vocabulary.
    pub fn phonemes(&self, text: &str) -> Result<String, TtsError> {
        let text = map_punctuation(&numbers::to_chinese(text));
        let mut out = String::new();
        for (run, s) in runs(&text) {
            match run {
                Run::Han => {
                    let words: Vec<String> = self
                        .jieba
                        .cut(s, true)
                        .into_iter()
                        .map(|w| {
                            word_pinyin(w.word)
                                .iter()
                                .filter_map(|py| syllable::to_phonemes(py))
                                .collect::<String>()
                        })
                        .filter(|w| !w.is_empty())
                        .collect();
                    out.push_str(&words.join(" "));
                }
                Run::Latin => {
                    out.push(' ');
                    if let Some(espeak) = &self.english {
                        out.push_str(&kokoro_english(&espeak.ipa_clauses(s)?.join(" ")));
                        out.push(' ');
                    }
                }
                Run::Other => {
                    out.extend(
                        s.chars()
                            .map(|c| if is_kokoro_punctuation(c) { c } else { ' ' }),
                    )
                }
            }
        }
        Ok(tidy_spaces(&out))
    }
}

impl MandarinG2p {
    /// Where to cut a long sentence for an early first chunk: the first word
    /// boundary with at least `min_chars` characters before it and three after,
    /// not just before a particle (的, 了, 吗 …) that belongs to the word before.
    pub fn phrase_cut(&self, sentence: &str, min_chars: usize) -> Option<usize> {
        let total = sentence.chars().filter(|c| c.is_alphanumeric()).count();
        let mut before = 0;
        let words = self.jieba.cut(sentence, true);
        for (k, word) in words.iter().enumerate() {
            before += word.word.chars().filter(|c| c.is_alphanumeric()).count();
            let next = words.get(k + 1)?;
            let particle = matches!(
                next.word,
                "的" | "了" | "吗" | "呢" | "吧" | "啊" | "着" | "过" | "们" | "地" | "得"
            );
            if before >= min_chars
                && total - before >= 3
                && !particle
                && !next.word.trim().is_empty()
            {
                return Some(next.byte_start);
            }
        }
        None
    }
}

/// Splits text into runs of Han characters, Latin words (with the spaces, hyphens
/// and apostrophes inside a phrase like "Spring Cloud") and everything else.
fn runs(text: &str) -> Vec<(Run, &str)> {
    let mut out: Vec<(Run, &str)> = Vec::new();
    let mut start = 0;
    let mut current: Option<Run> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let mut run = run_of(c);
        // Keep "Spring Cloud" together: a space, hyphen or apostrophe between two
        // Latin letters belongs to the Latin run.
        let joins_latin = matches!(c, ' ' | '-' | '\'')
            && current == Some(Run::Latin)
            && chars
                .get(k + 1)
                .is_some_and(|&(_, n)| n.is_ascii_alphabetic());
        if run == Run::Other && joins_latin {
            run = Run::Latin;
        }
        if current != Some(run) {
            if let Some(r) = current {
                out.push((r, &text[start..i]));
            }
            start = i;
            current = Some(run);
        }
    }
    if let Some(r) = current {
        out.push((r, &text[start..]));
    }
    out
}

/// Pinyin of one jieba word: listed words of the lexicon inside it (longest
/// first, so 多长时间 uses 多长), the rest per character.
fn word_pinyin(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let len = chars.len();
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while i < len {
        let listed = (2..=len - i).rev().find_map(|n| {
            let part: String = chars[i..i + n].iter().collect();
            lexicon::word(&part).map(|syllables| (n, syllables))
        });
        if let Some((n, syllables)) = listed {
            out.extend(syllables.into_iter().map(str::to_owned));
            i += n;
            continue;
        }
        let c = chars[i];
        if let Some(py) = lexicon::character(c, i, len) {
            out.push(py.to_owned());
        } else if let Some(p) = c.to_pinyin() {
            let py = p.with_tone_num_end();
            // The table writes the neutral tone without a number.
            if py.ends_with(|d: char| d.is_ascii_digit()) {
                out.push(py.to_owned());
            } else {
                out.push(format!("{py}5"));
            }
        }
        i += 1;
    }
    out
}

/// misaki's punctuation map: full-width marks become ASCII followed by a space,
/// book-title and corner brackets become curly quotes.
fn map_punctuation(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '、' | '，' => out.push_str(", "),
            '。' | '．' => out.push_str(". "),
            '！' => out.push_str("! "),
            '：' => out.push_str(": "),
            '；' => out.push_str("; "),
            '？' => out.push_str("? "),
            '«' | '《' | '「' | '【' | '『' => out.push_str(" “"),
            '»' | '》' | '」' | '】' | '』' => out.push_str("” "),
            '（' => out.push_str(" ("),
            '）' => out.push_str(") "),
            '～' | '~' => out.push_str("… "),
            _ => out.push(c),
        }
    }
    out
}

/// espeak-ng IPA to Kokoro's symbols, as kokoro.js does for English.
fn kokoro_english(ipa: &str) -> String {
    ipa.chars()
        .map(|c| match c {
            'ʲ' => 'j',
            'r' => 'ɹ',
            'x' => 'k',
            'ɬ' => 'l',
            other => other,
        })
        .collect()
}

/// Collapses runs of spaces, drops spaces before punctuation, trims.
fn tidy_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '”' | ')') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_latin_phrases_together() {
        let r = runs("会Spring Cloud和React吗？");
        assert_eq!(
            r,
            vec![
                (Run::Han, "会"),
                (Run::Latin, "Spring Cloud"),
                (Run::Han, "和"),
                (Run::Latin, "React"),
                (Run::Han, "吗"),
                (Run::Other, "？"),
            ]
        );
    }

    #[test]
    fn punctuation_and_spaces() {
        assert_eq!(map_punctuation("好的，谢谢。"), "好的, 谢谢. ");
        assert_eq!(tidy_spaces("  a  b , c .  "), "a b, c.");
    }
}
