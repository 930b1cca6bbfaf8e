#!/usr/bin/env bash
# Regenerates the held-out speech set under tests/speech/heldout/ (committed, < 4 MB of
# G.711 mu-law): 240 interview answers, English and Mandarin (with English tech terms
# code-switched in), with reference text and NLU labels, split into dev (the voices the
# ASR set and the simulated candidates already use) and test (voices used nowhere else,
# plus a band-pass and line-noise degradation). See make_heldout_set.py for the voices,
# the line, the split and the label syntax.
#
# Deterministic for a given seed: ./make-heldout-set.sh [--seed N]  (default 20261126).
# Runs Kokoro single-threaded under nice, so it can share the machine with a build.
#
# Needs: models/ fetched (scripts/fetch-models.sh: the Kokoro model and the npm
# kokoro-js package in its cache), python3 with venv, sox, espeak-ng, and PyPI for
# misaki (Kokoro's Mandarin G2P), kokoro-onnx (its vocabulary and espeak-ng tokenizer)
# and onnxruntime, installed into the private virtualenv the ASR set generator uses.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

command -v sox >/dev/null || { echo "make-heldout-set: sox not installed" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "make-heldout-set: espeak-ng not installed" >&2; exit 1; }
[ -f "$ROOT/models/kokoro/kokoro-v1.0.int8.onnx" ] || {
  echo "make-heldout-set: models/kokoro missing: run scripts/fetch-models.sh" >&2; exit 1; }

CACHE="${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}"
VENV="$HOME/.cache/voxhire/asr-testset-venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet "misaki[zh]==0.9.4" "kokoro-onnx==0.6.1" "onnxruntime==1.32.0"

# Voice styles: the kokoro-js npm package holds all 54 (fetch-models.sh keeps only the
# product's few under models/).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TGZ="$CACHE/kokoro-js-1.2.1.tgz"
if [ ! -f "$TGZ" ]; then
  (cd "$tmp" && npm pack --silent kokoro-js@1.2.1 >/dev/null)
  TGZ="$tmp/kokoro-js-1.2.1.tgz"
fi
tar -xzf "$TGZ" -C "$tmp" package/voices
export KOKORO_VOICES_DIR="$tmp/package/voices"

export OMP_NUM_THREADS=1
PYTHONDONTWRITEBYTECODE=1 nice -n 10 "$VENV/bin/python" make_heldout_set.py "$@"
