#!/usr/bin/env bash
# Several voxhire nodes behind one SIP front door, on loopback: N `voxhire serve`
# nodes (default 2) and Kamailio's dispatcher in front of them
# (tests/kamailio/dispatcher.cfg: round robin, OPTIONS probes every second, a dead
# node taken out, a call a node does not take tried on the next one). Calls to the
# front door are shared among the nodes; kill one (its pid is printed) and the
# others take every new call. Ctrl-C (or --for SECS) stops everything.
#
#   scripts/cluster-demo.sh [--nodes N] [--port PORT] [--script FILE] [--for SECS]
#
# Without --script each node plays a prompt and records the call (media only: no
# models needed); with --script each node interviews its callers. Then call the
# front door, e.g.:
#   sipp -sf tests/sipp/uac-call.xml -rtp_echo -m 10 -r 2 -d 3000 127.0.0.1:5080
# Needs kamailio (scripts/setup.sh installs it) and a built voxhire
# (target/release/voxhire, built here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=2
PORT=5080
SCRIPT=""
FOR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --script) SCRIPT="$2"; shift 2 ;;
    --for) FOR="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "cluster-demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$NODES" in ''|*[!0-9]*) echo "cluster-demo: --nodes takes a number" >&2; exit 2 ;; esac
[ "$NODES" -ge 1 ] && [ "$NODES" -le 20 ] || { echo "cluster-demo: --nodes must be 1-20" >&2; exit 2; }
command -v kamailio >/dev/null || { echo "cluster-demo: kamailio not installed: run scripts/setup.sh" >&2; exit 1; }

BIN=target/release/voxhire
if [ ! -x "$BIN" ]; then
  echo "cluster-demo: building $BIN"
  cargo build --release --locked --bin voxhire
fi

work=$(mktemp -d /tmp/voxhire-cluster.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "cluster-demo: stopped; logs and calls in $work"
}
trap cleanup EXIT INT TERM

: > "$work/dispatcher.list"
for i in $(seq 1 "$NODES"); do
  sip=$((PORT + 10 * i))
  lo=$((20000 + 1000 * i))
  mkdir -p "$work/node$i"
  args=(serve --sip "127.0.0.1:$sip" --rtp-ports "$lo-$((lo + 999))")
  if [ -n "$SCRIPT" ]; then
    args+=(--script "$SCRIPT" --out "$work/node$i/runs")
  else
    args+=(--play tests/audio/agent-en.wav --record-dir "$work/node$i/recordings")
  fi
  "$BIN" "${args[@]}" > "$work/node$i/calls.jsonl" 2> "$work/node$i/stderr.log" &
  pids+=($!)
  echo "1 sip:127.0.0.1:$sip" >> "$work/dispatcher.list"
  echo "node $i: sip:127.0.0.1:$sip  pid $!  calls in $work/node$i/calls.jsonl"
done

sed -e "s/@PORT@/$PORT/g" -e "s#@LIST@#$work/dispatcher.list#" \
  tests/kamailio/dispatcher.cfg > "$work/kamailio.cfg"
kamailio -f "$work/kamailio.cfg" -DD -E -Y "$work" > "$work/kamailio.log" 2>&1 &
pids+=($!)
sleep 1
kill -0 "${pids[-1]}" 2>/dev/null || { echo "cluster-demo: kamailio did not start:" >&2; tail -20 "$work/kamailio.log" >&2; exit 1; }
echo "front door: sip:interview@127.0.0.1:$PORT  (Kamailio pid ${pids[-1]}, log $work/kamailio.log)"
echo "stop with Ctrl-C${FOR:+ (or after $FOR s)}"

if [ -n "$FOR" ]; then
  sleep "$FOR"
else
  wait
fi
