//! A call's files as the API serves them: decrypted on the fly when sealed,
//! streamed in 64 KiB pieces (a long recording is never held in memory),
//! with single HTTP byte ranges (`Range: bytes=a-b`, `a-`, `-n` → 206).
//! (A streamed recording's real WAV header comes from `archive::open`.)

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use voxhire_engine::archive;
use voxhire_vault::Keyring;

use crate::error::ApiError;

/// A single byte range, resolved against the length.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    All,
    Range(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header the way RFC 9110 asks of a server that supports
/// one range: anything it does not understand (several ranges, other units)
/// gets the whole file.
pub fn wanted(headers: &HeaderMap, len: u64) -> Wanted {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Wanted::All;
    };
    let (a, b) = (a.trim(), b.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        (true, false) => match parse(b) {
            Some(0) | None => Wanted::Unsatisfiable,
            Some(_) if len == 0 => Wanted::Unsatisfiable,
            Some(n) => Wanted::Range(len.saturating_sub(n), len - 1),
        },
        (false, _) => match (
            parse(a),
            if b.is_empty() {
                Some(u64::MAX)
            } else {
                parse(b)
            },
        ) {
            (Some(from), Some(to)) if from < len && from <= to => {
                Wanted::Range(from, to.min(len - 1))
            }
            (Some(_), Some(_)) => Wanted::Unsatisfiable,
            _ => Wanted::All,
        },
        (true, true) => Wanted::All,
    }
}

/// True for a range that starts past the first byte: a player seeking in a
/// file it has begun to read, not a new read.
pub fn continues_a_read(headers: &HeaderMap) -> bool {
    matches!(wanted(headers, u64::MAX), Wanted::Range(from, _) if from > 0)
}

/// Serves `path` (a call file, sealed or not) as `mime`, honouring a range.
pub async fn serve(
    path: PathBuf,
    mime: &'static str,
    keys: Arc<Keyring>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let opened = {
        let (path, keys) = (path.clone(), keys.clone());
        tokio::task::spawn_blocking(move || archive::open(&path, Some(&keys)))
            .await
            .map_err(anyhow::Error::from)??
    };
    let len = opened.len;
    let (status, from, to) = match wanted(headers, len) {
        Wanted::All => (StatusCode::OK, 0, len),
        Wanted::Range(a, b) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
        Wanted::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"),
            );
            return Ok(r);
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let mut reader = opened.reader;
    tokio::task::spawn_blocking(move || {
        let send = |piece: std::io::Result<Bytes>| tx.blocking_send(piece).is_ok();
        if let Err(e) = reader.seek(SeekFrom::Start(from)) {
            send(Err(e));
            return;
        }
        let mut at = from;
        while at < to {
            let mut buf = vec![0u8; (to - at).min(64 * 1024) as usize];
            if let Err(e) = reader.read_exact(&mut buf) {
                tracing::error!(path = %path.display(), error = %e, "reading a call file");
                send(Err(e));
                return;
            }
            at += buf.len() as u64;
            if !send(Ok(Bytes::from(buf))) {
                return;
            }
        }
    });
    let mut r = Response::new(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    ));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(to - from));
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {from}-{}/{len}", to - 1)).expect("ascii"),
        );
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: &str, len: u64) -> Wanted {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, v.parse().unwrap());
        wanted(&h, len)
    }

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        assert_eq!(wanted(&HeaderMap::new(), 100), Wanted::All);
        assert_eq!(range("bytes=8-15", 100), Wanted::Range(8, 15));
        assert_eq!(range("bytes=90-", 100), Wanted::Range(90, 99));
        assert_eq!(range("bytes=90-500", 100), Wanted::Range(90, 99));
        assert_eq!(range("bytes=-10", 100), Wanted::Range(90, 99));
        assert_eq!(range("bytes=-500", 100), Wanted::Range(0, 99));
        assert_eq!(range("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=-0", 100), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=5-2", 100), Wanted::Unsatisfiable);
        assert_eq!(range("bytes=0-1,5-6", 100), Wanted::All);
        assert_eq!(range("items=0-1", 100), Wanted::All);
        assert_eq!(range("bytes=x-1", 100), Wanted::All);
    }

    #[test]
    fn a_seek_continues_a_read_and_a_start_does_not() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::RANGE, v.parse().unwrap());
            continues_a_read(&h)
        };
        assert!(!continues_a_read(&HeaderMap::new()));
        assert!(!with("bytes=0-"));
        assert!(!with("bytes=0-1023"));
        assert!(with("bytes=8-15"));
        assert!(
            with("bytes=-500"),
            "the end of the file, as players probe it"
        );
    }
}
