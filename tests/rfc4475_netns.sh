#!/usr/bin/env bash
# Runs the real `voxhire serve` against every RFC 4475 torture message over
# real UDP, inside a fresh network namespace whose only interface is loopback
# (nothing can leave the machine, whatever a Via or Contact names).
#
#   sudo bash tests/rfc4475_netns.sh            # all 49 messages
#   sudo bash tests/rfc4475_netns.sh -v         # show every response as it arrives
#   sudo bash tests/rfc4475_netns.sh --only invalid/ncl.dat
#
# Environment:
#   VOXHIRE_RFC4475_DIR  messages (default: <repo>/../shared/testdata/rfc4475)
#   VOXHIRE_BIN          binary (default: built with `cargo build --bin voxhire`)
#   KEEP=1               keep the work directory (voxhire stdout/stderr)
#
# Layout in the namespace: voxhire listens on 127.0.0.2:5060; the sender
# (tests/rfc4475_send.py) sends from 127.0.0.1:5060, where responses land per
# RFC 3261 §18.2.2 (received=127.0.0.1, sent-by port or 5060), and also
# listens on 5061 and any port a top Via names. Expected outcomes:
# tests/rfc4475_expected.tsv. Exit status: 0 all as expected; 1 a mismatch or
# voxhire died / did not exit 0 on SIGTERM; 2 set-up problem.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${VOXHIRE_RFC4475_DIR:-$repo/../shared/testdata/rfc4475}
expected=$repo/tests/rfc4475_expected.tsv
sender=$repo/tests/rfc4475_send.py

die() { echo "rfc4475_netns: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root (ip netns)"
command -v ip >/dev/null || die "iproute2 (ip) not installed"
command -v python3 >/dev/null || die "python3 not installed"
[ -d "$dir/valid" ] && [ -d "$dir/invalid" ] || die "no torture messages in $dir (set VOXHIRE_RFC4475_DIR)"
if [ -f "$dir/SHA256SUMS" ]; then
    (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || die "$dir does not match its SHA256SUMS"
fi

if [ -n "${VOXHIRE_BIN:-}" ]; then
    bin=$VOXHIRE_BIN
else
    (cd "$repo" && cargo build --quiet --bin voxhire) || die "cargo build failed"
    bin=${CARGO_TARGET_DIR:-$repo/target}/debug/voxhire
fi
[ -x "$bin" ] || die "no voxhire binary at $bin"

ns=voxhire-t$$
work=$(mktemp -d /tmp/voxhire-rfc4475.XXXXXX)
vpid=
cleanup() {
    local rc=$?
    if [ -n "$vpid" ] && kill -0 "$vpid" 2>/dev/null; then
        kill -KILL "$vpid" 2>/dev/null || true
        wait "$vpid" 2>/dev/null || true
    fi
    ip netns delete "$ns" 2>/dev/null || true
    if [ -n "${KEEP:-}" ] || [ "$rc" -ne 0 ]; then
        echo "work directory kept: $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# The namespace must have nothing but loopback.
links=$(ip netns exec "$ns" ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
[ "$links" = "lo " ] || die "namespace $ns has interfaces other than lo: $links"

# `ip netns exec` execs the command, so $! is voxhire's pid.
ip netns exec "$ns" "$bin" serve --listen 127.0.0.2:5060 --rtp-ports 40000-40199 \
    --play "$repo/tests/audio/agent-en.wav" --record-dir "$work/rec" --max-calls 32 \
    >"$work/serve.stdout" 2>"$work/serve.stderr" &
vpid=$!
mkdir -p "$work/rec"

for _ in $(seq 1 100); do
    grep -q '"event" *: *"listening"' "$work/serve.stdout" 2>/dev/null && break
    kill -0 "$vpid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '"event" *: *"listening"' "$work/serve.stdout" 2>/dev/null; then
    echo "voxhire serve did not print a listening line within 10 s" >&2
    tail -20 "$work/serve.stderr" >&2
    exit 1
fi
echo "voxhire serve (pid $vpid) listening in namespace $ns: $(head -1 "$work/serve.stdout")"

rc=0
ip netns exec "$ns" python3 "$sender" --dir "$dir" --expected "$expected" \
    --target 127.0.0.2:5060 --bind 127.0.0.1 --watch-pid "$vpid" "$@" || rc=$?

if ! kill -0 "$vpid" 2>/dev/null; then
    wait "$vpid" && st=0 || st=$?
    echo "voxhire serve is gone (exit status $st); last stderr lines:"
    tail -30 "$work/serve.stderr"
    exit 1
fi

# Graceful shutdown must still work after the torture.
kill -TERM "$vpid"
st=
for _ in $(seq 1 100); do
    if ! kill -0 "$vpid" 2>/dev/null; then
        wait "$vpid" && st=0 || st=$?
        break
    fi
    sleep 0.1
done
vpid_done=$vpid
vpid=
if [ -z "$st" ]; then
    echo "voxhire serve (pid $vpid_done) ignored SIGTERM for 10 s"
    kill -KILL "$vpid_done" 2>/dev/null || true
    rc=1
elif [ "$st" -ne 0 ]; then
    echo "voxhire serve exited $st on SIGTERM (want 0)"
    rc=1
fi
if [ "$rc" -ne 0 ]; then
    echo "--- voxhire stderr (last 30 lines):"
    tail -30 "$work/serve.stderr"
fi
exit "$rc"
