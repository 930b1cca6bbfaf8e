//! The candidate list: a CSV with the header `id,name,uri,language,timezone`.
//!
//! Every row is checked before anyone is dialled — a bad URI, an unknown
//! language or time zone, a duplicate id — and the error names the file and
//! line. Names and numbers are personal data: `Candidate`'s `Debug` hides them.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::address::{mask, Address};
use crate::error::CampaignError;

/// The language an interview is held in: the NLU's, so a candidate's language
/// goes to the dialog and the speech models without translation.
pub use voxhire_nlu::Lang as Language;

/// One person to phone.
#[derive(Clone, PartialEq)]
pub struct Candidate {
    /// Unique in the list; also the name of the candidate's run directory,
    /// so it is restricted to a safe file name.
    pub id: String,
    pub name: String,
    pub address: Address,
    pub language: Language,
    /// Calling windows are evaluated in this zone.
    pub timezone: Tz,
    /// Line in the CSV, for messages that point back at the row.
    pub line: u64,
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("id", &self.id)
            .field("name", &"<redacted>")
            .field("address", &mask(self.address.as_str()))
            .field("language", &self.language)
            .field("timezone", &self.timezone)
            .field("line", &self.line)
            .finish()
    }
}

const HEADER: [&str; 5] = ["id", "name", "uri", "language", "timezone"];

/// Reads and validates the candidate CSV. An empty `language` cell takes
/// `default_language`; an empty `timezone` takes `default_timezone` (an error
/// when there is none: guessing a zone risks waking someone at night).
pub fn load_candidates(
    path: &Path,
    default_language: Language,
    default_timezone: Option<Tz>,
) -> Result<Vec<Candidate>, CampaignError> {
    let text = std::fs::read_to_string(path).map_err(|e| CampaignError::io(path, e))?;
    parse_candidates(&text, path, default_language, default_timezone)
}

/// [`load_candidates`] on text already read; `file` is only used in errors.
pub fn parse_candidates(
    text: &str,
    file: &Path,
    default_language: Language,
    default_timezone: Option<Tz>,
) -> Result<Vec<Candidate>, CampaignError> {
    let err = |line: u64, message: String| CampaignError::Candidates {
        file: PathBuf::from(file),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| err(csv_line(text, &e).unwrap_or(1), e.to_string()))?
        .clone();
    let names: Vec<&str> = header.iter().collect();
    if names != HEADER {
        return Err(err(
            1,
            format!(
                "header must be `{}`, found `{}`",
                HEADER.join(","),
                names.join(",")
            ),
        ));
    }

    let mut out: Vec<Candidate> = Vec::new();
    // id → index in `out`; address match key → index in `out`.
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(csv_line(text, &e).unwrap_or(0), e.to_string()))?;
        let line = record.position().map_or(0, |p| byte_line(text, p));
        let field = |i: usize| record.get(i).unwrap_or("");
        let (id, name, uri, language, timezone) =
            (field(0), field(1), field(2), field(3), field(4));

        if !crate::config::is_safe_name(id) {
            return Err(err(
                line,
                format!("id {id:?} must be 1-64 letters, digits, '.', '_' or '-' (it names the candidate's run directory)"),
            ));
        }
        if let Some(first) = by_id.get(id).map(|&i| &out[i]) {
            return Err(err(
                line,
                format!("duplicate id {id:?} (first on line {})", first.line),
            ));
        }
        if name.is_empty() {
            return Err(err(line, format!("candidate {id:?} has no name")));
        }
        let address = Address::parse(uri)
            .map_err(|why| err(line, format!("candidate {id:?}: uri {}: {why}", mask(uri))))?;
        // Two rows reaching the same person would mean calling them twice.
        let keys = address.match_keys();
        if let Some(first) = keys.iter().find_map(|k| by_key.get(k)).map(|&i| &out[i]) {
            return Err(err(
                line,
                format!(
                    "candidate {id:?} has the same uri as {:?} (line {})",
                    first.id, first.line
                ),
            ));
        }
        let language = if language.is_empty() {
            default_language
        } else {
            language.trim().parse::<Language>().ok().ok_or_else(|| {
                err(
                    line,
                    format!("candidate {id:?}: unknown language {language:?} (use en or zh)"),
                )
            })?
        };
        let timezone = if timezone.is_empty() {
            default_timezone.ok_or_else(|| {
                err(
                    line,
                    format!(
                        "candidate {id:?}: no timezone and the campaign sets no default_timezone"
                    ),
                )
            })?
        } else {
            timezone.parse::<Tz>().map_err(|_| {
                err(
                    line,
                    format!("candidate {id:?}: unknown time zone {timezone:?} (use an IANA name such as Asia/Shanghai)"),
                )
            })?
        };
        by_id.insert(id.to_owned(), out.len());
        by_key.extend(keys.into_iter().map(|k| (k, out.len())));
        out.push(Candidate {
            id: id.to_owned(),
            name: name.to_owned(),
            address,
            language,
            timezone,
            line,
        });
    }
    Ok(out)
}

/// The csv crate reports where it started looking for a record, before the
/// comment and blank lines it skipped; step over those to the record's line.
fn byte_line(text: &str, p: &csv::Position) -> u64 {
    let mut at = usize::try_from(p.byte())
        .unwrap_or(usize::MAX)
        .min(text.len());
    let mut line_no = p.line();
    while let Some(rest) = text.get(at..) {
        let line = rest.split_inclusive('\n').next().unwrap_or("");
        let blank = line.trim_end_matches(['\r', '\n']).is_empty();
        if line.is_empty() || !(blank || line.starts_with('#')) {
            break;
        }
        at += line.len();
        line_no += 1;
    }
    line_no
}

fn csv_line(text: &str, e: &csv::Error) -> Option<u64> {
    e.position().map(|p| byte_line(text, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Candidate>, CampaignError> {
        parse_candidates(text, Path::new("cands.csv"), Language::En, None)
    }

    #[test]
    fn valid_rows_with_defaults_and_comments() {
        let text = "id,name,uri,language,timezone\n\
                    # a comment line\n\
                    alice,Alice Smith,sip:alice@127.0.0.1:5090,en,America/New_York\n\
                    chen,陈伟,+8613800000000,zh,Asia/Shanghai\n\
                    dana, Dana ,sip:dana@example.com,,Europe/London\n";
        let c = parse(text).expect("valid csv");
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].line, 3);
        assert_eq!(c[1].language, Language::Zh);
        assert_eq!(c[1].address, Address::Phone("+8613800000000".into()));
        assert_eq!(c[2].language, Language::En);
        assert_eq!(c[2].name, "Dana");
        assert_eq!(c[2].timezone, chrono_tz::Europe::London);
    }

    #[test]
    fn debug_redacts_name_and_number() {
        let c =
            parse("id,name,uri,language,timezone\nchen,Chen Wei,+8613812345678,zh,Asia/Shanghai\n")
                .expect("valid");
        let shown = format!("{:?}", c[0]);
        assert!(!shown.contains("Chen Wei"), "{shown}");
        assert!(!shown.contains("13812345678"), "{shown}");
        assert!(shown.contains("***78"), "{shown}");
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            ("id,name,uri,language,timezone\na,A,sip:a@h,en,UTC\nb,B,mailto:b@h,en,UTC\n", "cands.csv:3:", "uri"),
            ("id,name,uri,language,timezone\na,A,sip:a@h,fr,UTC\n", "cands.csv:2:", "unknown language \"fr\""),
            ("id,name,uri,language,timezone\na,A,sip:a@h,en,Mars/Olympus\n", "cands.csv:2:", "unknown time zone"),
            ("id,name,uri,language,timezone\na,A,sip:a@h,en,UTC\n\na,A2,sip:a2@h,en,UTC\n", "cands.csv:4:", "duplicate id \"a\" (first on line 2)"),
            ("id,name,uri,language,timezone\n../x,A,sip:a@h,en,UTC\n", "cands.csv:2:", "run directory"),
            ("id,name,uri,language,timezone\na,A,sip:a@h,en\n", "cands.csv:2:", "fields"),
            ("id,name,number,language,timezone\n", "cands.csv:1:", "header must be"),
            ("id,name,uri,language,timezone\na,A,sip:a@h,en,\n", "cands.csv:2:", "no timezone"),
            ("id,name,uri,language,timezone\na,A,+1 212 555 0100,en,UTC\n# x\nb,B,+12125550100,en,UTC\n", "cands.csv:4:", "same uri as \"a\" (line 2)"),
        ];
        for (text, at, what) in cases {
            let e = parse(text).expect_err(text).to_string();
            assert!(e.starts_with(at) && e.contains(what), "{text:?} gave {e:?}");
        }
    }
}
