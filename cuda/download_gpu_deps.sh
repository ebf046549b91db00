#!/usr/bin/env bash
# download_gpu_deps.sh: download zipserv's build dependencies as Debian packages, to build the
# CUDA part on a GPU machine without internet access.
#
# usage: cuda/download_gpu_deps.sh [DIR]        (default DIR: .deb, which git ignores)
#
# Run it from the repository root on a Debian 12 machine that reaches Debian's archive. A GPU
# machine often has nvcc, CMake and cuBLAS but not Eigen, Highway, GoogleTest, Google Benchmark,
# nlohmann-json, xxHash or Boost.Context (for cuda-sim); this saves their .deb files in DIR,
# nothing is installed. Copy the repository with DIR in it to the GPU machine and run
# cuda/run_gpu_checks.sh there: it unpacks the packages into a prefix inside its build directory
# (never into /) and points CMake and the loader at it.
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then  # the comment above is the usage
  sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
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
