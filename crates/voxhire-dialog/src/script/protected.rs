//! Protected attributes a screening interview must never ask about or score.
//!
//! Anti-discrimination law (US Title VII/ADEA/ADA, EU equal-treatment directives,
//! PRC Employment Promotion Law art. 3, 27, 29, 31) forbids using age, sex/gender,
//! race, ethnic or national origin, religion, marital or family status, pregnancy,
//! health or disability in hiring. The script loader refuses any script whose
//! question ids, slot names, conditions, skills, keywords or question texts refer
//! to them. The slots voxhire extracts (years of experience, skills, salary, start
//! date, notice period, callback time, project) are job-related by construction;
//! this check stops a script author from smuggling a protected topic into a
//! question's wording or its scoring.
//!
//! English terms match whole words (so "manage" is not "age" and "original" is
//! not "origin"); Chinese terms match as substrings.

/// Words that must not name a question, slot, skill or keyword.
const IDENTIFIER_WORDS: &[&str] = &[
    "age",
    "birth",
    "birthday",
    "born",
    "gender",
    "sex",
    "male",
    "female",
    "race",
    "racial",
    "ethnic",
    "ethnicity",
    "origin",
    "nationality",
    "citizenship",
    "religion",
    "religious",
    "married",
    "marital",
    "marriage",
    "spouse",
    "pregnant",
    "pregnancy",
    "children",
    "kids",
    "family",
    "health",
    "medical",
    "disability",
    "disabled",
    "orientation",
];

/// Phrases that must not appear in what the agent says. Narrower than the word
/// list because a technical interview legitimately says "race condition",
/// "health check", "same-origin policy" or "max-age".
const SPOKEN_PHRASES: &[&str] = &[
    "how old",
    "your age",
    "date of birth",
    "year of birth",
    "were you born",
    "your gender",
    "your sex",
    "your race",
    "ethnic",
    "ethnicity",
    "national origin",
    "nationality",
    "where are you from",
    "religion",
    "religious",
    "married",
    "marital",
    "your spouse",
    "your husband",
    "your wife",
    "pregnant",
    "pregnancy",
    "have children",
    "have kids",
    "your health",
    "health condition",
    "medical condition",
    "disability",
    "disabled",
    "sexual orientation",
];

/// Chinese terms, for identifiers and spoken text alike (substring match).
const CHINESE: &[&str] = &[
    "年龄",
    "多大了",
    "多大年纪",
    "几岁",
    "出生",
    "生日",
    "性别",
    "民族",
    "籍贯",
    "户籍",
    "户口",
    "国籍",
    "宗教",
    "信仰",
    "婚",
    "怀孕",
    "生育",
    "孩子",
    "小孩",
    "身体状况",
    "健康状况",
    "残疾",
    "疾病",
    "病史",
];

fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn chinese(text: &str) -> Option<String> {
    CHINESE
        .iter()
        .find(|t| text.contains(*t))
        .map(|t| (*t).to_owned())
}

/// The protected term an identifier (question id, slot name, skill id,
/// keyword) refers to, if any: `candidate_age`, `marital-status`.
pub(crate) fn check_term(name: &str) -> Option<String> {
    if let Some(t) = chinese(name) {
        return Some(t);
    }
    let words = words(name);
    IDENTIFIER_WORDS
        .iter()
        .find(|t| words.iter().any(|w| w == *t))
        .map(|t| (*t).to_owned())
}

/// The protected phrase a spoken line asks about, if any.
pub(crate) fn check_text(text: &str) -> Option<String> {
    if let Some(t) = chinese(text) {
        return Some(t);
    }
    let words = words(text);
    SPOKEN_PHRASES
        .iter()
        .find(|phrase| {
            let parts: Vec<&str> = phrase.split(' ').collect();
            words
                .windows(parts.len())
                .any(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
        })
        .map(|t| (*t).to_owned())
}

#[cfg(test)]
mod tests {
    use super::{check_term, check_text};

    #[test]
    fn identifiers_match_whole_words() {
        assert_eq!(check_term("candidate_age").as_deref(), Some("age"));
        assert_eq!(check_term("marital-status").as_deref(), Some("marital"));
        assert_eq!(check_term("婚姻状况").as_deref(), Some("婚"));
        assert_eq!(check_term("manager_years"), None);
        assert_eq!(check_term("years_experience"), None);
        assert_eq!(check_term("kubernetes"), None);
    }

    #[test]
    fn spoken_lines_match_phrases_not_tech_words() {
        assert_eq!(check_text("How old are you?").as_deref(), Some("how old"));
        assert_eq!(check_text("Are you married?").as_deref(), Some("married"));
        assert_eq!(check_text("你结婚了吗").as_deref(), Some("婚"));
        assert_eq!(check_text("你今年多大了？").as_deref(), Some("多大了"));
        assert_eq!(check_text("How do you find a race condition?"), None);
        assert_eq!(
            check_text("Explain the same-origin policy and max-age."),
            None
        );
        assert_eq!(check_text("Do you write health checks?"), None);
        assert_eq!(check_text("你的项目有多大规模？"), None);
        assert_eq!(check_text("你有几年前端开发经验？"), None);
    }
}
