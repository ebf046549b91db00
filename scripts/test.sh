#!/usr/bin/env bash
# Sets up, builds everything (the CUDA kernels too where nvcc exists), builds the documentation
# site, and runs every test. GPU tests skip visibly on a machine without a GPU.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ZIPSERV_ROOT/scripts/setup-debian.sh" --with-browser
cmake -S "$ZIPSERV_ROOT" -B "$ZIPSERV_BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$ZIPSERV_BUILD" -j "$ZIPSERV_JOBS"
cmake --build "$ZIPSERV_BUILD" --target docs
cd "$ZIPSERV_BUILD"
ctest --output-on-failure -j "$ZIPSERV_JOBS"
