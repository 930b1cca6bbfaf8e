#!/usr/bin/env bash
# Checks the SIPp scenarios under tests/sipp against SIPp itself (no voxhire
# needed): each UAS scenario is driven by a SIPp UAC on 127.0.0.1 with explicit
# ports, and each UAC scenario by a SIPp UAS. Expected exit codes: 0 = every
# call succeeded, 1 = at least one call failed (used to prove the auth check
# really rejects a wrong password).
#
#   bash tests/sipp/validate-scenarios.sh          # all pairs
#   KEEP=1 bash tests/sipp/validate-scenarios.sh   # keep the SIPp logs
set -uo pipefail
cd "$(dirname "$0")"
command -v sipp >/dev/null || { echo "sipp not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/voxhire-sipp-validate.XXXXXX)
uas_pid=
cleanup() {
    [ -n "$uas_pid" ] && kill "$uas_pid" 2>/dev/null
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "logs kept in $work"; fi
}
trap cleanup EXIT

base=${VALIDATE_BASE_PORT:-25060}
failures=0

# pair NAME EXPECT_UAS EXPECT_UAC "UAS args" "UAC args" [regexp the UAC's -log_file must match]
pair() {
    local name=$1 want_uas=$2 want_uac=$3 uas_args=$4 uac_args=$5 want_log=${6:-}
    local d="$work/$name" sip_uas=$base sip_uac=$((base + 2)) mp_uas=$((base + 10)) mp_uac=$((base + 20))
    base=$((base + 40))
    mkdir -p "$d"
    # shellcheck disable=SC2086
    sipp $uas_args -i 127.0.0.1 -p "$sip_uas" -mp "$mp_uas" -m 1 -timeout 30 -nostdin \
        -trace_err -error_file "$d/uas_errors.log" -trace_msg -message_file "$d/uas_messages.log" \
        -trace_logs -log_file "$d/uas_logs.log" >"$d/uas.out" 2>&1 &
    uas_pid=$!
    sleep 0.3
    # shellcheck disable=SC2086
    sipp $uac_args -i 127.0.0.1 -p "$sip_uac" -mp "$mp_uac" -m 1 -timeout 30 -nostdin \
        -trace_err -error_file "$d/uac_errors.log" -trace_msg -message_file "$d/uac_messages.log" \
        -trace_logs -log_file "$d/uac_logs.log" "127.0.0.1:$sip_uas" >"$d/uac.out" 2>&1
    local rc_uac=$?
    local rc_uas
    for _ in $(seq 1 350); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$uas_pid" 2>/dev/null
    wait "$uas_pid"; rc_uas=$?
    uas_pid=
    local verdict=ok
    if [ -n "$want_log" ] && ! grep -Eq "$want_log" "$d/uac_logs.log" 2>/dev/null; then
        verdict="FAIL (log lacks /$want_log/)"; failures=$((failures + 1))
    elif [ "$rc_uas" != "$want_uas" ] || [ "$rc_uac" != "$want_uac" ]; then
        verdict=FAIL; failures=$((failures + 1))
        for f in "$d"/*_errors.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
    fi
    printf '%-34s uas rc=%s (want %s)  uac rc=%s (want %s)  %s\n' \
        "$name" "$rc_uas" "$want_uas" "$rc_uac" "$want_uac" "$verdict"
}

pair uas-answer-speech/uac-call 0 0 "-sf uas-answer-speech.xml" "-sf uac-call.xml -rtp_echo -d 6500"
pair uas-answer-speech/sn-uac   0 0 "-sf uas-answer-speech.xml" "-sn uac -d 2000"
pair uas-busy                   0 0 "-sf uas-busy.xml"          "-sf validate/uac-expect-486.xml"
pair uas-decline                0 0 "-sf uas-decline.xml"       "-sf validate/uac-expect-603.xml"
pair uas-no-answer              0 0 "-sf uas-no-answer.xml"     "-sf validate/uac-cancel.xml"
pair uas-auth/good-password     0 0 "-sf uas-auth.xml"          "-sf validate/uac-auth.xml -au alice -ap secret -d 2000"
pair uas-auth/wrong-password    1 0 "-sf uas-auth.xml"          "-sf validate/uac-auth.xml -au alice -ap wrong -d 2000"
pair uas-auth/wrong-user        1 0 "-sf uas-auth.xml"          "-sf validate/uac-auth.xml -au bob -ap secret -d 2000"
pair uac-call/sn-uas            0 0 "-sn uas"                   "-sf uac-call.xml -rtp_echo -d 2000"
pair uac-call-or-503/sn-uas     0 0 "-sn uas"                   "-sf uac-call-or-503.xml -d 1000" "outcome=200$"
pair uac-call-or-503/503        0 0 "-sf validate/uas-503.xml"  "-sf uac-call-or-503.xml -d 1000" "outcome=503 retry_after=5$"
pair uac-call-remote-bye/hangup 0 0 "-sf validate/uas-hangup.xml -d 1000" "-sf uac-call-remote-bye.xml -rtp_echo"
pair uac-call/503-fails         0 1 "-sf validate/uas-503.xml"  "-sf uac-call.xml -d 1000"

if [ "$failures" -ne 0 ]; then
    echo "$failures scenario pair(s) did not behave as expected"; exit 1
fi
echo "all scenario pairs behaved as expected"
