#!/usr/bin/env bash
# Installs what topdown needs to build and test, from Debian's packages. Also, if it can,
# Slurm and munge for the farm integration test (tests/farm/slurm_test.sh starts its own
# daemons; the packages' services are not used; when they cannot be installed the test
# skips with a message). With --bench also the peers the benchmarks compare against
# (ffmpeg). clang and its runtime build the fuzz targets (scripts/fuzz.sh). Only missing
# packages are installed; run as root (or with sudo available). groff-base and zsh check
# the installed man pages and completions (tests/cli/install_test.sh).
set -euo pipefail

required=(build-essential cmake ninja-build pkg-config
  libsndfile1-dev libopus-dev libogg-dev libsoxr-dev libfftw3-dev libtomlplusplus-dev nlohmann-json3-dev
  libboost-program-options-dev libgtest-dev libgmock-dev libbenchmark-dev libebur128-dev
  libxxhash-dev libtag1-dev libeigen3-dev python3-cmaes librubberband-dev
  python3 clang libclang-rt-14-dev groff-base zsh)
optional=(slurmctld slurmd slurm-client munge)
if [ "${1:-}" = "--bench" ]; then
  required+=(ffmpeg bc time)
fi

missing_of() {
  local out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}
missing_required=$(missing_of "${required[@]}")
missing_optional=$(missing_of "${optional[@]}")
if [ -z "$missing_required" ] && [ -z "$missing_optional" ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
if [ -n "$missing_required" ]; then
  echo "setup: installing $missing_required"
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing_required >/dev/null
fi
if [ -n "$missing_optional" ]; then
  echo "setup: installing $missing_optional (for the Slurm integration test)"
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing_optional >/dev/null ||
    echo "setup: could not install $missing_optional; the Slurm test will skip"
fi
