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
KOKORO_TOOL=make-amd-set
source ./kokoro-env.sh

export OMP_NUM_THREADS=1
PYTHONDONTWRITEBYTECODE=1 nice -n 10 "$VENV/bin/python" make_amd_set.py "$@"
