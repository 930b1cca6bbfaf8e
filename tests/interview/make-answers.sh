#!/usr/bin/env bash
# Regenerates the simulated candidates' recorded answers under
# tests/interview/scenarios/<user>/*.wav (committed; 8 kHz mono 16-bit through a
# G.711 mu-law line) and scenarios/ANSWERS.tsv, for `voxhire-candidate`.
#
# Same voices and set-up as the ASR test set (tests/speech/make-asr-testset.sh):
# Kokoro-82M with voice styles that are NOT the product's (Piper en_US-joe and
# Kokoro zf_xiaoxiao), so the interview hears a different speaker than itself.
# The scenario TOMLs beside the clips are written by hand.
#
# Needs: models/ fetched (scripts/fetch-models.sh), python3 with venv, sox,
# espeak-ng, and PyPI for misaki, kokoro-onnx and onnxruntime (a private venv,
# shared with the ASR test set generator).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

command -v sox >/dev/null || { echo "make-answers: sox not installed" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "make-answers: espeak-ng not installed" >&2; exit 1; }
[ -f "$ROOT/models/kokoro/kokoro-v1.0.int8.onnx" ] || {
  echo "make-answers: models/kokoro missing: run scripts/fetch-models.sh" >&2; exit 1; }

CACHE="${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}"
VENV="$HOME/.cache/voxhire/asr-testset-venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet "misaki[zh]==0.9.4" "kokoro-onnx==0.6.1" "onnxruntime==1.32.0"

# Voice styles: the kokoro-js npm package holds all 54.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TGZ="$CACHE/kokoro-js-1.2.1.tgz"
if [ ! -f "$TGZ" ]; then
  (cd "$tmp" && npm pack --silent kokoro-js@1.2.1 >/dev/null)
  TGZ="$tmp/kokoro-js-1.2.1.tgz"
fi
tar -xzf "$TGZ" -C "$tmp" package/voices
export KOKORO_VOICES_DIR="$tmp/package/voices"

"$VENV/bin/python" make_answers.py "$@"
