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
#   VOXHIRE_RFC4475_DIR  messages (default: the vendored <repo>/tests/data/rfc4475)
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
dir=${VOXHIRE_RFC4475_DIR:-$repo/tests/data/rfc4475}
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

verbose=()
only=()
while [ $# -gt 0 ]; do
    case $1 in
        -v|--verbose) verbose=(-v) ;;
        --only) only+=(--only "$2"); shift ;;
        *) die "unknown argument $1 (use -v, --only FILE)" ;;
    esac
    shift
done

sender_args=(--dir "$dir" --expected "$expected")
# Messages that share a transaction key (top Via branch + sent-by) go to
# different voxhire processes: otherwise the second is, correctly, answered
# as a retransmission of the first (RFC 3261 §17.2.3).
mapfile -t rounds < <(python3 "$sender" "${sender_args[@]}" "${only[@]}" --plan)
[ ${#rounds[@]} -gt 0 ] || die "no messages selected"

serve_ok=1
start_serve() { # $1 = round
    # `ip netns exec` execs the command, so $! is voxhire's pid.
    ip netns exec "$ns" "$bin" serve --sip 127.0.0.2:5060 --rtp-ports 40000-40199 \
        --play "$repo/tests/audio/agent-en.wav" --record-dir "$work/rec" --max-calls 32 \
        >"$work/serve-$1.stdout" 2>"$work/serve-$1.stderr" &
    vpid=$!
    for _ in $(seq 1 100); do
        grep -q '"event" *: *"listening"' "$work/serve-$1.stdout" 2>/dev/null && return 0
        kill -0 "$vpid" 2>/dev/null || break
        sleep 0.1
    done
    echo "voxhire serve did not print a listening line within 10 s" >&2
    tail -20 "$work/serve-$1.stderr" >&2
    exit 1
}

stop_serve() { # $1 = round; graceful shutdown must still work after the torture
    local st=
    if ! kill -0 "$vpid" 2>/dev/null; then
        wait "$vpid" && st=0 || st=$?
        echo "voxhire serve DIED during round $1 (exit status $st); last stderr lines:"
        tail -30 "$work/serve-$1.stderr"
        vpid=; serve_ok=0; return
    fi
    kill -TERM "$vpid"
    for _ in $(seq 1 100); do
        if ! kill -0 "$vpid" 2>/dev/null; then
            wait "$vpid" && st=0 || st=$?
            break
        fi
        sleep 0.1
    done
    if [ -z "$st" ]; then
        echo "voxhire serve ignored SIGTERM for 10 s (round $1)"
        kill -KILL "$vpid" 2>/dev/null || true
        serve_ok=0
    elif [ "$st" -ne 0 ]; then
        echo "voxhire serve exited $st on SIGTERM (want 0), round $1; last stderr lines:"
        tail -30 "$work/serve-$1.stderr"
        serve_ok=0
    fi
    vpid=
}

mkdir -p "$work/rec"
results=$work/results.tsv
: >"$results"
round=0
for files in "${rounds[@]}"; do
    round=$((round + 1))
    start_serve "$round"
    echo "== round $round/${#rounds[@]}: voxhire serve pid $vpid in namespace $ns, $(head -1 "$work/serve-$round.stdout")"
    picks=()
    for f in $files; do picks+=(--only "$f"); done
    ip netns exec "$ns" python3 "$sender" "${sender_args[@]}" "${picks[@]}" "${verbose[@]}" \
        --target 127.0.0.2:5060 --bind 127.0.0.1 --watch-pid "$vpid" --results "$results" || true
    stop_serve "$round"
done

total=$(wc -l <"$results")
failed=$(awk -F'\t' '$4 != "ok"' "$results" | wc -l)
echo "== RFC 4475 over UDP: $((total - failed))/$total as expected"
if [ "$failed" -ne 0 ]; then
    awk -F'\t' '$4 != "ok" { printf "   FAIL %-22s got %-8s allowed %s\n", $1, $2, $3 }' "$results"
fi
[ "$serve_ok" -eq 1 ] || echo "== voxhire serve did not survive/shut down cleanly (see above)"
# Every one of the RFC's 49 messages must have been sent and judged: fewer
# means a round died early, which must not pass as green.
expected=49
[ "$total" -ge "$expected" ] || echo "== only $total of the $expected messages were judged"
if [ "$failed" -ne 0 ] || [ "$serve_ok" -ne 1 ] || [ "$total" -lt "$expected" ]; then
    exit 1
fi
exit 0
