// Benchmarks of the SIMD CPU emulation. Every figure of docs/results/emulation.md comes from one
// run of this program, so the ratios are measured side by side on the same (shared, noisy)
// machine. Each emulation benchmark is registered once per Highway target this CPU supports
// (hwy::SetSupportedTargetsForTest restricts dynamic dispatch to that one target while it runs)
// and carries the target's name as its label, so one run gives the table of every target:
//
//   Decode/...          BF16 produced per second: reference decode vs SIMD emulation
//                       (1 thread and all threads), 4096 x 4096 Gaussian weights
//   Gemm/<engine>/MxK/N:<n>/threads:<t>    (label: the Highway target)
//       zipgemm         fused: decodes one block tile at a time, straight from the compressed bytes
//       gemm_dense      the same Highway code reading uncompressed BF16 weights
//       eigen_fp32      Eigen's FP32 GEMM on the decoded weights converted to FP32 (single
//                       thread, its own SIMD from -march=native; one row, not per target)
//     bytes_per_second counts the weight bytes each variant reads (compressed or BF16 or FP32).
//       256x1024 (N = 1, one thread): weights that stay in L2, the compute cost alone
//   Bandwidth/read/256MiB/threads:<t>
//                       the read bandwidth of the machine (read_bandwidth.h): the speed of light
//                       each GEMV row is stated against
//
//   Validate/MxK        zipserv::validate() alone: the check a server runs once per weight at
//                       load (emu::ValidatedWeights); not in the zipgemm figures, which time the
//                       per-token multiply, as the GPU figures exclude the validated upload
//
// The HWY_SCALAR target decodes (Decode rows) but is left out of the GEMM rows: one scalar
// 4096 x 14336 GEMM takes seconds, and no CPU that runs this code lacks SSSE3.
//
// Timers: wall time ("Time") and the CPU time of all the process's threads ("CPU"). On a shared,
// oversubscribed machine the wall time includes waiting for a core; the CPU time is the work.
//
// Weights: Gaussian, sigma = 0.02, rounded to BF16 (the distribution of trained LLM weights).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/decode.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"

#include "hwy/targets.h"
#include "read_bandwidth.h"

namespace {

// The label of the Eigen rows: the SIMD Eigen was compiled for (-march=native).
#if defined(EIGEN_VECTORIZE_AVX512)
#define ZIPSERV_EIGEN_SIMD_LABEL "Eigen AVX-512"
#elif defined(EIGEN_VECTORIZE_AVX2)
#define ZIPSERV_EIGEN_SIMD_LABEL "Eigen AVX2+FMA"
#elif defined(EIGEN_VECTORIZE_AVX)
#define ZIPSERV_EIGEN_SIMD_LABEL "Eigen AVX"
#else
#define ZIPSERV_EIGEN_SIMD_LABEL "Eigen SSE"
#endif

using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// One weight matrix in every form the benchmarks read, built once per shape.
struct Workload {
  int64_t m = 0, k = 0;
  std::vector<uint16_t> dense;    // (M, K) bf16
  zipserv::CompressedMatrix compressed;
  RowMajorF as_float;             // (M, K) f32, built on first use
};

Workload& workload(int64_t m, int64_t k) {
  static std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Workload>> cache;
  auto& slot = cache[{m, k}];
  if (!slot) {
    slot = std::make_unique<Workload>();
    slot->m = m;
    slot->k = k;
    std::mt19937 rng(static_cast<uint32_t>(m * 31 + k));
    std::normal_distribution<float> dist(0.0f, 0.02f);
    slot->dense.resize(static_cast<size_t>(m * k));
    for (uint16_t& v : slot->dense) v = zipserv::float_to_bf16_rne(dist(rng));
    slot->compressed = zipserv::encode(slot->dense.data(), m, k);
  }
  return *slot;
}

// Restricts Highway's dynamic dispatch to one target while a benchmark runs.
class OnlyTarget {
 public:
  explicit OnlyTarget(int64_t target) { hwy::SetSupportedTargetsForTest(target); }
  ~OnlyTarget() { hwy::SetSupportedTargetsForTest(0); }  // 0: back to what the CPU supports
  OnlyTarget(const OnlyTarget&) = delete;
  OnlyTarget& operator=(const OnlyTarget&) = delete;
};

std::vector<uint16_t> activations(int64_t n, int64_t k) {
  std::mt19937 rng(static_cast<uint32_t>(n + k));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<uint16_t> x(static_cast<size_t>(n * k));  // (N, K) bf16
  for (uint16_t& v : x) v = zipserv::float_to_bf16_rne(dist(rng));
  return x;
}

void decode_reference(benchmark::State& state, int64_t m, int64_t k) {
  Workload& w = workload(m, k);
  std::vector<uint16_t> out(w.dense.size());
  for (auto _ : state) {
    zipserv::decode_into(w.compressed, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * m * k * 2);
}

void decode_emulation(benchmark::State& state, int64_t target, int64_t m, int64_t k, int threads) {
  Workload& w = workload(m, k);
  const OnlyTarget only(target);
  std::vector<uint16_t> out(w.dense.size());
  for (auto _ : state) {
    zipserv::emu::decode_into(w.compressed, out.data(), {.threads = threads});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * m * k * 2);
  state.SetLabel(zipserv::emu::active_target());
}

void gemm_zipgemm(benchmark::State& state, int64_t target, int64_t m, int64_t k, int64_t n, int threads) {
  Workload& w = workload(m, k);
  const OnlyTarget only(target);
  const std::vector<uint16_t> x = activations(n, k);
  std::vector<uint16_t> y(static_cast<size_t>(m * n));
  const zipserv::emu::ValidatedWeights weights(w.compressed);  // once, as a server does at load
  for (auto _ : state) {
    zipserv::emu::zipgemm(weights, x.data(), n, y.data(), {.split_k = 1, .threads = threads});
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * w.compressed.payload_bytes());
  state.counters["bits_per_weight"] = w.compressed.bits_per_weight();
  state.SetLabel(zipserv::emu::active_target());
}

void validate_only(benchmark::State& state, int64_t m, int64_t k) {
  Workload& w = workload(m, k);
  for (auto _ : state) {
    zipserv::validate(w.compressed);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * w.compressed.payload_bytes());
}

void gemm_dense(benchmark::State& state, int64_t target, int64_t m, int64_t k, int64_t n, int threads) {
  Workload& w = workload(m, k);
  const OnlyTarget only(target);
  const std::vector<uint16_t> x = activations(n, k);
  std::vector<uint16_t> y(static_cast<size_t>(m * n));
  for (auto _ : state) {
    zipserv::emu::gemm_dense(w.dense.data(), m, k, x.data(), n, y.data(), {.threads = threads});
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * m * k * 2);
  state.SetLabel(zipserv::emu::active_target());
}

// Eigen computes in FP32 throughout: FP32 weights (exact copies of the BF16 values), FP32
// accumulation in its own blocked order with FMA, FP32 output (no BF16 rounding). Without
// OpenMP it runs on one thread.
void gemm_eigen(benchmark::State& state, int64_t m, int64_t k, int64_t n) {
  Workload& w = workload(m, k);
  if (w.as_float.size() == 0) {
    const std::vector<uint16_t> decoded = zipserv::emu::decode(w.compressed);
    w.as_float.resize(m, k);
    for (int64_t i = 0; i < m * k; ++i) w.as_float.data()[i] = zipserv::bf16_to_float(decoded[i]);
  }
  const std::vector<uint16_t> x = activations(n, k);
  Eigen::MatrixXf xt(k, n);  // (K, N) f32, column-major: X's rows are its columns
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < k; ++i) xt(i, j) = zipserv::bf16_to_float(x[j * k + i]);
  Eigen::MatrixXf y(m, n);  // (M, N) f32, column-major like zipgemm's Y
  for (auto _ : state) {
    y.noalias() = w.as_float * xt;
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * m * k * 4);
  state.SetLabel(ZIPSERV_EIGEN_SIMD_LABEL);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const int all = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> thread_counts{1};
  if (all > 1) thread_counts.push_back(all);
  // Every target this CPU supports among those the library was compiled for (same Highway
  // definitions as the library: ZIPSERV_EMULATION_HWY_DEFINITIONS), best first.
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  const auto with_unit = [](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();
  };
  zipserv::bench::register_read_bandwidth(all);
  with_unit(benchmark::RegisterBenchmark("Decode/reference/4096x4096/threads:1", decode_reference, 4096, 4096));
  for (int threads : thread_counts)
    for (int64_t target : targets)
      with_unit(benchmark::RegisterBenchmark(("Decode/emulation/4096x4096/threads:" + std::to_string(threads)).c_str(),
                                             decode_emulation, target, 4096, 4096, threads));
  const std::pair<int64_t, int64_t> shapes[] = {{4096, 4096}, {4096, 14336}};
  for (const auto& [m, k] : shapes)
    with_unit(benchmark::RegisterBenchmark(("Validate/" + std::to_string(m) + "x" + std::to_string(k)).c_str(),
                                           validate_only, m, k));
  // Side by side: for each shape, N and thread count, every target's zipgemm and gemm_dense
  // are registered next to each other (and run next to each other).
  for (const auto& [m, k] : shapes)
    for (int64_t n : {1, 8, 32}) {
      const std::string shape = std::to_string(m) + "x" + std::to_string(k) + "/N:" + std::to_string(n);
      with_unit(benchmark::RegisterBenchmark(("Gemm/eigen_fp32/" + shape + "/threads:1").c_str(), gemm_eigen, m, k, n));
      for (int threads : thread_counts) {
        const std::string t = "/threads:" + std::to_string(threads);
        for (int64_t target : targets) {
          if (target == HWY_SCALAR) continue;  // see the file comment
          with_unit(benchmark::RegisterBenchmark(("Gemm/zipgemm/" + shape + t).c_str(), gemm_zipgemm, target, m, k, n,
                                                 threads));
          with_unit(benchmark::RegisterBenchmark(("Gemm/gemm_dense/" + shape + t).c_str(), gemm_dense, target, m, k, n,
                                                 threads));
        }
      }
    }
  // A GEMV whose weights stay in the L2 cache (256 x 1024: 512 KiB of BF16, 370 KB compressed):
  // the compute cost of each path without the memory stream.
  for (int64_t target : targets) {
    if (target == HWY_SCALAR) continue;
    with_unit(benchmark::RegisterBenchmark("Gemm/zipgemm/256x1024/N:1/threads:1", gemm_zipgemm, target, 256, 1024, 1, 1));
    with_unit(benchmark::RegisterBenchmark("Gemm/gemm_dense/256x1024/N:1/threads:1", gemm_dense, target, 256, 1024, 1, 1));
  }
  with_unit(benchmark::RegisterBenchmark("Gemm/eigen_fp32/256x1024/N:1/threads:1", gemm_eigen, 256, 1024, 1));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
