#!/usr/bin/env bash
# Installs what topdown needs to build and test, from Debian's packages; with --bench also
# the peers the benchmarks compare against (ffmpeg). Only missing packages are installed;
# run as root (or with sudo available).
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config
  libsndfile1-dev libsoxr-dev libfftw3-dev libtomlplusplus-dev nlohmann-json3-dev
  libboost-program-options-dev libgtest-dev libgmock-dev libbenchmark-dev libebur128-dev
  python3)
if [ "${1:-}" = "--bench" ]; then
  packages+=(ffmpeg bc)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
