#!/usr/bin/env bash
# Regenerates the answering-machine detection set under tests/speech/amd/ (committed,
# G.711 mu-law): 96 answers of an outbound call, English and Mandarin, by a person or a
# voicemail greeting (with or without a beep), labelled, split into dev (tuned on) and
# test (only reported on) with no sentence and no voice in common. See make_amd_set.py.
#
# Deterministic for a given seed: ./make-amd-set.sh [--seed N]  (default 20261204).
# Needs what make-heldout-set.sh needs (models/ fetched, sox, espeak-ng, PyPI packages
# in the same private virtualenv).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

command -v sox >/dev/null || { echo "make-amd-set: sox not installed" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "make-amd-set: espeak-ng not installed" >&2; exit 1; }
[ -f "$ROOT/models/kokoro/kokoro-v1.0.int8.onnx" ] || {
  echo "make-amd-set: models/kokoro missing: run scripts/fetch-models.sh" >&2; exit 1; }

CACHE="${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}"
VENV="$HOME/.cache/voxhire/asr-testset-venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet "misaki[zh]==0.9.4" "kokoro-onnx==0.6.1" "onnxruntime==1.32.0"

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
PYTHONDONTWRITEBYTECODE=1 nice -n 10 "$VENV/bin/python" make_amd_set.py "$@"
