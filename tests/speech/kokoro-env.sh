# Sourced by the Kokoro test-speech generators (tests/speech/make-*.sh,
# tests/interview/make-answers.sh) with KOKORO_TOOL set to the generator's name:
# checks sox, espeak-ng and the Kokoro model; sets up the private virtualenv
# ($VENV: misaki, kokoro-onnx, onnxruntime, pinned); unpacks the kokoro-js voice
# styles (the npm package in the model cache, or fetched with npm pack) into a
# temporary directory removed on exit, as $KOKORO_VOICES_DIR.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v sox >/dev/null || { echo "$KOKORO_TOOL: sox not installed" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "$KOKORO_TOOL: espeak-ng not installed" >&2; exit 1; }
[ -f "$ROOT/models/kokoro/kokoro-v1.0.int8.onnx" ] || {
  echo "$KOKORO_TOOL: models/kokoro missing: run scripts/fetch-models.sh" >&2; exit 1; }

CACHE="${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}"
VENV="$HOME/.cache/voxhire/asr-testset-venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet "misaki[zh]==0.9.4" "kokoro-onnx==0.6.1" "onnxruntime==1.32.0"

kokoro_tmp=$(mktemp -d)
trap 'rm -rf "$kokoro_tmp"' EXIT
TGZ="$CACHE/kokoro-js-1.2.1.tgz"
if [ ! -f "$TGZ" ]; then
  (cd "$kokoro_tmp" && npm pack --silent kokoro-js@1.2.1 >/dev/null)
  TGZ="$kokoro_tmp/kokoro-js-1.2.1.tgz"
fi
tar -xzf "$TGZ" -C "$kokoro_tmp" package/voices
export KOKORO_VOICES_DIR="$kokoro_tmp/package/voices"
