#!/usr/bin/env bash
# Installs the Debian packages dmconv needs (docs/design.md §5), only those that are missing.
# Idempotent; prints nothing when everything is present. Uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libeigen3-dev          # Eigen 3.4: particles are columns of d x n matrices
  libboost-math-dev      # Boost.Math: special functions, quadrature, distributions
  libhdf5-dev            # HDF5 C and C++ (results files)
  libtomlplusplus-dev    # toml++ (configs)
  libcli11-dev           # CLI11 (command line)
  liblemon-dev           # LEMON graph library: network simplex for exact optimal transport
  librandom123-dev       # Random123 (Philox counter-based RNG)
  libsleef-dev           # SLEEF vectorised log and sincospi (Box-Muller normals)
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libomp-dev             # OpenMP runtime headers (g++ uses libgomp)
  libopenmpi-dev openmpi-bin
  python3 python3-numpy python3-matplotlib python3-h5py
  chromium               # headless browser of the report test (tests/report/test_report.py)
)
# `make sanitize` and `make fuzz` (--sanitize): clang 16 with its sanitizer runtimes and its OpenMP
# headers. libomp-16-dev conflicts with libomp-dev (the libomp 14 headers), so it takes its place;
# the g++ build needs neither (g++ uses libgomp), and a later `make build` swaps libomp-dev back.
if [ "${1:-}" = "--sanitize" ]; then
  packages=("${packages[@]/libomp-dev/}")
  packages+=(clang-16 libclang-rt-16-dev libomp-16-dev llvm-16)
fi

# `make bench-peers` (--peers), and only it: PyTorch for the peer comparison of bench/peers/.
if [ "${1:-}" = "--peers" ]; then
  packages=(python3-torch python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  [ -n "$p" ] || continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
