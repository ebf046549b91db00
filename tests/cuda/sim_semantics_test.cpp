// cuda-sim itself (label `cuda`): each semantic the simulator claims is exercised by a small
// kernel written here, and each problem it claims to catch is provoked and must be reported
// with its kind, the threads and the source lines (taken with __LINE__ beside the statement).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/cuda/primitives.h"
#include "zipserv/cuda/sim/simulator.h"
#include "zipserv/reference/fragment_layout.h"

namespace zipserv::cuda {
namespace {

namespace dev = zipserv::cuda::dev;

sim::Options reporting(uint64_t seed = 7) {
  sim::Options o;
  o.seed = seed;
  o.throw_on_hazard = false;
  o.workers = 1;
  return o;
}

// Host memory registered as device memory for the lifetime of the object.
template <typename T>
struct Registered {
  explicit Registered(size_t n, T fill = T{}) : v(n, fill) { sim::register_global(v.data(), n * sizeof(T)); }
  ~Registered() { sim::unregister_global(v.data()); }
  std::vector<T> v;
};

const sim::Hazard* find(const sim::LaunchStats& s, sim::HazardKind kind) {
  for (const sim::Hazard& h : s.hazards)
    if (h.kind == kind) return &h;
  return nullptr;
}

std::string all_reports(const sim::LaunchStats& s) {
  std::string text;
  for (const sim::Hazard& h : s.hazards) text += h.paragraph + "\n";
  return text;
}

TEST(SimSemantics, BarrierOrdersSharedMemoryBetweenThreads) {
  Registered<int> out(128, -1);
  const auto stats = sim::launch("rotate", {2, 1, 1}, {128, 1, 1}, 128 * sizeof(int), reporting(), [&] {
    int* s = reinterpret_cast<int*>(dev::dynamic_shared_memory());
    const int t = static_cast<int>(threadIdx.x);
    dev::st_shared(s + t, t * 10 + static_cast<int>(blockIdx.x));
    __syncthreads();
    if (blockIdx.x == 1) dev::st_global(&out.v[t], dev::ld_shared<int>(s + (t + 1) % 128));
  });
  EXPECT_TRUE(stats.hazards.empty()) << all_reports(stats);
  for (int t = 0; t < 128; ++t) EXPECT_EQ(out.v[t], (t + 1) % 128 * 10 + 1) << "thread " << t;
  EXPECT_EQ(stats.blocks, 2);
  EXPECT_EQ(stats.threads, 256);
  EXPECT_EQ(stats.barriers, 2);
}

TEST(SimSemantics, MissingBarrierIsAReadAfterWriteRaceWithBothLines) {
  int write_line = 0, read_line = 0;
  const auto stats = sim::launch("racy", {1, 1, 1}, {64, 1, 1}, 64 * sizeof(int), reporting(), [&] {
    int* s = reinterpret_cast<int*>(dev::dynamic_shared_memory());
    const int t = static_cast<int>(threadIdx.x);
    write_line = __LINE__ + 1;
    dev::st_shared(s + t, t);
    read_line = __LINE__ + 1;
    (void)dev::ld_shared<int>(s + (t + 1) % 64);
  });
  const sim::Hazard* h = find(stats, sim::HazardKind::shared_race);
  ASSERT_NE(h, nullptr) << all_reports(stats);
  // Whichever thread ran second saw the other's access: one side is the write, the other the read.
  const bool read_found_write = static_cast<int>(h->where.line()) == read_line;
  EXPECT_EQ(static_cast<int>((read_found_write ? h->other_where : h->where).line()), write_line);
  EXPECT_EQ(static_cast<int>((read_found_write ? h->where : h->other_where).line()), read_line);
  EXPECT_NE(h->thread, h->other_thread);
  EXPECT_NE(h->paragraph.find("sim_semantics_test.cpp:" + std::to_string(read_line)), std::string::npos) << h->paragraph;
  EXPECT_NE(h->paragraph.find("Seed 7"), std::string::npos) << h->paragraph;
}

TEST(SimSemantics, WriteAfterReadInOneIntervalIsARace) {
  const auto stats = sim::launch("war", {1, 1, 1}, {64, 1, 1}, 64 * sizeof(int), reporting(), [&] {
    int* s = reinterpret_cast<int*>(dev::dynamic_shared_memory());
    const int t = static_cast<int>(threadIdx.x);
    dev::st_shared(s + t, t);
    __syncthreads();
    const int v = dev::ld_shared<int>(s + (t + 1) % 64);
    dev::st_shared(s + t, v);  // thread t - 1 reads s[t] in this same interval
  });
  const sim::Hazard* h = find(stats, sim::HazardKind::shared_race);
  ASSERT_NE(h, nullptr) << all_reports(stats);
  EXPECT_NE(h->paragraph.find("write after read"), std::string::npos) << h->paragraph;
}

TEST(SimSemantics, DivergentBarriersAreReportedWithBothSites) {
  int line_a = 0, line_b = 0;
  const auto stats = sim::launch("divergent", {1, 1, 1}, {128, 1, 1}, 0, reporting(), [&] {
    if (threadIdx.x < 64) {
      line_a = __LINE__ + 1;
      __syncthreads();
    } else {
      line_b = __LINE__ + 1;
      __syncthreads();
    }
  });
  const sim::Hazard* h = find(stats, sim::HazardKind::divergent_barrier);
  ASSERT_NE(h, nullptr) << all_reports(stats);
  const int a = static_cast<int>(h->where.line()), b = static_cast<int>(h->other_where.line());
  EXPECT_TRUE((a == line_a && b == line_b) || (a == line_b && b == line_a)) << h->paragraph;
}

TEST(SimSemantics, AThreadExitingBeforeABarrierIsReported) {
  int barrier_line = 0;
  const auto stats = sim::launch("early_exit", {1, 1, 1}, {64, 1, 1}, 0, reporting(), [&] {
    if (threadIdx.x == 5) return;
    barrier_line = __LINE__ + 1;
    __syncthreads();
  });
  const sim::Hazard* h = find(stats, sim::HazardKind::exit_before_barrier);
  ASSERT_NE(h, nullptr) << all_reports(stats);
  EXPECT_EQ(static_cast<int>(h->where.line()), barrier_line);
  EXPECT_EQ(h->other_thread, 5);
}

TEST(SimSemantics, HazardErrorCarriesTheParagraphs) {
  sim::Options o = reporting();
  o.throw_on_hazard = true;
  try {
    sim::launch("early_exit", {1, 1, 1}, {64, 1, 1}, 0, o, [&] {
      if (threadIdx.x == 0) return;
      __syncthreads();
    });
    FAIL() << "no HazardError";
  } catch (const sim::HazardError& e) {
    EXPECT_NE(std::string(e.what()).find("exit_before_barrier"), std::string::npos) << e.what();
    EXPECT_EQ(e.stats().hazards.size(), 1u);
  }
}

// One warp's mma.sync against the tile product computed here from plain A and B tiles; the lanes'
// registers are filled through fragment_layout.h and gathered by the simulator through its own
// transcription of the PTX tables, so the two readings of the ISA must agree.
TEST(SimSemantics, MmaIsAWarpCollectiveThatMultipliesTheTiles) {
  uint16_t A[16][16], B[16][8];
  float C[16][8];
  for (int r = 0; r < 16; ++r)
    for (int k = 0; k < 16; ++k) A[r][k] = float_to_bf16_rne(static_cast<float>((r * 3 + k * 7) % 9 - 4));
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n) B[k][n] = float_to_bf16_rne(static_cast<float>((k * 5 + n * 3) % 7 - 3));
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n) C[r][n] = static_cast<float>(r - n);
  Registered<float> out(32 * 4, -1.0f);
  const auto stats = sim::launch("one_mma", {1, 1, 1}, {32, 1, 1}, 0, reporting(), [&] {
    const int lane = static_cast<int>(threadIdx.x);
    uint32_t a[4], b[2];
    float c[4];
    for (int reg = 0; reg < 4; ++reg) {
      const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
      a[reg] = A[lo.row][lo.col] | uint32_t{A[hi.row][hi.col]} << 16;
    }
    for (int reg = 0; reg < 2; ++reg) {
      const FragCoord lo = b_frag_coord(lane, reg, 0), hi = b_frag_coord(lane, reg, 1);
      b[reg] = B[lo.row][lo.col] | uint32_t{B[hi.row][hi.col]} << 16;
    }
    for (int v = 0; v < 4; ++v) {
      const FragCoord mn = c_frag_coord(lane, v);
      c[v] = C[mn.row][mn.col];
    }
    dev::mma_m16n8k16_bf16_f32(c, a, b);
    for (int v = 0; v < 4; ++v) dev::st_global(&out.v[lane * 4 + v], c[v]);
  });
  ASSERT_TRUE(stats.hazards.empty()) << all_reports(stats);
  EXPECT_EQ(stats.mma, 1);
  for (int lane = 0; lane < 32; ++lane)
    for (int v = 0; v < 4; ++v) {
      const FragCoord mn = c_frag_coord(lane, v);
      float expect = C[mn.row][mn.col];
      for (int k = 0; k < 16; ++k) expect += bf16_to_float(A[mn.row][k]) * bf16_to_float(B[k][mn.col]);
      EXPECT_EQ(out.v[lane * 4 + v], expect) << "lane " << lane << " c" << v;  // small integers: exact
    }
}

TEST(SimSemantics, LanesAtDifferentMmaOrMissingFromItAreReported) {
  const auto split = sim::launch("split_mma", {1, 1, 1}, {32, 1, 1}, 0, reporting(), [&] {
    uint32_t a[4] = {}, b[2] = {};
    float c[4] = {};
    if (threadIdx.x < 16)
      dev::mma_m16n8k16_bf16_f32(c, a, b);
    else
      dev::mma_m16n8k16_bf16_f32(c, a, b);
  });
  EXPECT_NE(find(split, sim::HazardKind::divergent_warp_collective), nullptr) << all_reports(split);
  const auto missing = sim::launch("missing_lanes", {1, 1, 1}, {32, 1, 1}, 0, reporting(), [&] {
    uint32_t a[4] = {}, b[2] = {};
    float c[4] = {};
    if (threadIdx.x != 31) dev::mma_m16n8k16_bf16_f32(c, a, b);
  });
  const sim::Hazard* h = find(missing, sim::HazardKind::divergent_warp_collective);
  ASSERT_NE(h, nullptr) << all_reports(missing);
  EXPECT_EQ(h->other_thread, 31);
  EXPECT_NE(h->paragraph.find("has exited"), std::string::npos) << h->paragraph;
  const auto partial = sim::launch("partial_warp", {1, 1, 1}, {40, 1, 1}, 0, reporting(), [&] {
    uint32_t a[4] = {}, b[2] = {};
    float c[4] = {};
    dev::mma_m16n8k16_bf16_f32(c, a, b);  // the second warp has 8 lanes
  });
  const sim::Hazard* p = find(partial, sim::HazardKind::divergent_warp_collective);
  ASSERT_NE(p, nullptr) << all_reports(partial);
  EXPECT_NE(p->paragraph.find("only 8 threads"), std::string::npos) << p->paragraph;
}

// cp.async data lands at the covering wait_group; before that the destination reads as poison
// and the read is reported. With landing at issue the same kernel is clean.
TEST(SimSemantics, CpAsyncLandsAtTheWaitOrAtIssue) {
  Registered<uint32_t> src(4 * 32);
  for (size_t i = 0; i < src.v.size(); ++i) src.v[i] = static_cast<uint32_t>(i * 2654435761u);
  Registered<uint32_t> early(32), late(32);
  int read_line = 0;
  auto body = [&] {
    unsigned char* s = dev::dynamic_shared_memory();
    const int t = static_cast<int>(threadIdx.x);
    dev::cp_async_16(s + 16 * t, &src.v[4 * t], 16);
    dev::cp_async_commit();
    read_line = __LINE__ + 1;
    dev::st_global(&early.v[t], dev::ld_shared<uint32_t>(s + 16 * t));
    dev::cp_async_wait_group<0>();
    dev::st_global(&late.v[t], dev::ld_shared<uint32_t>(s + 16 * t));
  };
  const auto strict = sim::launch("cp_async", {1, 1, 1}, {32, 1, 1}, 512, reporting(), body);
  const sim::Hazard* h = find(strict, sim::HazardKind::cp_async_not_landed);
  ASSERT_NE(h, nullptr) << all_reports(strict);
  EXPECT_EQ(static_cast<int>(h->where.line()), read_line);
  EXPECT_EQ(h->occurrences, 32);
  for (int t = 0; t < 32; ++t) {
    EXPECT_EQ(early.v[t], 0xFFFFFFFFu) << "before the wait the bytes are poison";
    EXPECT_EQ(late.v[t], src.v[4 * t]) << "after the wait they are the source's";
  }
  sim::Options at_issue = reporting();
  at_issue.landing = sim::CpAsyncLanding::at_issue;
  const auto relaxed = sim::launch("cp_async", {1, 1, 1}, {32, 1, 1}, 512, at_issue, body);
  EXPECT_TRUE(relaxed.hazards.empty()) << all_reports(relaxed);
  for (int t = 0; t < 32; ++t) EXPECT_EQ(early.v[t], src.v[4 * t]);
}

TEST(SimSemantics, CpAsyncZeroFillsAndChecksItsAddresses) {
  Registered<uint8_t> src(64, 0x11);
  Registered<uint8_t> out(16);
  const auto zero_fill = sim::launch("zero_fill", {1, 1, 1}, {1, 1, 1}, 32, reporting(), [&] {
    unsigned char* s = dev::dynamic_shared_memory();
    dev::cp_async_16(s, src.v.data(), 0);  // reads nothing, writes 16 zeros
    dev::cp_async_commit();
    dev::cp_async_wait_group<0>();
    for (int i = 0; i < 16; ++i) dev::st_global(&out.v[i], dev::ld_shared<uint8_t>(s + i));
  });
  EXPECT_TRUE(zero_fill.hazards.empty()) << all_reports(zero_fill);
  EXPECT_EQ(out.v, std::vector<uint8_t>(16, 0));

  std::vector<uint8_t> unregistered(64, 0x22);
  const auto bad = sim::launch("bad_cp_async", {1, 1, 1}, {3, 1, 1}, 64, reporting(), [&] {
    unsigned char* s = dev::dynamic_shared_memory();
    if (threadIdx.x == 0) dev::cp_async_16(s, unregistered.data(), 16);   // source not device memory
    if (threadIdx.x == 1) dev::cp_async_16(s + 8, src.v.data(), 16);      // destination not 16-B aligned
    if (threadIdx.x == 2) dev::cp_async_16(s + 64, src.v.data(), 16);     // destination past shared memory
    dev::cp_async_commit();
    dev::cp_async_wait_group<0>();
  });
  const sim::Hazard* h = find(bad, sim::HazardKind::cp_async_bad_address);
  ASSERT_NE(h, nullptr) << all_reports(bad);
  int count = 0;
  for (const sim::Hazard& x : bad.hazards) count += x.kind == sim::HazardKind::cp_async_bad_address;
  EXPECT_EQ(count, 3) << all_reports(bad);
}

TEST(SimSemantics, CopiesNeverWaitedForAreReportedAtExit) {
  Registered<uint8_t> src(16, 1);
  int issue_line = 0;
  const auto stats = sim::launch("no_wait", {1, 1, 1}, {1, 1, 1}, 16, reporting(), [&] {
    issue_line = __LINE__ + 1;
    dev::cp_async_16(dev::dynamic_shared_memory(), src.v.data(), 16);
    dev::cp_async_commit();
  });
  const sim::Hazard* h = find(stats, sim::HazardKind::cp_async_pending_at_exit);
  ASSERT_NE(h, nullptr) << all_reports(stats);
  EXPECT_EQ(static_cast<int>(h->where.line()), issue_line);
  // An empty group left pending is not a problem: the kernels commit one at the end of a loop.
  const auto empty = sim::launch("empty_group", {1, 1, 1}, {1, 1, 1}, 16, reporting(), [&] { dev::cp_async_commit(); });
  EXPECT_TRUE(empty.hazards.empty()) << all_reports(empty);
}

TEST(SimSemantics, OutOfBoundsAccessesAreReportedAndStopTheBlock) {
  Registered<int> a(8);
  const auto global = sim::launch("global_oob", {1, 1, 1}, {1, 1, 1}, 0, reporting(), [&] {
    (void)dev::ld_global(a.v.data() + 8);  // one past the allocation
  });
  EXPECT_NE(find(global, sim::HazardKind::global_out_of_bounds), nullptr) << all_reports(global);
  const auto shared = sim::launch("shared_oob", {1, 1, 1}, {1, 1, 1}, 64, reporting(), [&] {
    (void)dev::ld_shared<uint64_t>(dev::dynamic_shared_memory() + 60);  // 4 bytes past the end
  });
  EXPECT_NE(find(shared, sim::HazardKind::shared_out_of_bounds), nullptr) << all_reports(shared);
  const auto thrown = sim::launch("throws", {1, 1, 1}, {32, 1, 1}, 0, reporting(), [&] {
    if (threadIdx.x == 3) dev::fail("segment exceeds the stage");
  });
  const sim::Hazard* h = find(thrown, sim::HazardKind::kernel_exception);
  ASSERT_NE(h, nullptr) << all_reports(thrown);
  EXPECT_NE(h->paragraph.find("segment exceeds the stage"), std::string::npos) << h->paragraph;
}

// The seed decides the order warps run in: a racy kernel's outcome can change with the seed, and
// the same seed gives the same outcome (a reported hazard can be replayed).
TEST(SimSemantics, TheSeedShufflesWarpsAndReproducesARun) {
  Registered<int> out(1);
  auto first_writer = [&](uint64_t seed) {
    sim::launch("first_warp", {1, 1, 1}, {256, 1, 1}, sizeof(int), reporting(seed), [&] {
      int* s = reinterpret_cast<int*>(dev::dynamic_shared_memory());
      if (threadIdx.x % 32 == 0 && dev::ld_shared<int>(s) == -1) dev::st_shared(s, static_cast<int>(threadIdx.x / 32));
      __syncthreads();
      if (threadIdx.x == 0) dev::st_global(out.v.data(), dev::ld_shared<int>(s));
    });
    return out.v[0];
  };
  std::vector<int> seen;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    const int w = first_writer(seed);
    EXPECT_EQ(first_writer(seed), w) << "seed " << seed << " did not reproduce its run";
    seen.push_back(w);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_GT(std::unique(seen.begin(), seen.end()) - seen.begin(), 2) << "16 seeds ran the warps in too few orders";
}

TEST(SimSemantics, BlocksSpreadOverWorkersGiveTheSameResult) {
  Registered<int> out(64 * 128);
  for (int workers : {1, 2, 3}) {
    sim::Options o = reporting();
    o.workers = workers;
    const auto stats = sim::launch("sum", {64, 1, 1}, {128, 1, 1}, 128 * sizeof(int), o, [&] {
      int* s = reinterpret_cast<int*>(dev::dynamic_shared_memory());
      const int t = static_cast<int>(threadIdx.x);
      dev::st_shared(s + t, t + static_cast<int>(blockIdx.x));
      __syncthreads();
      dev::st_global(&out.v[blockIdx.x * 128 + t], dev::ld_shared<int>(s + 127 - t));
    });
    ASSERT_TRUE(stats.hazards.empty()) << all_reports(stats);
    for (int b = 0; b < 64; ++b)
      for (int t = 0; t < 128; ++t) ASSERT_EQ(out.v[b * 128 + t], 127 - t + b) << "workers " << workers;
  }
}

}  // namespace
}  // namespace zipserv::cuda
