#!/usr/bin/env bash
# voxhire test command: unit tests, RFC 4475 vectors, real SIPp calls against the
# real binary on 127.0.0.1, and the torture messages over UDP inside a network
# namespace that has only loopback. Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

# RFC 4475 vectors live in ../shared beside the checkout (CI has them there).
export VOXHIRE_RFC4475_DIR="${VOXHIRE_RFC4475_DIR:-$(cd .. && pwd)/shared/testdata/rfc4475}"
if [ ! -d "$VOXHIRE_RFC4475_DIR" ]; then
  echo "test: RFC 4475 vectors not found at $VOXHIRE_RFC4475_DIR (set VOXHIRE_RFC4475_DIR)" >&2
  exit 1
fi

# Two cores: keep the build and the SIPp tests from starving each other.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

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

echo "test: all passed"
