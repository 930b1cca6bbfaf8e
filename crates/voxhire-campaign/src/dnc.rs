//! The do-not-call list: people who asked never to be phoned again.
//!
//! A text file, one phone number or SIP URI per line, `#` starts a comment.
//! Numbers are compared after normalisation (digits and a leading `+`), SIP
//! URIs without port and parameters, so `+86 138-0000-0000` on the list
//! blocks `+8613800000000` in the CSV. An opt-out during a call is appended
//! with [`append`] and fsynced before the call ends, so it survives a crash.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::address::Address;
use crate::error::CampaignError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoNotCallList {
    keys: HashSet<String>,
}

impl DoNotCallList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn load(path: &Path) -> Result<DoNotCallList, CampaignError> {
        let text = std::fs::read_to_string(path).map_err(|e| CampaignError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses list text; `file` is only used in errors.
    pub fn parse(text: &str, file: &Path) -> Result<DoNotCallList, CampaignError> {
        let mut list = DoNotCallList::new();
        for (i, raw) in text.lines().enumerate() {
            let entry = strip_comment(raw).trim();
            if entry.is_empty() {
                continue;
            }
            let address = Address::parse(entry).map_err(|why| CampaignError::DoNotCall {
                file: PathBuf::from(file),
                line: i + 1,
                message: format!("entry {why}"),
            })?;
            list.insert(&address);
        }
        Ok(list)
    }

    pub fn insert(&mut self, address: &Address) {
        self.keys.extend(address.match_keys());
    }

    /// Whether any form of `address` is on the list.
    pub fn contains(&self, address: &Address) -> bool {
        address.match_keys().iter().any(|k| self.keys.contains(k))
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds every entry of `other` (the opt-outs to the recruiter's list).
    pub fn merge(&mut self, other: DoNotCallList) {
        self.keys.extend(other.keys);
    }
}

fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(before, _)| before)
}

/// Adds `entry` (a number or SIP URI) to the list file, creating it if
/// needed. One `write` in append mode, then fsync of the file (and of the
/// directory when the file is new), so the opt-out is on disk before the
/// caller goes on — even if two calls append at the same moment.
pub fn append(path: &Path, entry: &str) -> Result<(), CampaignError> {
    let entry = entry.trim();
    Address::parse(entry).map_err(|why| CampaignError::DoNotCall {
        file: path.to_owned(),
        line: 0,
        message: format!("refusing to append an entry that {why}"),
    })?;
    let io = |e| CampaignError::io(path, e);
    let existed = path.exists();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    // Keep one entry per line even if someone saved the file without a final newline.
    let mut line = String::new();
    let len = file.metadata().map_err(io)?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1)).map_err(io)?;
        file.read_exact(&mut last).map_err(io)?;
        if last[0] != b'\n' {
            line.push('\n');
        }
    }
    line.push_str(entry);
    line.push('\n');
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    if !existed {
        crate::atomic::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments_and_normalises() {
        let text =
            "# opt-outs\n+86 138-0000-0000  # asked 2026-11-02\n\nsip:frank@127.0.0.1:5090\n";
        let list = DoNotCallList::parse(text, Path::new("dnc.txt")).expect("valid");
        let phone = Address::parse("+8613800000000").expect("valid");
        let via_trunk = Address::parse("sip:+8613800000000@trunk.example").expect("valid");
        let frank = Address::parse("sip:frank@127.0.0.1;transport=udp").expect("valid");
        let alice = Address::parse("sip:alice@127.0.0.1:5090").expect("valid");
        assert!(list.contains(&phone));
        assert!(list.contains(&via_trunk));
        assert!(list.contains(&frank));
        assert!(!list.contains(&alice));
    }

    #[test]
    fn bad_line_names_file_and_line() {
        let e = DoNotCallList::parse("+12125550100\nnot a number\n", Path::new("dnc.txt"))
            .expect_err("line 2 is bad")
            .to_string();
        assert!(e.starts_with("dnc.txt:2:"), "{e}");
    }

    #[test]
    fn append_creates_adds_and_keeps_lines_separate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dnc.txt");
        append(&path, "sip:dana@127.0.0.1:5090").expect("append to new file");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"+12125550100"))
            .expect("write without newline");
        append(&path, "+8613800000000").expect("append");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "sip:dana@127.0.0.1:5090\n+12125550100\n+8613800000000\n"
        );
        let list = DoNotCallList::load(&path).expect("load");
        assert!(list.contains(&Address::parse("sip:dana@127.0.0.1").expect("valid")));
        assert!(append(&path, "dana").is_err());
    }
}
