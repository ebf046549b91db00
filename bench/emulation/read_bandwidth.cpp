// Read-bandwidth benchmark (see read_bandwidth.h).
#include "read_bandwidth.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "hwy/highway.h"

namespace zipserv::bench {
namespace {
namespace hn = hwy::HWY_NAMESPACE;  // static dispatch: the target this file is compiled for (-march=native)

// returns the XOR of words [begin, end): 4 independent vector accumulators, so the loop is bound
// by the loads, not by the XOR latency. `end - begin` is a multiple of 4 vectors.
uint64_t xor_words(const uint64_t* HWY_RESTRICT begin, const uint64_t* HWY_RESTRICT end) {
  const hn::ScalableTag<uint64_t> d;
  const size_t n = hn::Lanes(d);
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  for (const uint64_t* p = begin; p < end; p += 4 * n) {
    a0 = hn::Xor(a0, hn::Load(d, p));
    a1 = hn::Xor(a1, hn::Load(d, p + n));
    a2 = hn::Xor(a2, hn::Load(d, p + 2 * n));
    a3 = hn::Xor(a3, hn::Load(d, p + 3 * n));
  }
  const auto all = hn::Xor(hn::Xor(a0, a1), hn::Xor(a2, a3));
  alignas(64) uint64_t lanes[64];
  hn::Store(all, d, lanes);
  uint64_t r = 0;
  for (size_t i = 0; i < n; ++i) r ^= lanes[i];
  return r;
}

void read_bandwidth(benchmark::State& state, int threads) {
  static const hwy::AlignedFreeUniquePtr<uint64_t[]> buffer = [] {
    auto b = hwy::AllocateAligned<uint64_t>(static_cast<size_t>(kReadBandwidthBytes / 8));
    std::memset(b.get(), 0x5A, static_cast<size_t>(kReadBandwidthBytes));  // touch every page once
    return b;
  }();
  const int64_t words = kReadBandwidthBytes / 8, part = words / threads;  // 256 MiB divides evenly
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
      pool.emplace_back([&, t] { sums[t] = xor_words(buffer.get() + t * part, buffer.get() + (t + 1) * part); });
    sums[0] = xor_words(buffer.get(), buffer.get() + part);
    for (std::thread& th : pool) th.join();
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(state.iterations() * kReadBandwidthBytes);
  state.SetLabel(hwy::TargetName(HWY_TARGET));
}

}  // namespace

void register_read_bandwidth(int all_threads) {
  std::vector<int> counts{1};
  if (all_threads > 1) counts.push_back(all_threads);
  for (int threads : counts)
    benchmark::RegisterBenchmark(("Bandwidth/read/256MiB/threads:" + std::to_string(threads)).c_str(), read_bandwidth,
                                 threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime();
}

}  // namespace zipserv::bench
