#!/usr/bin/env bash
# The whole product on one machine, through its API: starts `voxhire server`
# on a fresh embedded store, two simulated candidates (voxhire-candidate) and an
# ATS stand-in (voxhire-ats); creates a job from the example script, adds the
# candidates, runs the campaign, and waits for the signed interview results to
# reach the ATS. Prints a summary and where to look, then stops everything it
# started. Run scripts/setup.sh first.
#
#   scripts/demo.sh                 # everything on 127.0.0.1
#   VOXHIRE_DEMO_KEEP=1 scripts/demo.sh   # keep the data directory afterwards
#
# Ports (change with the variables): HTTP API 18080, ATS 18090, candidates 15090.
set -euo pipefail
cd "$(dirname "$0")/.."

api_port=${VOXHIRE_DEMO_API_PORT:-18080}
ats_port=${VOXHIRE_DEMO_ATS_PORT:-18090}
cand_port=${VOXHIRE_DEMO_CANDIDATE_PORT:-15090}
api="http://127.0.0.1:$api_port/api/v1"

echo "== building voxhire (first time: several minutes)"
cargo build --locked --quiet --bins
bin=target/debug

work=$(mktemp -d /tmp/voxhire-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -z "${VOXHIRE_DEMO_KEEP:-}" ]; then rm -rf "$work"; else echo "kept: $work"; fi
}
trap cleanup EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
call() { # METHOD PATH [BODY]
    curl -sS -X "$1" "$api$2" -H "authorization: Bearer $key" -H 'content-type: application/json' \
        ${3:+--data-binary "$3"}
}

echo "== simulated candidates on 127.0.0.1:$cand_port"
"$bin/voxhire-candidate" --sip "127.0.0.1:$cand_port" --rtp-ports 41000-41199 \
    --scenarios tests/interview/scenarios >"$work/candidates.jsonl" 2>"$work/candidates.log" &
pids+=($!)

echo "== a master key ($work/master.key), an API key, then voxhire server on 127.0.0.1:$api_port (data: $work/data)"
"$bin/voxhire" keys generate --out "$work/master.key" >/dev/null 2>&1
key=$("$bin/voxhire" apikey create --keys "$work/master.key" --data "$work/data" --name demo --scope write 2>/dev/null | json "d['key']")
"$bin/voxhire" server --keys "$work/master.key" --listen "127.0.0.1:$api_port" --data "$work/data" --sip 127.0.0.1:0 \
    --rtp-ports 41200-41399 >"$work/server.jsonl" 2>"$work/server.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/server.jsonl" 2>/dev/null && break; sleep 0.2; done
grep -q listening "$work/server.jsonl" || { echo "the server did not start:"; tail "$work/server.log"; exit 1; }

echo "== a webhook subscription, and the ATS stand-in on 127.0.0.1:$ats_port"
hook=$(call POST /webhooks "{\"url\":\"http://127.0.0.1:$ats_port/voxhire\",\"events\":[\"*\"]}")
secret=$(echo "$hook" | json "d['secret']")
"$bin/voxhire-ats" --listen "127.0.0.1:$ats_port" --secret "$secret" >"$work/ats.jsonl" 2>"$work/ats.log" &
pids+=($!)

echo "== a job from config/interview-java-backend.en.toml, two candidates"
job_body=$(python3 -c "import json; print(json.dumps({'title': 'Java backend engineer', 'script': open('config/interview-java-backend.en.toml').read()}))")
job=$(call POST /jobs "$job_body" | json "d['id']")
for who in alice:Alice\ Chen bob:Bob\ Okafor; do
    user=${who%%:*}; name=${who#*:}
    call POST "/jobs/$job/candidates" \
        "{\"name\":\"$name\",\"phone\":\"sip:$user@127.0.0.1:$cand_port\",\"timezone\":\"Europe/London\",\"external_id\":\"ats-$user\"}" >/dev/null
done

echo "== the campaign (loads the models, then two interviews of about a minute each)"
call POST "/jobs/$job/campaign" >/dev/null
started=$(date +%s)
while :; do
    progress=$(call GET "/jobs/$job/campaign")
    state=$(echo "$progress" | json "d['state']")
    echo "   $(($(date +%s) - started)) s: $(echo "$progress" | json "d['counts']")"
    [ "$state" = finished ] && break
    [ $(($(date +%s) - started)) -lt 900 ] || { echo "campaign did not finish in 15 minutes"; exit 1; }
    sleep 10
done
for _ in $(seq 50); do [ "$(grep -c interview.completed "$work/ats.jsonl" || true)" -ge 2 ] && break; sleep 0.2; done

echo
echo "== results, as the ATS received them (signatures checked)"
grep interview.completed "$work/ats.jsonl" || echo "   (no interview.completed yet: see $work/server.log)"
echo
echo "== each candidate's status history, from the API"
for c in $(call GET "/jobs/$job/candidates" | json "' '.join(i['id'] for i in d['items'])"); do
    call GET "/candidates/$c/events" | json "'   $c: ' + ' -> '.join(e['status'] for e in d['items'])"
done
echo
echo "Where to look (with VOXHIRE_DEMO_KEEP=1, which keeps $work): each call's transcript,"
echo "report, events and recording under data/runs/$job/<candidate>/<attempt>/, encrypted under"
echo "master.key (read them through the API, or: voxhire archive export --keys master.key --data data"
echo "--interview ID --out DIR); the store data/voxhire.sqlite; server.log, ats.jsonl (what the ATS"
echo "got), candidates.log. The README's \"voxhire server\" section walks through the same API with curl."
