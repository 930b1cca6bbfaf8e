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
KOKORO_TOOL=make-answers
source ../speech/kokoro-env.sh

"$VENV/bin/python" make_answers.py "$@"
