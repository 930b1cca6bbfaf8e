//! The languages voxhire interviews in: one [`Lang`] shared by recognition,
//! synthesis, understanding, the dialog and the engine, so that a language
//! never needs converting between crates.
#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An interview language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    /// Mandarin, written in simplified characters.
    Zh,
}

impl Lang {
    /// Every language, in a stable order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The ISO 639-1 code: `en`, `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language name that is not one voxhire speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLang(pub String);

impl fmt::Display for UnknownLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown language {:?} (expected en or zh)", self.0)
    }
}

impl std::error::Error for UnknownLang {}

impl FromStr for Lang {
    type Err = UnknownLang;

    /// Accepts the codes and the common names and tags: `en`, `en-US`,
    /// `english`; `zh`, `zh-CN`, `cmn`, `mandarin`, `chinese`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" | "english" => Ok(Lang::En),
            "zh" | "zh-cn" | "zh-hans" | "cmn" | "mandarin" | "chinese" => Ok(Lang::Zh),
            _ => Err(UnknownLang(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_serde_agree() {
        for lang in Lang::ALL {
            assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
            assert_eq!(lang.to_string(), lang.code());
            assert_eq!(
                serde_json::to_string(&lang).unwrap(),
                format!("\"{}\"", lang.code())
            );
        }
        assert_eq!("Mandarin".parse::<Lang>(), Ok(Lang::Zh));
        assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::Zh));
        assert_eq!("en-US".parse::<Lang>(), Ok(Lang::En));
    }

    #[test]
    fn an_unknown_language_names_itself_and_the_choices() {
        let e = "fr".parse::<Lang>().unwrap_err();
        assert_eq!(e.to_string(), "unknown language \"fr\" (expected en or zh)");
    }
}
