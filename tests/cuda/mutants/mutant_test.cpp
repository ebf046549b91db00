// One mutant of the kernel source (see CMakeLists.txt: its name, file, line and the breakage),
// run on cuda-sim through the fused kernel's trace build. The test passes only when the breakage
// is caught: as the hazard kind it must cause, between the accesses it must put in conflict, or,
// for a wrong value, as the first wrong lane register the lane-fragment comparison names.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../cuda_test_inputs.h"
#include "kernel_launcher.h"
#include "zipgemm_kernel.cuh"  // the mutant's copy, or the original when the mutant is in another file
#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/device_matrix.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"

namespace zipserv::cuda {
namespace {

enum Expect {
  kUnsynchronizedRead,
  kIssueOverReaders,
  kReadBeforeLanding,
  kIssueOverInFlight,
  kWrongRegister,
  kStrayStreamRead,
};

struct MutantRun {
  sim::LaunchStats stats;
  std::vector<uint32_t> trace;
  CompressedMatrix m;
};

// The trace build of the (mutated) fused kernel, TILE_N 8, one split, on a 128 x 256 matrix:
// four K steps, so the pipeline issues into both stages twice and prefetches bounds two ahead.
MutantRun run_mutant() {
  const int64_t rows = 128, cols = 256, n = 1;
  const auto w = test::gaussian_values(rows * cols, 0.02, 5);
  const auto x = test::gaussian_values(n * cols, 1.0, 6);
  sim::Options o;
  o.throw_on_hazard = false;
  o.seed = 3;
  const BackendScope scope(Backend::cuda_sim(o));
  MutantRun r{{}, {}, encode(w.data(), rows, cols)};
  const DeviceCompressedMatrix dw = DeviceCompressedMatrix::upload(r.m);
  DeviceAllocation xd(x.size() * 2), yd(rows * n * 2), trace(static_cast<size_t>(lane_fragment_count(r.m)) * 4);
  copy_to_device(xd.get(), x.data(), x.size() * 2);
  fill_device(trace.get(), 0xFF, trace.bytes());
  FusedGemmParams p{};
  p.w = dw.view();
  p.m = rows;
  p.k = cols;
  p.n = n;
  p.block_rows = rows / kTileM;
  p.block_cols = cols / kTileK;
  p.x = static_cast<const uint16_t*>(xd.get());
  p.x_rows_16b_aligned = true;
  p.y = static_cast<uint16_t*>(yd.get());
  p.split_k = 1;
  p.trace = static_cast<uint32_t*>(trace.get());
  p.smem = compressed_gemm_layout(8, p.w.max_hf, p.w.max_full);
  detail::ZIPSERV_CUDA_TARGET::launch_kernel("zipgemm_kernel (mutant " ZIPSERV_MUTANT_NAME ")",
                                             zipgemm_kernel<8, WeightFormat::kCompressed, true, false>,
                                             gemm_grid(rows, n, 1), kThreadsPerBlock,
                                             static_cast<size_t>(p.smem.total_bytes), nullptr, p);
  r.stats = sim::last_launch_stats();
  r.trace.resize(static_cast<size_t>(lane_fragment_count(r.m)));
  copy_to_host(r.trace.data(), trace.get(), trace.bytes());
  return r;
}

bool in_file(const std::source_location& at, const char* name) {
  return at.line() != 0 && std::string(at.file_name()).find(name) != std::string::npos;
}
bool is_fragment_read(const std::source_location& at) {
  return in_file(at, "fragment_loads.h") || in_file(at, "fragment_decode.h");
}
bool is_staging(const std::source_location& at) { return in_file(at, "block_tile_staging.h"); }

std::string reports(const sim::LaunchStats& s) {
  std::string text = "mutant " ZIPSERV_MUTANT_NAME " (" ZIPSERV_MUTANT_FILE ":" + std::to_string(ZIPSERV_MUTANT_LINE) + "):";
  for (const sim::Hazard& h : s.hazards) text += "\n" + h.paragraph;
  return text;
}

// A hazard of one of `kinds` between a fragment read and a staging copy; `read_side_first`: the
// thread that reported it was the reader (else the issuer).
bool has_conflict(const sim::LaunchStats& s, std::initializer_list<sim::HazardKind> kinds, bool read_side_first) {
  for (const sim::Hazard& h : s.hazards) {
    bool kind_ok = false;
    for (sim::HazardKind k : kinds) kind_ok = kind_ok || h.kind == k;
    if (!kind_ok) continue;
    if (read_side_first ? is_fragment_read(h.where) && is_staging(h.other_where)
                        : is_staging(h.where) && (is_fragment_read(h.other_where) || is_staging(h.other_where)))
      return true;
  }
  return false;
}

TEST(KernelMutant, IsCaught) {
  const MutantRun r = run_mutant();
  std::printf("%s\n", reports(r.stats).c_str());  // what a user of the simulator would read
  using K = sim::HazardKind;
  switch (ZIPSERV_MUTANT_EXPECT) {
    case kUnsynchronizedRead:  // a decode reads bytes another thread's cp.async wrote, no barrier between
      EXPECT_TRUE(has_conflict(r.stats, {K::shared_race, K::cp_async_not_landed}, true)) << reports(r.stats);
      break;
    case kIssueOverReaders:  // the next issue writes a stage other threads still read
      EXPECT_TRUE(has_conflict(r.stats, {K::shared_race}, false) ||
                  has_conflict(r.stats, {K::shared_race, K::cp_async_not_landed}, true))
          << reports(r.stats);
      break;
    case kReadBeforeLanding:  // the decode reads a stage whose copies were never waited for
      EXPECT_TRUE(has_conflict(r.stats, {K::cp_async_not_landed}, true)) << reports(r.stats);
      break;
    case kIssueOverInFlight:  // a copy is issued over bytes whose copy is still in flight or being read
      EXPECT_TRUE(has_conflict(r.stats, {K::cp_async_not_landed, K::shared_race}, false)) << reports(r.stats);
      break;
    case kStrayStreamRead: {  // a stream index past the block tile's segment reads what no copy wrote there
      bool caught = false;
      for (const sim::Hazard& h : r.stats.hazards)
        caught = caught || (in_file(h.where, "fragment_decode.h") &&
                            (h.kind == K::shared_out_of_bounds || h.kind == K::cp_async_not_landed ||
                             h.kind == K::shared_race));
      EXPECT_TRUE(caught) << reports(r.stats);
      break;
    }
    case kWrongRegister: {  // no hazard: a value is wrong, and the comparison names the first one
      EXPECT_TRUE(r.stats.hazards.empty()) << reports(r.stats);
      const std::vector<uint32_t> expect = lane_fragments(r.m);
      ASSERT_EQ(r.trace.size(), expect.size());
      size_t first = 0;
      while (first < expect.size() && r.trace[first] == expect[first]) ++first;
      ASSERT_LT(first, expect.size()) << "mutant " ZIPSERV_MUTANT_NAME " was not caught: every register matches";
      // lane_fragment_index: (((block_tile * 4 + strip) * 4 + slice) * 32 + lane) * 4 + reg.
      const size_t reg = first % 4, lane = first / 4 % 32, slice = first / 128 % 4, strip = first / 512 % 4,
                   block_tile = first / 2048;
      // A wrong FragTile index (a_i reads FragTile i ^ 1) is wrong from the first register on.
      const size_t expect_reg = 0;
      EXPECT_EQ(block_tile, 0u);
      EXPECT_EQ(strip, 0u);
      EXPECT_EQ(slice, 0u);
      EXPECT_EQ(reg, expect_reg) << "first wrong register: lane " << lane;
      break;
    }
  }
}

}  // namespace
}  // namespace zipserv::cuda
