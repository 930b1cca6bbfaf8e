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
KOKORO_TOOL=make-asr-testset
source ./kokoro-env.sh

"$VENV/bin/python" make_asr_testset.py
