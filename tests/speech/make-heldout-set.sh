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
KOKORO_TOOL=make-heldout-set
source ./kokoro-env.sh

export OMP_NUM_THREADS=1
PYTHONDONTWRITEBYTECODE=1 nice -n 10 "$VENV/bin/python" make_heldout_set.py "$@"
