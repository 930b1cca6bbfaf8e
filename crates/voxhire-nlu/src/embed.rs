//! English sentence embeddings with all-MiniLM-L6-v2 (int8 ONNX): the English
//! intent classifier compares a turn with example utterances by cosine, and the
//! scorer compares open answers with a reference answer.
//!
//! The model is English-only (Chinese text becomes mostly `[UNK]`), so Mandarin
//! never goes through here.

use std::path::Path;

use ort::environment::Environment;
use ort::value::Tensor;
use tokenizers::{Tokenizer, TruncationParams};

use crate::nlu::error::{model_file, NluError};
use crate::nlu::pool::{default_pool_size, SessionPool};

/// The model and tokenizer under the models root (`models/MANIFEST`).
pub const MODEL_FILE: &str = "minilm/model.onnx";
pub const TOKENIZER_FILE: &str = "minilm/tokenizer.json";
/// Embedding width.
pub const DIM: usize = 384;
/// Longest input in tokens. A spoken answer of 30 s is ~100 tokens; beyond that the
/// beginning of the answer says enough about its intent.
const MAX_TOKENS: usize = 128;

/// The loaded MiniLM model, shared by all calls.
pub struct MiniLm {
    tokenizer: Tokenizer,
    pool: SessionPool,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("vocab", &self.tokenizer.get_vocab_size(true))
            .field("pool", &self.pool)
            .finish()
    }
}

impl MiniLm {
    /// Loads `minilm/model.onnx` and `minilm/tokenizer.json` under `models_root`.
    pub fn load(env: &'static Environment, models_root: &Path) -> Result<Self, NluError> {
        let model = model_file(models_root, MODEL_FILE)?;
        let tok_path = model_file(models_root, TOKENIZER_FILE)?;
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| NluError::Load {
            path: tok_path.clone(),
            message: e.to_string(),
        })?;
        // The file pads every input to 128 tokens; a 10-token utterance would then
        // cost as much as a 128-token one. Padding is done per batch instead.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| NluError::Load {
                path: tok_path.clone(),
                message: e.to_string(),
            })?;
        let pool = SessionPool::load(
            env,
            &model,
            default_pool_size(),
            &["input_ids", "attention_mask", "token_type_ids"],
        )?;
        Ok(MiniLm { tokenizer, pool })
    }

    /// The unit-length embedding of one text.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, NluError> {
        let mut out = self.embed_batch(&[text])?;
        out.pop().ok_or_else(|| inference("empty batch output"))
    }

    /// Unit-length embeddings of several texts in one run (padded to the longest).
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NluError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = texts
            .iter()
            .map(|t| self.tokenizer.encode(*t, true))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| inference(&format!("tokenizer: {e}")))?;
        let batch = encodings.len();
        let len = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = vec![0i64; batch * len];
        let mut mask = vec![0i64; batch * len];
        let mut types = vec![0i64; batch * len];
        for (b, enc) in encodings.iter().enumerate() {
            let row = b * len;
            for (t, ((&id, &m), &ty)) in enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .zip(enc.get_type_ids())
                .enumerate()
            {
                ids[row + t] = i64::from(id);
                mask[row + t] = i64::from(m);
                types[row + t] = i64::from(ty);
            }
        }
        let tensor = |data: Vec<i64>| {
            Tensor::from_array(([batch, len], data)).map_err(|e| inference(&e.to_string()))
        };
        let inputs = ort::inputs![
            "input_ids" => tensor(ids)?,
            "attention_mask" => tensor(mask.clone())?,
            "token_type_ids" => tensor(types)?,
        ];
        let mut session = self.pool.get();
        let outputs = session.run(inputs).map_err(|e| inference(&e.to_string()))?;
        let (shape, hidden) = outputs["last_hidden_state"]
            .try_extract_tensor::<f32>()
            .map_err(|e| inference(&e.to_string()))?;
        if shape.len() != 3
            || shape[0] as usize != batch
            || shape[1] as usize != len
            || shape[2] as usize != DIM
        {
            return Err(inference(&format!(
                "last_hidden_state has shape {:?}, expected [{batch}, {len}, {DIM}]",
                &shape[..]
            )));
        }
        Ok((0..batch)
            .map(|b| {
                mean_pool(
                    &hidden[b * len * DIM..(b + 1) * len * DIM],
                    &mask[b * len..(b + 1) * len],
                )
            })
            .collect())
    }

    /// Cosine similarity of two texts' embeddings.
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32, NluError> {
        let e = self.embed_batch(&[a, b])?;
        Ok(cosine(&e[0], &e[1]))
    }
}

/// Mean of the token vectors the mask keeps, scaled to unit length (what
/// sentence-transformers does for this model).
fn mean_pool(hidden: &[f32], mask: &[i64]) -> Vec<f32> {
    let mut sum = vec![0f32; DIM];
    let mut n = 0f32;
    for (token, &m) in hidden.chunks_exact(DIM).zip(mask) {
        if m != 0 {
            n += 1.0;
            for (s, &h) in sum.iter_mut().zip(token) {
                *s += h;
            }
        }
    }
    let n = n.max(1.0);
    sum.iter_mut().for_each(|s| *s /= n);
    normalise(&mut sum);
    sum
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity; for unit vectors this is their dot product.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na < 1e-12 || nb < 1e-12 {
        0.0
    } else {
        dot / (na * nb)
    }
}

fn inference(message: &str) -> NluError {
    NluError::Inference {
        model: MODEL_FILE,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pool_ignores_padding_and_normalises() {
        let mut hidden = vec![0f32; 2 * DIM];
        hidden[0] = 3.0; // token 0: (3, 0, …)
        hidden[DIM + 1] = 100.0; // token 1 is padding
        let v = mean_pool(&hidden, &[1, 0]);
        assert!((v[0] - 1.0).abs() < 1e-6 && v[1] == 0.0, "{:?}", &v[..2]);
    }

    #[test]
    fn cosine_of_orthogonal_and_parallel() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
