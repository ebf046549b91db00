#!/usr/bin/env bash
# Installs what zipserv needs on a Debian 12 machine, from Debian's own packages.
# The CUDA toolkit is not a Debian package here: if nvcc is installed (e.g. /usr/local/cuda),
# the build finds it and compiles the kernels; without it the CPU parts build alone.
set -euo pipefail

packages=(
  build-essential cmake git python3
  libeigen3-dev            # Eigen: the dense-GEMM baseline in the CPU benchmarks and tests
  libhwy-dev               # Google Highway: the SIMD CPU emulation of a warp
  libgtest-dev libgmock-dev # GoogleTest
  libbenchmark-dev         # Google Benchmark
  nlohmann-json3-dev       # JSON header of safetensors files
  libxxhash-dev            # XXH3-128 checksums of every original tensor
  libboost-context-dev     # Boost.Context: the fibers of cuda-sim, one per simulated CUDA thread
  doxygen graphviz         # the documentation site
  clang libclang-rt-dev    # libFuzzer and the sanitizer runtimes for the fuzz targets (scripts/fuzz.sh)
)
if [[ "${1:-}" == "--with-browser" ]]; then
  packages+=(chromium)     # headless browser for the documentation-site test
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  as_root=()
  [[ $(id -u) -ne 0 ]] && as_root=(sudo)
  echo "setup: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present"
