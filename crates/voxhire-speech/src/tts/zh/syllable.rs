//! One pinyin syllable ("zhong1") to misaki's Mandarin phonemes ("ꭧʊ→ŋ"), the
//! phoneme set Kokoro v1.0 was trained on.
//!
//! misaki (Apache-2.0) maps pinyin through the `pinyin-to-ipa` tables (MIT): the
//! strict initial and final of the syllable, each to IPA, with the tone written
//! after the nucleus vowel as a contour (˥ ˧˥ ˧˩˧ ˥˩) that misaki then rewrites as
//! an arrow: tone 1 `→`, 2 `↗`, 3 `↓`, 4 `↘`, neutral nothing. Apical vowels
//! (zhi, ci, ri…) become `ɨ`, non-syllabic marks are dropped. This is a table
//! written from those rules, not a copy of either project's code.

/// misaki's tone arrows, indexed by tone number (5 = neutral).
fn tone_mark(tone: u8) -> &'static str {
    match tone {
        1 => "→",
        2 => "↗",
        3 => "↓",
        4 => "↘",
        _ => "",
    }
}

/// Initials, longest first so "zh" wins over "z".
const INITIALS: &[(&str, &str)] = &[
    ("zh", "ꭧ"),
    ("ch", "ꭧʰ"),
    ("sh", "ʂ"),
    ("b", "p"),
    ("p", "pʰ"),
    ("m", "m"),
    ("f", "f"),
    ("d", "t"),
    ("t", "tʰ"),
    ("n", "n"),
    ("l", "l"),
    ("g", "k"),
    ("k", "kʰ"),
    ("h", "x"),
    ("j", "ʨ"),
    ("q", "ʨʰ"),
    ("x", "ɕ"),
    ("r", "ɻ"),
    ("z", "ʦ"),
    ("c", "ʦʰ"),
    ("s", "s"),
];

/// A strict final (pinyin spelling rules undone) as (glide, nucleus, coda); the
/// tone goes after the nucleus.
fn final_parts(strict_final: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match strict_final {
        "a" => ("", "a", ""),
        "ai" => ("", "ai", ""),
        "an" => ("", "a", "n"),
        "ang" => ("", "a", "ŋ"),
        "ao" => ("", "au", ""),
        "e" => ("", "ɤ", ""),
        "ei" => ("", "ei", ""),
        "en" => ("", "ə", "n"),
        "eng" => ("", "ə", "ŋ"),
        "i" => ("", "i", ""),
        "ia" => ("j", "a", ""),
        "ian" => ("j", "ɛ", "n"),
        "iang" => ("j", "a", "ŋ"),
        "iao" => ("j", "au", ""),
        "ie" => ("j", "e", ""),
        "in" => ("", "i", "n"),
        "iou" => ("j", "ou", ""),
        "ing" => ("", "i", "ŋ"),
        "iong" => ("j", "ʊ", "ŋ"),
        "ong" => ("", "ʊ", "ŋ"),
        "ou" => ("", "ou", ""),
        "u" => ("", "u", ""),
        "uei" => ("w", "ei", ""),
        "ua" => ("w", "a", ""),
        "uai" => ("w", "ai", ""),
        "uan" => ("w", "a", "n"),
        "uen" => ("w", "ə", "n"),
        "uang" => ("w", "a", "ŋ"),
        "ueng" => ("w", "ə", "ŋ"),
        "uo" | "o" => ("w", "o", ""),
        "ü" => ("", "y", ""),
        "üe" => ("ɥ", "e", ""),
        "üan" => ("ɥ", "ɛ", "n"),
        "ün" => ("", "y", "n"),
        _ => return None,
    })
}

/// Syllables that are not initial + final: interjections and syllabic nasals.
fn whole_syllable(plain: &str) -> Option<(&'static str, &'static str)> {
    // (phonemes before the tone, after it)
    Some(match plain {
        "er" => ("ɚ", ""),
        "o" => ("ɔ", ""),
        "io" | "yo" => ("jɔ", ""),
        "ê" => ("ɛ", ""),
        "m" => ("m", ""),
        "n" => ("n", ""),
        "ng" => ("ŋ", ""),
        "hm" => ("hm", ""),
        "hng" => ("hŋ", ""),
        _ => return None,
    })
}

/// The strict final of a syllable without its initial: undoes pinyin's spelling
/// conventions (y-/w- for a missing initial, ü written u after j/q/x, iu/ui/un).
fn strict_final(initial: &str, rest: &str) -> String {
    if initial.is_empty() {
        if let Some(r) = rest.strip_prefix('y') {
            return match r {
                "i" | "in" | "ing" => r.to_owned(),
                "u" | "ue" | "uan" | "un" => format!("ü{}", &r[1..]),
                "ou" => "iou".to_owned(),
                _ => format!("i{r}"),
            };
        }
        if let Some(r) = rest.strip_prefix('w') {
            return match r {
                "u" => "u".to_owned(),
                "ei" => "uei".to_owned(),
                "en" => "uen".to_owned(),
                _ => format!("u{r}"),
            };
        }
        return rest.to_owned();
    }
    if matches!(initial, "j" | "q" | "x") && rest.starts_with('u') {
        return format!("ü{}", &rest[1..]);
    }
    match rest {
        "iu" => "iou".to_owned(),
        "ui" => "uei".to_owned(),
        "un" => "uen".to_owned(),
        _ => rest.to_owned(),
    }
}

/// misaki phonemes of one syllable in "TONE3" form (`zhong1`, `de5` or `de` for the
/// neutral tone, `lü4`/`lv4`). `None` if it is not a Mandarin syllable.
pub fn to_phonemes(pinyin: &str) -> Option<String> {
    let pinyin = pinyin.trim().to_lowercase().replace('v', "ü");
    let (plain, tone) = match pinyin.chars().last()? {
        d @ '0'..='5' => (&pinyin[..pinyin.len() - 1], d as u8 - b'0'),
        _ => (pinyin.as_str(), 5),
    };
    let mark = tone_mark(tone);
    if let Some((before, after)) = whole_syllable(plain) {
        return Some(format!("{before}{mark}{after}"));
    }
    let (initial, initial_ipa) = INITIALS
        .iter()
        .find(|(spelling, _)| plain.starts_with(spelling) && plain.len() > spelling.len())
        .map_or(("", ""), |&(s, ipa)| (s, ipa));
    let rest = &plain[initial.len()..];
    let strict = strict_final(initial, rest);
    let (glide, nucleus, coda) =
        if strict == "i" && matches!(initial, "zh" | "ch" | "sh" | "r" | "z" | "c" | "s") {
            ("", "ɨ", "") // apical vowel of zhi/chi/shi/ri and zi/ci/si
        } else {
            final_parts(&strict)?
        };
    Some(format!("{initial_ipa}{glide}{nucleus}{mark}{coda}"))
}

#[cfg(test)]
mod tests {
    use super::to_phonemes;

    fn p(s: &str) -> String {
        to_phonemes(s).unwrap_or_else(|| panic!("{s} not a syllable"))
    }

    #[test]
    fn initials_finals_and_tones() {
        assert_eq!(p("zhong1"), "ꭧʊ→ŋ");
        assert_eq!(p("guo2"), "kwo↗");
        assert_eq!(p("ni3"), "ni↓");
        assert_eq!(p("hao3"), "xau↓");
        assert_eq!(p("shi4"), "ʂɨ↘");
        assert_eq!(p("zi5"), "ʦɨ");
        assert_eq!(p("de"), "tɤ");
        assert_eq!(p("chi1"), "ꭧʰɨ→");
        assert_eq!(p("ri4"), "ɻɨ↘");
        assert_eq!(p("nian2"), "njɛ↗n");
        assert_eq!(p("jing1"), "ʨi→ŋ");
        assert_eq!(p("xiong2"), "ɕjʊ↗ŋ");
        assert_eq!(p("bo1"), "pwo→");
    }

    #[test]
    fn spelling_conventions_are_undone() {
        assert_eq!(p("yi1"), "i→");
        assert_eq!(p("you3"), "jou↓");
        assert_eq!(p("yan4"), "jɛ↘n");
        assert_eq!(p("yu2"), "y↗");
        assert_eq!(p("yuan2"), "ɥɛ↗n");
        assert_eq!(p("yun4"), "y↘n");
        assert_eq!(p("wu3"), "u↓");
        assert_eq!(p("wo3"), "wo↓");
        assert_eq!(p("wei4"), "wei↘");
        assert_eq!(p("wen4"), "wə↘n");
        assert_eq!(p("ju2"), "ʨy↗");
        assert_eq!(p("xue2"), "ɕɥe↗");
        assert_eq!(p("qun2"), "ʨʰy↗n");
        assert_eq!(p("liu2"), "ljou↗");
        assert_eq!(p("gui4"), "kwei↘");
        assert_eq!(p("lun4"), "lwə↘n");
        assert_eq!(p("nü3"), "ny↓");
        assert_eq!(p("lv4"), "ly↘");
        assert_eq!(p("lüe4"), "lɥe↘");
    }

    #[test]
    fn whole_syllables() {
        assert_eq!(p("er2"), "ɚ↗");
        assert_eq!(p("n2"), "n↗");
        assert_eq!(p("o2"), "ɔ↗");
        assert!(to_phonemes("xyz1").is_none());
        assert!(to_phonemes("").is_none());
    }
}
