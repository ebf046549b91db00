#!/usr/bin/env bash
# Sets up, builds everything (the CUDA kernels too where nvcc exists), builds the documentation
# site, and runs every test. GPU tests skip visibly on a machine without a GPU. Then the CPU tests
# again in two sanitizer builds, and a short run of each fuzz target:
#
#   build/        Release: everything, every test, the docs site
#   build-asan/   AddressSanitizer + UndefinedBehaviorSanitizer (ZIPSERV_SANITIZE=address): the
#                 whole CPU test suite; any report fails the run
#   build-tsan/   ThreadSanitizer (ZIPSERV_SANITIZE=thread): the tests of the multithreaded code
#                 (parallel_for itself, parallel encode/decode, the container's parallel
#                 compress/decompress, the emulation's threaded decode and GEMM)
#   build-fuzz/   clang + libFuzzer + ASan/UBSan: each fuzz target for ZIPSERV_FUZZ_SECONDS
#                 (default 60) on its seed corpus, where clang is installed (scripts/fuzz.sh)
#
# ZIPSERV_SANITIZERS=0 skips the sanitizer builds and the fuzzing (the first part alone).
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ZIPSERV_ROOT/scripts/setup-debian.sh" --with-browser
cmake -S "$ZIPSERV_ROOT" -B "$ZIPSERV_BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$ZIPSERV_BUILD" -j "$ZIPSERV_JOBS"
cmake --build "$ZIPSERV_BUILD" --target docs
(cd "$ZIPSERV_BUILD" && ctest --output-on-failure -j "$ZIPSERV_JOBS")
[[ "${ZIPSERV_SANITIZERS:-1}" == 0 ]] && exit 0

# Sanitizer builds: CPU only, no benchmarks, no docs. Any report aborts the test that made it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
sanitizer_build() {  # folder, ZIPSERV_SANITIZE value, targets to build ("" = all)
  cmake -S "$ZIPSERV_ROOT" -B "$ZIPSERV_ROOT/$1" -DCMAKE_BUILD_TYPE=Release -DZIPSERV_ENABLE_CUDA=OFF \
    -DZIPSERV_SANITIZE="$2" -DZIPSERV_BUILD_BENCHMARKS=OFF -DZIPSERV_BUILD_DOCS=OFF > /dev/null
  if [[ -n "$3" ]]; then
    # shellcheck disable=SC2086  # a list of target names
    cmake --build "$ZIPSERV_ROOT/$1" -j "$ZIPSERV_JOBS" --target $3
  else
    cmake --build "$ZIPSERV_ROOT/$1" -j "$ZIPSERV_JOBS"
  fi
}

echo "== ASan + UBSan: the CPU test suite"
sanitizer_build build-asan address ""
(cd "$ZIPSERV_ROOT/build-asan" && ctest --output-on-failure -j "$ZIPSERV_JOBS" -LE gpu)

echo "== TSan: the tests of the multithreaded code"
sanitizer_build build-tsan thread \
  "reference_parallel_for_test reference_encode_parallel_test compressed_model_test emulation_decode_test emulation_zipgemm_test"
tsan="$ZIPSERV_ROOT/build-tsan/tests"
"$tsan/reference/reference_parallel_for_test"
"$tsan/reference/reference_encode_parallel_test"
"$tsan/container/compressed_model_test" --gtest_filter='*FixtureRoundTrip*:CompressedModel.*'
"$tsan/emulation/emulation_decode_test" --gtest_filter='*ThreadCountsGiveIdenticalOutput*'
"$tsan/emulation/emulation_zipgemm_test" --gtest_filter='*IdenticalAcrossThreadCountsAndRuns*:*RealValuedInputsEveryShapeAndWidth*'

if command -v clang++ > /dev/null; then
  echo "== fuzzing: each target for ${ZIPSERV_FUZZ_SECONDS:-60} s"
  bash "$ZIPSERV_ROOT/scripts/fuzz.sh" "${ZIPSERV_FUZZ_SECONDS:-60}"
else
  echo "== fuzzing skipped: clang++ is not installed (scripts/setup-debian.sh installs it)"
fi
