#!/usr/bin/env bash
# run_gpu_checks.sh: build the CUDA part on a machine with an NVIDIA GPU, run its GPU tests and
# the sanitizers on the kernels, and measure ZipGEMM against cuBLAS.
#
# usage: cuda/run_gpu_checks.sh LOG_DIR [BUILD_DIR]      (from the repository root)
#   LOG_DIR    where every step writes its log (created if missing)
#   BUILD_DIR  the CMake build directory (default: build-gpu)
#   e.g.       cuda/run_gpu_checks.sh /tmp/zipserv-gpu-logs
#
# Needs nvcc, CMake, cuBLAS and compute-sanitizer (the CUDA toolkit) and the build dependencies
# (scripts/setup-debian.sh). On a GPU machine without internet access, run
# cuda/download_gpu_deps.sh first on a machine that has it and copy its .deb directory into the
# repository root (or name it with DEPS_DIR=...): the packages are unpacked into
# BUILD_DIR/deps-root, never into /.
#
# Steps (select with STEPS="build test sanitize bench", default all; each logs to LOG_DIR):
#   build     configure for sm_90 (H100/H200; ZIPSERV_CUDA_ARCH=80 for an A100) with ptxas -v,
#             build everything (every gpu-labelled test: cuda, oracle, walkthrough 09)
#                                                                        -> configure.log build.log ptxas.txt
#   test      ctest -L gpu (and the host-only cuda tests)                -> ctest_gpu.log ctest_cuda_host.log
#   sanitize  compute-sanitizer memcheck, racecheck, synccheck on small filters -> sanitizer_*.log
#   bench     bench_zipgemm_cuda (Markdown tables)                      -> bench.md bench.stderr
# Other settings: JOBS (parallel build jobs, default: every core), BENCH_ARGS (passed to the
# benchmark).
# Exit code: number of failed steps (0 = all passed).
set -u
if [[ ${1:-} == -h || ${1:-} == --help ]]; then  # the comment above is the usage
  sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
LOG_DIR=${1:?usage: cuda/run_gpu_checks.sh LOG_DIR [BUILD_DIR]}
BUILD_DIR=${2:-build-gpu}
STEPS=${STEPS:-build test sanitize bench}
ARCH=${ZIPSERV_CUDA_ARCH:-90}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$LOG_DIR"
failed=0
step() { echo "== $1: $2"; }
has_step() { [[ " $STEPS " == *" $1 "* ]]; }

# Dependencies the GPU machine lacks: .deb files fetched beforehand by cuda/download_gpu_deps.sh
# (copied into DEPS_DIR, default .deb) are unpacked into a private prefix, never into /.
DEPS_DIR=${DEPS_DIR:-.deb}
DEPS_ARGS=()
if compgen -G "$DEPS_DIR/*.deb" > /dev/null; then
  DEPS_ROOT="$(pwd)/$BUILD_DIR/deps-root"
  mkdir -p "$DEPS_ROOT"
  for deb in "$DEPS_DIR"/*.deb; do dpkg -x "$deb" "$DEPS_ROOT"; done
  DEPS_ARGS=(-DCMAKE_PREFIX_PATH="$DEPS_ROOT/usr" -DCMAKE_CXX_FLAGS="-isystem $DEPS_ROOT/usr/include")
  export LD_LIBRARY_PATH="$DEPS_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "== deps: unpacked $(ls "$DEPS_DIR"/*.deb | wc -l) packages into $DEPS_ROOT"
fi

if has_step build; then
  step build "sm_$ARCH into $BUILD_DIR"
  nvidia-smi > "$LOG_DIR/nvidia-smi.txt" 2>&1
  if cmake -S . -B "$BUILD_DIR" -DZIPSERV_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
       "${DEPS_ARGS[@]}" -DZIPSERV_BUILD_DOCS=OFF \
       -DZIPSERV_CUDA_PTXAS_VERBOSE=ON -DCMAKE_BUILD_TYPE=Release > "$LOG_DIR/configure.log" 2>&1 &&
     cmake --build "$BUILD_DIR" -j"$JOBS" \
       > "$LOG_DIR/build.log" 2>&1; then
    grep -E "Compiling entry function|registers|stack frame" "$LOG_DIR/build.log" > "$LOG_DIR/ptxas.txt"
  else
    echo "build FAILED (see $LOG_DIR/build.log)"; failed=$((failed + 1))
  fi
fi

TESTS="$BUILD_DIR/tests/cuda"
if has_step test; then
  step test "ctest -L gpu"
  # ZIPSERV_REQUIRE_GPU=1: a missing device or a CUDA error fails every gpu test instead of
  # skipping it; and any gpu test ctest still reports as skipped fails the step.
  (cd "$BUILD_DIR" && ZIPSERV_REQUIRE_GPU=1 ctest -L gpu --output-on-failure --timeout 900) > "$LOG_DIR/ctest_gpu.log" 2>&1 || { echo "gpu tests FAILED"; failed=$((failed + 1)); }
  if grep -qE "\*\*\*Skipped|\(Skipped\)|\*\*\*Not Run|did not run" "$LOG_DIR/ctest_gpu.log"; then
    echo "gpu tests SKIPPED under ZIPSERV_REQUIRE_GPU=1 (see $LOG_DIR/ctest_gpu.log)"; failed=$((failed + 1))
  fi
  (cd "$BUILD_DIR" && ctest -L cuda -LE gpu --output-on-failure) > "$LOG_DIR/ctest_cuda_host.log" 2>&1 || { echo "host cuda tests FAILED"; failed=$((failed + 1)); }
  grep -E "tests passed|Skipped|Failed" "$LOG_DIR/ctest_gpu.log" | tail -5
fi

if has_step sanitize; then
  # Small filters: the sanitizers slow kernels down ~100x.
  ZIP_FILTER='ZipGemm.GuardBandsAndEveryOutputWritten/gpu:ZipGemm.PaddingColumnsNeverReachTheAccumulators/gpu'
  DEC_FILTER='Decompress.GuardBandsAndUnalignedRows/gpu:TraceLaneFragments.GuardBands/gpu'
  for tool in memcheck racecheck synccheck; do
    step sanitize "$tool"
    compute-sanitizer --tool "$tool" --error-exitcode 1 "$TESTS/cuda_zipgemm_kernel_test" --gtest_filter="$ZIP_FILTER" \
      > "$LOG_DIR/sanitizer_${tool}_zipgemm.log" 2>&1 || { echo "$tool zipgemm FAILED"; failed=$((failed + 1)); }
    compute-sanitizer --tool "$tool" --error-exitcode 1 "$TESTS/cuda_decode_kernel_test" --gtest_filter="$DEC_FILTER" \
      > "$LOG_DIR/sanitizer_${tool}_decode.log" 2>&1 || { echo "$tool decode FAILED"; failed=$((failed + 1)); }
  done
fi

if has_step bench; then
  step bench "bench_zipgemm_cuda ${BENCH_ARGS:-}"
  "$BUILD_DIR/bench/cuda/bench_zipgemm_cuda" ${BENCH_ARGS:-} > "$LOG_DIR/bench.md" 2> "$LOG_DIR/bench.stderr" || { echo "bench FAILED"; failed=$((failed + 1)); }
  cat "$LOG_DIR/bench.md"
fi

echo "== done: $failed failed step(s); logs in $LOG_DIR"
exit "$failed"
