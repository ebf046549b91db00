#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (every library instrumented, ASan + UBSan)
# and runs each one for a while on a copy of its checked-in seed corpus.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, all three targets)
#
# Build folder: $ZIPSERV_FUZZ_BUILD (default build-fuzz/). The corpus each run grows is kept in
# build-fuzz/corpus/<target>/ (the checked-in seeds stay as they are); a crashing input is written
# to build-fuzz/artifacts/<target>/ and the script fails. Each run's libFuzzer log, with its final
# statistics (inputs executed, coverage, corpus size), is build-fuzz/logs/<target>.log.
set -euo pipefail
source "$(dirname "$0")/env.sh"
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_safetensors fuzz_compressed_model fuzz_decoders)
build=${ZIPSERV_FUZZ_BUILD:-$ZIPSERV_ROOT/build-fuzz}
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/setup-debian.sh installs it)" >&2; exit 1; }

cmake -S "$ZIPSERV_ROOT" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DZIPSERV_FUZZ=ON \
  -DZIPSERV_ENABLE_CUDA=OFF -DZIPSERV_BUILD_TESTS=OFF -DZIPSERV_BUILD_WALKTHROUGH=OFF \
  -DZIPSERV_BUILD_BENCHMARKS=OFF -DZIPSERV_BUILD_DOCS=OFF > /dev/null
cmake --build "$build" -j "$ZIPSERV_JOBS" --target "${targets[@]}"

mkdir -p "$build/logs"
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t" artifacts="$build/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  case "$t" in
    fuzz_safetensors) max_len=16384 ;;
    *) max_len=131072 ;;  # a compressed model or a 3 x 3 block-tile matrix needs room
  esac
  echo "fuzz: $t for ${seconds} s"
  if ! "$build/tests/fuzz/$t" "$corpus" "$ZIPSERV_ROOT/tests/fuzz/corpus/$t" -max_total_time="$seconds" \
       -max_len="$max_len" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
       > "$build/logs/$t.log" 2>&1; then
    tail -40 "$build/logs/$t.log"
    echo "fuzz: $t FAILED; the input is in $artifacts" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|cov:" "$build/logs/$t.log" | tail -2
done
echo "fuzz: no crash, sanitizer report or failed check in ${#targets[@]} target(s)"
