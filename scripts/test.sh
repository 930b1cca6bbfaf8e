#!/usr/bin/env bash
# voxhire test command: unit tests, RFC 4475 vectors, real SIPp calls against the
# real binary on 127.0.0.1, and the torture messages over UDP inside a network
# namespace that has only loopback. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

# RFC 4475 vectors: vendored in tests/data/rfc4475 (public conformance data,
# byte-exact, pinned by SHA256SUMS).
export VOXHIRE_RFC4475_DIR="${VOXHIRE_RFC4475_DIR:-$PWD/tests/data/rfc4475}"
(cd "$VOXHIRE_RFC4475_DIR" && sha256sum --quiet -c SHA256SUMS) || {
  echo "test: RFC 4475 vectors in $VOXHIRE_RFC4475_DIR do not match their SHA256SUMS" >&2
  exit 1
}

# Two cores: keep the build and the SIPp tests from starving each other.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
# A one-off build gains nothing from incremental caches, and they double the
# target directory (tens of GB across the workspace's test binaries).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The interview tests speak every line of the example scripts. The Mandarin voice
# renders slower than real time on a small machine, so synthesise the lines once,
# up front, into the on-disk prompt cache (seconds when already there).
echo "== interview prompts into the prompt cache"
cargo run --locked --quiet --bin voxhire -- prompts warm \
  config/interview-java-backend.en.toml config/interview-frontend.zh.toml

echo "== cargo test (workspace: unit, state machines, RFC 4475, SIPp integration)"
cargo test --workspace --locked -- --test-threads=2

echo "== RFC 4475 torture messages over UDP, in a loopback-only network namespace"
bash tests/rfc4475_netns.sh

echo "test: target directory uses $(du -sh target 2>/dev/null | cut -f1)"
echo "test: all passed"
