//! Mandarin transcripts in one script and one width.
//!
//! Whisper base answers in traditional characters on some phone clips ("2萬5",
//! "還有一點") however it is prompted, and writes digits and Latin letters full
//! width ("Ｅ2"). Everything downstream (the NLU's number parsers, the skills
//! taxonomy, the report a recruiter reads) expects simplified Chinese with ASCII
//! digits, so every Mandarin transcript passes through [`normalise`]:
//! OpenCC's traditional → simplified conversion (its phrase and character
//! dictionaries, via `ferrous-opencc`, so 乾淨 → 干净 but 乾隆 stays) and a fold of
//! full-width ASCII letters and digits to half width. CJK punctuation (，。？) is
//! kept: it is how Mandarin is written.

use std::sync::LazyLock;

use ferrous_opencc::{config::BuiltinConfig, OpenCC};

static T2S: LazyLock<Option<OpenCC>> =
    LazyLock::new(|| match OpenCC::from_config(BuiltinConfig::T2s) {
        Ok(cc) => Some(cc),
        Err(e) => {
            // The dictionaries are compiled into the binary: this is a build defect,
            // not something a call can cause. Keep recognising, unconverted.
            tracing::error!(error = %e, "OpenCC t2s dictionaries failed to load");
            None
        }
    });

/// Simplified characters and half-width letters and digits.
pub fn normalise(text: &str) -> String {
    let folded: String = text.chars().map(fold_width).collect();
    match T2S.as_ref() {
        Some(cc) if folded.chars().any(is_han) => cc.convert(&folded),
        _ => folded,
    }
}

/// Full-width ASCII letters and digits (U+FF10–FF19, FF21–FF3A, FF41–FF5A) and
/// the ideographic space to their ASCII forms.
fn fold_width(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFF10 + 0x30).unwrap_or(c)
        }
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(
            normalise("主要是跟河曼西古,還有一點"),
            "主要是跟河曼西古,还有一点"
        );
        assert_eq!(
            normalise("希望心知的话2萬5组右吧"),
            "希望心知的话2万5组右吧"
        );
        assert_eq!(
            normalise("我負責過訂單系統的重構"),
            "我负责过订单系统的重构"
        );
    }

    #[test]
    fn full_width_letters_and_digits_fold() {
        assert_eq!(normalise("Ｅ２萬５"), "E2万5");
        assert_eq!(normalise("ｒｅａｃｔ　ｖｕｅ"), "react vue");
        // CJK punctuation stays.
        assert_eq!(normalise("可以，可以接受。"), "可以，可以接受。");
    }

    #[test]
    fn english_and_simplified_pass_through() {
        assert_eq!(normalise("I use React and Go."), "I use React and Go.");
        assert_eq!(normalise("我用过Kubernetes"), "我用过Kubernetes");
        assert_eq!(normalise(""), "");
    }
}
