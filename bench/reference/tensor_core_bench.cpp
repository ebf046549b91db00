// tensor_core_bench: the cost of one emulated mma.m16n8k16 (16 x 8 outputs, 16 products each)
// under each MmaNumerics, side by side in one run: ieee_sequential (16 rounded FP32 adds per
// output) next to the tensor-core models sm80, sm89 and sm90 (exact products, alignment to the
// anchor, one fixed-point sum, one truncation; sm80/sm89 twice per output, in two blocks of 8).
// Scalar code: no Highway target is involved.
//
// Run by hand, never as a test:  ./bench_tensor_core --benchmark_min_time=1
// Counter `mma/s`: whole 16x8x16 mma per second; time per iteration = one mma.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/mma_numerics.h"

namespace {

using zipserv::MmaNumerics;

// kTiles different operand sets, so the timing is not that of one cached input.
constexpr int kTiles = 64;

struct MmaOperands {
  uint16_t a[16][16];  // (M16, K16) bf16: row m of A
  uint16_t b[8][16];   // (N8, K16) bf16: column n of B, k contiguous
  float c[16][8];      // (M16, N8) f32
};

std::vector<MmaOperands> random_operands() {
  std::mt19937 rng(1);
  std::normal_distribution<float> weight(0.0f, 0.02f), activation(0.0f, 1.0f), acc(0.0f, 0.5f);
  std::vector<MmaOperands> tiles(kTiles);
  for (MmaOperands& t : tiles) {
    for (auto& row : t.a)
      for (uint16_t& v : row) v = zipserv::float_to_bf16_rne(weight(rng));
    for (auto& col : t.b)
      for (uint16_t& v : col) v = zipserv::float_to_bf16_rne(activation(rng));
    for (auto& row : t.c)
      for (float& v : row) v = acc(rng);
  }
  return tiles;
}

void BM_Mma(benchmark::State& state) {
  const MmaNumerics numerics = zipserv::kAllMmaNumerics[state.range(0)];
  state.SetLabel(std::string(zipserv::numerics_name(numerics)));
  const std::vector<MmaOperands> tiles = random_operands();
  float d[16][8];  // (M16, N8) f32
  int64_t mmas = 0;
  for (auto _ : state) {
    const MmaOperands& t = tiles[mmas % kTiles];
    for (int m = 0; m < 16; ++m)
      for (int n = 0; n < 8; ++n) d[m][n] = zipserv::mma_dot16(numerics, t.a[m], t.b[n], t.c[m][n]);
    benchmark::DoNotOptimize(d);
    ++mmas;
  }
  state.counters["mma/s"] = benchmark::Counter(static_cast<double>(mmas), benchmark::Counter::kIsRate);
  state.counters["outputs/s"] = benchmark::Counter(static_cast<double>(mmas) * 128, benchmark::Counter::kIsRate);
}
// Arguments index kAllMmaNumerics: 0 ieee_sequential, 1 sm80, 2 sm89, 3 sm90.
BENCHMARK(BM_Mma)->DenseRange(0, 3);

}  // namespace

BENCHMARK_MAIN();
