//! The small condition language of follow-ups, knockouts and rubric tiers:
//!
//! ```text
//! cond  := all ("or" all)*
//! all   := atom ("and" atom)*
//! atom  := SLOT OP NUMBER            years_experience < 3, salary_monthly <= 40000
//!        | has:SLOT | missing:SLOT   has:start_date
//!        | has_skill:ID | missing_skill:ID
//! OP    := < <= > >= == !=
//! ```
//!
//! Parsed and checked when the script loads; evaluated on the slots the
//! candidate gave in answer to the question (its follow-ups included).

use std::fmt;

use serde::Serialize;
use voxhire_nlu::{SlotKind, SlotValue};

use super::protected::check_term;
use crate::slots::SlotTable;

/// A parsed condition; `Display` prints it back as written (normalised spacing).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    any: Vec<Vec<Atom>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Compare { slot: SlotKind, op: Op, value: f64 },
    Has(SlotKind),
    Missing(SlotKind),
    HasSkill(String),
    MissingSkill(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// Why a condition was refused (the caller adds file, key and line).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConditionError {
    Syntax(String),
    UnknownSlot(String),
    Protected(String),
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionError::Syntax(m) | ConditionError::UnknownSlot(m) => f.write_str(m),
            ConditionError::Protected(t) => write!(f, "protected attribute {t:?}"),
        }
    }
}

/// The numeric value of a slot, for comparisons: years, money per month, days.
pub(crate) fn numeric(value: &SlotValue) -> Option<f64> {
    match value {
        SlotValue::Years { years } => Some(f64::from(*years)),
        SlotValue::Money { amount, .. } => Some(*amount as f64),
        SlotValue::Days { days } => Some(f64::from(*days)),
        _ => None,
    }
}

fn is_numeric_slot(kind: SlotKind) -> bool {
    matches!(
        kind,
        SlotKind::YearsExperience | SlotKind::SalaryMonthly | SlotKind::NoticePeriod
    )
}

/// Skill ids compare case-insensitively with `-`, space and `_` alike, so that
/// `spring-cloud`, `Spring Cloud` and `spring_cloud` are one skill.
pub fn normalize_skill(id: &str) -> String {
    id.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn parse_slot(name: &str) -> Result<SlotKind, ConditionError> {
    if let Some(term) = check_term(name) {
        return Err(ConditionError::Protected(term));
    }
    name.parse::<SlotKind>()
        .map_err(ConditionError::UnknownSlot)
}

impl Condition {
    pub(crate) fn parse(text: &str) -> Result<Condition, ConditionError> {
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            return Err(ConditionError::Syntax("empty condition".into()));
        }
        let mut any = Vec::new();
        for alternative in tokens.split(|t| t == "or") {
            let mut all = Vec::new();
            for atom in alternative.split(|t| t == "and") {
                all.push(parse_atom(atom, text)?);
            }
            any.push(all);
        }
        Ok(Condition { any })
    }

    /// Every slot the condition reads (to check the question asks for it).
    pub(crate) fn slots(&self) -> Vec<SlotKind> {
        self.any
            .iter()
            .flatten()
            .map(|a| match a {
                Atom::Compare { slot, .. } | Atom::Has(slot) | Atom::Missing(slot) => *slot,
                Atom::HasSkill(_) | Atom::MissingSkill(_) => SlotKind::Skills,
            })
            .collect()
    }

    /// The skill ids the condition names, to check them against the taxonomy.
    pub(crate) fn skill_ids_mut(&mut self) -> impl Iterator<Item = &mut String> {
        self.any.iter_mut().flatten().filter_map(|a| match a {
            Atom::HasSkill(id) | Atom::MissingSkill(id) => Some(id),
            _ => None,
        })
    }

    /// Whether the condition holds on these slots. A comparison on a slot the
    /// candidate did not give is false (so `years_experience < 2` never knocks
    /// out someone who was not heard); `missing:` is its complement.
    pub fn holds(&self, slots: &SlotTable) -> bool {
        self.any
            .iter()
            .any(|all| all.iter().all(|a| a.holds(slots)))
    }
}

impl Atom {
    fn holds(&self, slots: &SlotTable) -> bool {
        match self {
            Atom::Compare { slot, op, value } => slots
                .get(*slot)
                .and_then(|s| numeric(&s.value))
                .is_some_and(|v| op.holds(v, *value)),
            Atom::Has(slot) => slots.get(*slot).is_some(),
            Atom::Missing(slot) => slots.get(*slot).is_none(),
            Atom::HasSkill(id) => slots.has_skill(id),
            Atom::MissingSkill(id) => !slots.has_skill(id),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, all) in self.any.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            for (j, atom) in all.iter().enumerate() {
                if j > 0 {
                    f.write_str(" and ")?;
                }
                match atom {
                    Atom::Compare { slot, op, value } => {
                        write!(f, "{} {} {}", slot.name(), op.symbol(), value)?
                    }
                    Atom::Has(s) => write!(f, "has:{}", s.name())?,
                    Atom::Missing(s) => write!(f, "missing:{}", s.name())?,
                    Atom::HasSkill(s) => write!(f, "has_skill:{s}")?,
                    Atom::MissingSkill(s) => write!(f, "missing_skill:{s}")?,
                }
            }
        }
        Ok(())
    }
}

fn parse_atom(tokens: &[String], whole: &str) -> Result<Atom, ConditionError> {
    match tokens {
        [single] => {
            let Some((head, arg)) = single.split_once(':') else {
                return Err(ConditionError::Syntax(format!(
                    "{single:?} in {whole:?}: expected `SLOT < NUMBER`, `has:SLOT`, \
                     `missing:SLOT`, `has_skill:ID` or `missing_skill:ID`"
                )));
            };
            match head {
                "has" => Ok(Atom::Has(parse_slot(arg)?)),
                "missing" => Ok(Atom::Missing(parse_slot(arg)?)),
                "has_skill" | "missing_skill" => {
                    let id = normalize_skill(arg);
                    if id.is_empty() {
                        return Err(ConditionError::Syntax(format!(
                            "{single:?}: the skill id is empty"
                        )));
                    }
                    if let Some(term) = check_term(&id) {
                        return Err(ConditionError::Protected(term));
                    }
                    Ok(if head == "has_skill" {
                        Atom::HasSkill(id)
                    } else {
                        Atom::MissingSkill(id)
                    })
                }
                other => Err(ConditionError::Syntax(format!(
                    "unknown test {other:?} in {whole:?} (known: has, missing, has_skill, missing_skill)"
                ))),
            }
        }
        [slot, op, number] => {
            let slot = parse_slot(slot)?;
            let op = match op.as_str() {
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "==" => Op::Eq,
                "!=" => Op::Ne,
                other => {
                    return Err(ConditionError::Syntax(format!(
                        "unknown operator {other:?} in {whole:?} (known: < <= > >= == !=)"
                    )))
                }
            };
            let value: f64 = number.parse().map_err(|_| {
                ConditionError::Syntax(format!("{number:?} in {whole:?} is not a number"))
            })?;
            if !is_numeric_slot(slot) {
                return Err(ConditionError::Syntax(format!(
                    "{} cannot be compared with a number (only years_experience, \
                     salary_monthly and notice_period can)",
                    slot.name()
                )));
            }
            Ok(Atom::Compare { slot, op, value })
        }
        [] => Err(ConditionError::Syntax(format!(
            "{whole:?}: `and`/`or` without a test on one side"
        ))),
        other => Err(ConditionError::Syntax(format!(
            "cannot read {:?} in {whole:?}: expected `SLOT OP NUMBER`",
            other.join(" ")
        ))),
    }
}

/// Words, numbers and operators; operators need no spaces around them.
fn tokenize(text: &str) -> Result<Vec<String>, ConditionError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if matches!(c, '<' | '>' | '=' | '!') {
            // Greedy, so that `<<` or `=<` reads as one (unknown) operator.
            let mut op = String::new();
            while let Some(&c) = chars.peek().filter(|c| matches!(c, '<' | '>' | '=' | '!')) {
                op.push(c);
                chars.next();
            }
            tokens.push(op);
        } else if c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '-' | '+' | '#') {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '-' | '+' | '#') {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(word);
        } else {
            return Err(ConditionError::Syntax(format!(
                "unexpected character {c:?} in {text:?}"
            )));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        for text in [
            "years_experience < 3",
            "missing_skill:kubernetes or missing_skill:spring_cloud",
            "salary_monthly >= 25000 and salary_monthly <= 40000",
            "has:start_date",
        ] {
            assert_eq!(Condition::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Condition::parse("years_experience<3").unwrap().to_string(),
            "years_experience < 3"
        );
    }

    #[test]
    fn refuses_bad_conditions() {
        assert!(matches!(
            Condition::parse("yearz < 3"),
            Err(ConditionError::UnknownSlot(_))
        ));
        assert!(matches!(
            Condition::parse("age < 30"),
            Err(ConditionError::Protected(_))
        ));
        assert!(Condition::parse("years_experience <").is_err());
        assert!(Condition::parse("years_experience ~ 3").is_err());
        assert!(Condition::parse("skills > 3").is_err());
        assert!(Condition::parse("years_experience < 3 and").is_err());
        assert!(Condition::parse("").is_err());
    }
}
