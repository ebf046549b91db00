// Throughput of cuda-sim: the real fused ZipGEMM and decode kernels run by the simulator
// of blocks and warps, per worker count, with the race check on (it always is). Names:
//   Sim/<kernel>/<M>x<K>/N:<n>/workers:<w>
// Counters: mma.sync and simulated threads per second of wall time. The aim (docs/simulator.md):
// 1024 x 1024 x N = 32 in under one second on one core.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/encode.h"

namespace {

using namespace zipserv;

std::vector<uint16_t> gaussian(int64_t count, float sigma, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<uint16_t> v(static_cast<size_t>(count));
  for (uint16_t& x : v) x = float_to_bf16_rne(d(gen));
  return v;
}

cuda::Backend simulator(int workers, MmaNumerics numerics = MmaNumerics::ieee_sequential) {
  cuda::sim::Options o;
  o.workers = workers;
  o.numerics = numerics;
  return cuda::Backend::cuda_sim(o);
}

void report(benchmark::State& state) {
  const cuda::sim::LaunchStats& s = cuda::sim::last_launch_stats();
  state.counters["mma/s"] = benchmark::Counter(static_cast<double>(s.mma), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads/s"] =
      benchmark::Counter(static_cast<double>(s.threads), benchmark::Counter::kIsIterationInvariantRate);
}

void ZipGemm(benchmark::State& state, int64_t m, int64_t k, int64_t n, int workers, MmaNumerics numerics) {
  const auto w = gaussian(m * k, 0.02f, 1), x = gaussian(n * k, 1.0f, 2);
  const CompressedMatrix c = encode(w.data(), m, k);
  const cuda::BackendScope scope(simulator(workers, numerics));
  std::vector<uint16_t> y(static_cast<size_t>(m * n));
  for (auto _ : state) {
    cuda::zipgemm(c, x.data(), n, y.data(), GemmOptions{1});
    benchmark::DoNotOptimize(y.data());
  }
  report(state);
}

void Decode(benchmark::State& state, int64_t m, int64_t k, int workers) {
  const auto w = gaussian(m * k, 0.02f, 3);
  const CompressedMatrix c = encode(w.data(), m, k);
  const cuda::BackendScope scope(simulator(workers));
  for (auto _ : state) benchmark::DoNotOptimize(cuda::decode(c));
  state.SetBytesProcessed(state.iterations() * m * k * 2);
  report(state);
}

const bool registered = [] {
  for (int workers : {1, 2}) {
    for (int64_t n : {1, 32}) {
      const std::string name = "Sim/zipgemm/1024x1024/N:" + std::to_string(n) + "/workers:" + std::to_string(workers);
      benchmark::RegisterBenchmark(name.c_str(), ZipGemm, 1024, 1024, n, workers, MmaNumerics::ieee_sequential)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
    const std::string sm90 = "Sim/zipgemm-sm90/1024x1024/N:32/workers:" + std::to_string(workers);
    benchmark::RegisterBenchmark(sm90.c_str(), ZipGemm, 1024, 1024, 32, workers, MmaNumerics::sm90)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    const std::string dec = "Sim/decode/1024x1024/workers:" + std::to_string(workers);
    benchmark::RegisterBenchmark(dec.c_str(), Decode, 1024, 1024, workers)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
