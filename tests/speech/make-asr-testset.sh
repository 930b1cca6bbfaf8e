#!/usr/bin/env bash
# Regenerates the ASR accuracy test set under tests/speech/asr/ (committed, ~1 MB of
# G.711 mu-law), used by crates/voxhire-speech/tests/asr_accuracy.rs.
#
# Needs: models/ fetched (scripts/fetch-models.sh: the Kokoro model and the npm
# kokoro-js package in its cache), python3 with venv, sox, espeak-ng, and PyPI for
# misaki (Kokoro's Mandarin G2P), kokoro-onnx (its vocabulary and espeak-ng
# tokenizer) and onnxruntime, installed into a private virtualenv.
# The test itself needs none of this: only the committed clips and the models.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

command -v sox >/dev/null || { echo "make-asr-testset: sox not installed" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "make-asr-testset: espeak-ng not installed" >&2; exit 1; }
[ -f "$ROOT/models/kokoro/kokoro-v1.0.int8.onnx" ] || {
  echo "make-asr-testset: models/kokoro missing: run scripts/fetch-models.sh" >&2; exit 1; }

CACHE="${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}"
VENV="$HOME/.cache/voxhire/asr-testset-venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet "misaki[zh]==0.9.4" "kokoro-onnx==0.6.1" "onnxruntime==1.32.0"

# Voice styles: the kokoro-js npm package holds all 54 (fetch-models.sh keeps the
# product's few under models/; the test set needs others).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TGZ="$CACHE/kokoro-js-1.2.1.tgz"
if [ ! -f "$TGZ" ]; then
  (cd "$tmp" && npm pack --silent kokoro-js@1.2.1 >/dev/null)
  TGZ="$tmp/kokoro-js-1.2.1.tgz"
fi
tar -xzf "$TGZ" -C "$tmp" package/voices
export KOKORO_VOICES_DIR="$tmp/package/voices"

"$VENV/bin/python" make_asr_testset.py
