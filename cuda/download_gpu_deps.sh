#!/usr/bin/env bash
# download_gpu_deps.sh: run HERE (a machine that reaches Debian's archive) before a GPU session.
#
#   cuda/download_gpu_deps.sh [DIR]        (default DIR: .deb, which git ignores)
#
# The lent GPU machine has nvcc, CMake and cuBLAS but reaches no package registry, while the
# build needs Eigen, Highway, GoogleTest, Google Benchmark, nlohmann-json and xxHash. This fetches
# their Debian packages as .deb files; carry DIR to the GPU machine, where run_gpu_checks.sh
# unpacks them into a private prefix (never into /) and points CMake and the loader at it.
set -euo pipefail
dir=${1:-.deb}
packages=(
  libeigen3-dev
  libhwy-dev libhwy1
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev libbenchmark1debian
  nlohmann-json3-dev
  libxxhash-dev libxxhash0
  libboost-context-dev libboost-context1.74-dev libboost-context1.74.0 libboost1.74-dev  # cuda-sim fibers
)
mkdir -p "$dir"
cd "$dir"
apt-get download "${packages[@]}"
ls -la
