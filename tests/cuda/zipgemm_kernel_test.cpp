// Tests of the fused ZipGEMM kernel, each run on the GPU (`/gpu`, labels `cuda;gpu`, skipped
// visibly without a device) and on cuda-sim (`/sim`, every machine): bit-exact against its dense
// twin at every N and split, exact against the reference on small integers, within a stated
// bound on real inputs, guard bands, repeat runs (on cuda-sim with a different warp schedule
// each time), split counts, and a grid taller than 65,535 block rows (GPU only).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_test_inputs.h"
#include "gpu_test_support.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/reference/mma_numerics.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::cuda {
namespace {

class ZipGemm : public test::OnBothBackends {};
ZIPSERV_ON_BOTH_BACKENDS(ZipGemm);

std::string shape_name(int64_t m, int64_t k, int64_t n, int split) {
  return std::to_string(m) + "x" + std::to_string(k) + " n " + std::to_string(n) + " split " + std::to_string(split);
}

// The N values: every N in 1..130 (each TILE_N, full and partial, and two N tiles) plus 256.
std::vector<int64_t> all_ns() {
  std::vector<int64_t> ns;
  for (int64_t n = 1; n <= 130; ++n) ns.push_back(n);
  ns.push_back(256);
  return ns;
}

void expect_twin_exact(const std::vector<uint16_t>& w, int64_t m, int64_t k, const std::vector<uint16_t>& x, int64_t n,
                       int split) {
  const CompressedMatrix c = encode(w.data(), m, k);
  const auto zip = test::zipgemm_result(c, x.data(), n, GemmOptions{split});
  const auto dense = test::gemm_dense_result(w.data(), m, k, x.data(), n, GemmOptions{split});
  ASSERT_EQ(zip.size(), dense.size());
  for (size_t e = 0; e < zip.size(); ++e)
    ASSERT_EQ(zip[e], dense[e]) << shape_name(m, k, n, split) << ": output (m " << e % m << ", n " << e / m << ")";
}

// Lossless means: the fused kernel on compressed W gives exactly what the same kernel structure
// gives on the original W, at every N and every split count.
TEST_P(ZipGemm, EqualsDenseTwinBitForBitEveryNAndSplit) {
  const int64_t m = 200, k = 320;  // K % 8 == 0: X staged with cp.async; K/64 = 5
  const auto w = test::gaussian_values(m * k, 0.02, 1);
  const auto x = test::gaussian_values(256 * k, 1.0, 2);
  for (int64_t n : all_ns())
    for (int split : {1, 2, 5}) expect_twin_exact(w, m, k, x, n, split);
}

TEST_P(ZipGemm, EqualsDenseTwinUnalignedKAndAutomaticSplit) {
  const int64_t m = 172, k = 203;  // K % 8 != 0: X staged element by element, zero beyond K
  const auto w = test::gaussian_values(m * k, 0.02, 3);
  const auto x = test::gaussian_values(256 * k, 1.0, 4);
  for (int64_t n : {1, 8, 9, 16, 17, 33, 64, 65, 128, 130, 256})
    for (int split : {0, 1, 2, 3, 4}) expect_twin_exact(w, m, k, x, n, split);
  // A serving-sized shape on the GPU; on cuda-sim (CPU time) a smaller one with the same splits' reach.
  const int64_t m2 = on_simulator() ? 256 : 1024, k2 = on_simulator() ? 1024 : 4096;
  const auto w2 = test::gaussian_values(m2 * k2, 0.02, 5);
  const auto x2 = test::gaussian_values(128 * k2, 1.0, 6);
  for (int64_t n : {1, 8, 16, 32, 64, 128})
    for (int split : {0, 1, 7, static_cast<int>(k2 / 64)}) expect_twin_exact(w2, m2, k2, x2, n, split);
}

// Small integers make every summation order exact, so the fused kernel, the reference GEMM and
// cuBLAS must agree bit for bit (CUTLASS-style exact testbed).
TEST_P(ZipGemm, ExactOnSmallIntegersAgainstReferenceAndCublas) {
  struct Shape {
    int64_t m, k;
  };
  for (const Shape s : {Shape{1, 1}, Shape{7, 9}, Shape{63, 65}, Shape{64, 64}, Shape{172, 64}, Shape{130, 1000},
                        Shape{16, 4096}}) {
    const auto w = test::small_integer_values(s.m * s.k, 8, 100 + s.m);
    const auto x = test::small_integer_values(130 * s.k, 8, 200 + s.k);
    const CompressedMatrix c = encode(w.data(), s.m, s.k);
    for (int64_t n : {1, 7, 8, 9, 16, 17, 64, 130}) {
      std::vector<uint16_t> ref(static_cast<size_t>(s.m * n));
      zipserv::zipgemm(c, x.data(), n, ref.data());
      for (int split = 1; split <= std::min<int64_t>(c.block_cols(), 8); ++split)
        EXPECT_EQ(test::zipgemm_result(c, x.data(), n, GemmOptions{split}), ref) << shape_name(s.m, s.k, n, split);
      if (!on_simulator()) {  // cuda-sim runs this project's kernels only
        EXPECT_EQ(test::cublas_result(w.data(), s.m, s.k, x.data(), n), ref) << "cuBLAS " << shape_name(s.m, s.k, n, 1);
      }
    }
  }
}

TEST_P(ZipGemm, WithinStatedBoundOnRealInputsEverySplit) {
  const int64_t m = 172, k = on_simulator() ? 1024 : 4096;
  const auto w = test::gaussian_values(m * k, 0.02, 7);
  const auto x = test::gaussian_values(130 * k, 1.0, 8);
  const CompressedMatrix c = encode(w.data(), m, k);
  for (int64_t n : {1, 16, 130}) {
    for (int split : {1, 2, 3, 8, static_cast<int>(k / 64)})  // split-K changes only the order of FP32 additions
      test::expect_within_gemm_bound(w, m, k, x, n, test::zipgemm_result(c, x.data(), n, GemmOptions{split}),
                                     "zipgemm " + shape_name(m, k, n, split));
    if (!on_simulator())
      test::expect_within_gemm_bound(w, m, k, x, n, test::cublas_result(w.data(), m, k, x.data(), n),
                                     "cuBLAS " + shape_name(m, k, n, 1));
  }
}

TEST_P(ZipGemm, GuardBandsAndEveryOutputWritten) {
  const int64_t m = 172, k = 203;
  const auto w = test::gaussian_values(m * k, 0.02, 9);
  const CompressedMatrix c = encode(w.data(), m, k);
  const DeviceCompressedMatrix dw = DeviceCompressedMatrix::upload(c);
  const DeviceDenseMatrix dd = DeviceDenseMatrix::upload(w.data(), m, k);
  for (int64_t n : {1, 9, 130}) {
    const auto x_host = test::gaussian_values(n * k, 1.0, 10 + n);
    test::GuardedBuffer<uint16_t> x(static_cast<size_t>(n * k), 0);
    copy_to_device(x.data(), x_host.data(), x.size_bytes());
    for (int split : {1, 3}) {
      test::GuardedBuffer<uint16_t> y(static_cast<size_t>(m * n));  // poison 0xFFFF = NaN
      test::GuardedBuffer<uint16_t> y_dense(static_cast<size_t>(m * n));
      const size_t ws_bytes = split_k_workspace_bytes(m, n, split);
      test::GuardedBuffer<float> ws(std::max<size_t>(ws_bytes / sizeof(float), 1));
      launch_zipgemm(dw.view(), x.data(), n, y.data(), ws.data(), ws_bytes, split, nullptr);
      const auto got = y.download();
      launch_gemm_dense(dd.view(), x.data(), n, y_dense.data(), ws.data(), ws_bytes, split, nullptr);
      EXPECT_EQ(got, y_dense.download()) << shape_name(m, k, n, split);
      for (size_t e = 0; e < got.size(); ++e)
        ASSERT_NE(got[e], 0xFFFF) << "output (m " << e % m << ", n " << e / m << ") never written, " << shape_name(m, k, n, split);
      EXPECT_TRUE(y.guards_intact()) << shape_name(m, k, n, split);
      EXPECT_TRUE(y_dense.guards_intact()) << shape_name(m, k, n, split);
      EXPECT_TRUE(ws.guards_intact()) << shape_name(m, k, n, split);
      EXPECT_TRUE(x.guards_intact()) << "X was written";
    }
  }
}

// Same inputs, many launches: the same bits every time (a differing run means a race). On
// cuda-sim every run uses another seed, so the warps run in another order each time.
TEST_P(ZipGemm, RepeatedRunsAreBitIdentical) {
  const int64_t m = on_simulator() ? 256 : 1024, k = on_simulator() ? 1024 : 4096, n = 33;
  const int repeats = on_simulator() ? 4 : 20;
  const auto w = test::gaussian_values(m * k, 0.02, 12);
  const auto x_host = test::gaussian_values(n * k, 1.0, 13);
  const DeviceCompressedMatrix dw = DeviceCompressedMatrix::upload(encode(w.data(), m, k));
  DeviceAllocation x = test::upload(x_host);
  for (int split : {1, 4, static_cast<int>(k / 64)}) {
    DeviceAllocation ws(split_k_workspace_bytes(m, n, split));
    test::GuardedBuffer<uint16_t> y(static_cast<size_t>(m * n));
    launch_zipgemm(dw.view(), static_cast<const uint16_t*>(x.get()), n, y.data(), static_cast<float*>(ws.get()),
                   ws.bytes(), split, nullptr);
    const auto first = y.download();
    for (int rep = 0; rep < repeats; ++rep) {
      sim::Options reseeded = current_backend().simulator;
      reseeded.seed = 1000 + static_cast<uint64_t>(rep);
      const BackendScope schedule(on_simulator() ? Backend::cuda_sim(reseeded) : current_backend());
      launch_zipgemm(dw.view(), static_cast<const uint16_t*>(x.get()), n, y.data(), static_cast<float*>(ws.get()),
                     ws.bytes(), split, nullptr);
      ASSERT_EQ(y.download(), first) << "run " << rep << " differs, split " << split;
    }
  }
}

// Windows whose padding element (code 1, byte 0) is +Inf (start_exp 254), 2^127 (253) or +0 (255)
// with K not a multiple of 64: the padding columns meet X = 0, and the kernel must zero them in A
// (zero_a_beyond_k) so that no NaN appears and ZipGEMM still equals its dense twin.
TEST_P(ZipGemm, PaddingColumnsNeverReachTheAccumulators) {
  const int64_t m = 70, k = 130;
  const auto w = test::small_integer_values(m * k, 8, 17);
  const auto x = test::small_integer_values(130 * k, 8, 18);
  for (int start : {254, 253, 255}) {
    const CompressedMatrix c = encode_with_start_exp(w.data(), m, k, static_cast<uint8_t>(start));
    for (int64_t n : {1, 9, 130}) {
      std::vector<uint16_t> ref(static_cast<size_t>(m * n));
      zipserv::gemm_dense(w.data(), m, k, x.data(), n, ref.data());
      for (int split : {1, 2}) {
        EXPECT_EQ(test::zipgemm_result(c, x.data(), n, GemmOptions{split}), ref)
            << "start_exp " << start << " " << shape_name(m, k, n, split);
        EXPECT_EQ(test::gemm_dense_result(w.data(), m, k, x.data(), n, GemmOptions{split}), ref)
            << "dense twin " << shape_name(m, k, n, split);
      }
    }
  }
}

// More than 65,535 block rows: grid.y is capped and blocks loop over the rest (spec F, G).
TEST_P(ZipGemm, LargeGridBeyond65535BlockRows) {
  if (on_simulator()) GTEST_SKIP() << "268 M weights: too large for cuda-sim on a CI machine (the grid-stride loop over "
                                      "block rows is exercised on the GPU instance)";
  const int64_t m = (kMaxGridY + 3) * 64 + 5, k = 64, n = 3;
  const auto w = test::small_integer_values(m * k, 8, 14);
  const auto x = test::small_integer_values(n * k, 8, 15);
  const CompressedMatrix c = encode(w.data(), m, k);
  std::vector<uint16_t> ref(static_cast<size_t>(m * n));
  zipserv::gemm_dense(w.data(), m, k, x.data(), n, ref.data());
  EXPECT_EQ(test::zipgemm_result(c, x.data(), n, GemmOptions{1}), ref);
  EXPECT_EQ(cuda::decode(c), w);
}

TEST_P(ZipGemm, RealFixturesEqualDenseTwinAndStayWithinBound) {
  for (const char* file : {"stories260K.safetensors", "use-lite-en.safetensors"})
    for (const st::Bf16Matrix& t : st::load_bf16_matrices(std::string(ZIPSERV_DATA_DIR) + "/" + file)) {
      // W = the tensor (rows x cols); 5 tokens of Gaussian activations.
      const auto x = test::gaussian_values(5 * t.cols, 1.0, 16);
      for (int split : {0, 1}) expect_twin_exact(t.values, t.rows, t.cols, x, 5, split);
      const CompressedMatrix c = encode(t.values.data(), t.rows, t.cols);
      test::expect_within_gemm_bound(t.values, t.rows, t.cols, x, 5, test::zipgemm_result(c, x.data(), 5),
                                     std::string(file) + ":" + t.name);
    }
}

// A CompressedView whose max_hf understates the matrix (a hand-made view: upload() computes the
// true maxima) would let the staging overrun the next piece of shared memory; the kernel stops
// instead, and cuda-sim names why. (On a GPU the kernel traps, which leaves the CUDA context
// unusable for the rest of the process, so this runs on cuda-sim only.)
TEST_P(ZipGemm, SegmentsLargerThanTheStagedRoomStopTheKernel) {
  if (!on_simulator()) GTEST_SKIP() << "a trapped kernel leaves the CUDA context unusable: runs in the /sim instance";
  const int64_t m = 64, k = 128;
  const auto w = test::gaussian_values(m * k, 0.02, 61);
  const CompressedMatrix c = encode(w.data(), m, k);
  const DeviceCompressedMatrix dw = DeviceCompressedMatrix::upload(c);
  CompressedView understated = dw.view();
  ASSERT_GE(understated.max_hf, 32);
  understated.max_hf -= 16;  // still the form of a padded segment size: the host cannot tell
  DeviceAllocation x(static_cast<size_t>(k) * 2), y(static_cast<size_t>(m) * 2);
  fill_device(x.get(), 0, x.bytes());
  try {
    launch_zipgemm(understated, static_cast<const uint16_t*>(x.get()), 1, static_cast<uint16_t*>(y.get()), nullptr, 0,
                   1, nullptr);
    FAIL() << "the kernel ran past its shared-memory room";
  } catch (const sim::HazardError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the shared-memory room sized from max_hf / max_full"),
              std::string::npos)
        << e.what();
  }
}

// The three-stage cp.async variant changes when bytes arrive, never what the MMAs see or their
// order: bit for bit the double buffer's output, at every N tile, split and K tail.
TEST_P(ZipGemm, ThreeStagePipelineVariantEqualsTheDoubleBuffer) {
  for (const auto& [m, k] : {std::pair<int64_t, int64_t>{200, 320}, {172, 203}, {64, 64}, {130, 1000}}) {
    const auto w = test::gaussian_values(m * k, 0.02, 51);
    const auto x = test::gaussian_values(130 * k, 1.0, 52);
    const CompressedMatrix c = encode(w.data(), m, k);
    for (int64_t n : {1, 9, 33, 130})
      for (int split : {1, 2}) {
        if (split > c.block_cols()) continue;  // every split needs a K step
        GemmOptions three{split};
        three.pipeline_stages = 3;
        EXPECT_EQ(test::zipgemm_result(c, x.data(), n, three), test::zipgemm_result(c, x.data(), n, GemmOptions{split}))
            << "three stages, " << shape_name(m, k, n, split);
      }
  }
}

// Random tensor-core dot products through the real mma.sync (mma_probe_kernel.cuh): every output
// must carry exactly the bits zipserv::mma_dot16 gives under the backend's numerics. On a GPU that
// is the proof, on the device, that the model of its architecture predicts it (10^5 dot
// products); on cuda-sim it proves the simulator gathers operands and applies every numerics.
TEST_P(ZipGemm, MmaOutputsEqualTheNumericsModelBitForBit) {
  std::vector<MmaNumerics> models;
  if (on_simulator()) {
    models.assign(std::begin(kAllMmaNumerics), std::end(kAllMmaNumerics));
  } else if (const auto n = backend_numerics()) {
    models.push_back(*n);
  } else {
    GTEST_SKIP() << "no validated tensor-core model for this GPU's compute capability";
  }
  const int64_t problems = on_simulator() ? 64 : 782;  // 782 x 128 outputs > 10^5 dot products
  std::vector<uint16_t> a(static_cast<size_t>(problems * 256)), b(static_cast<size_t>(problems * 128));
  std::vector<float> c(static_cast<size_t>(problems * 128));
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  // Signs and exponents spread over +-2^24, so alignment shifts, cancellation and carries all occur.
  auto value = [&] { return std::ldexp(static_cast<float>(next() % 2000) / 1000.0f - 1.0f, static_cast<int>(next() % 48) - 24); };
  for (uint16_t& v : a) v = float_to_bf16_rne(value());
  for (uint16_t& v : b) v = float_to_bf16_rne(value());
  for (float& v : c) v = next() % 4 == 0 ? 0.0f : value();
  for (const MmaNumerics model : models) {
    sim::Options options;
    options.numerics = model;
    const BackendScope scope(on_simulator() ? Backend::cuda_sim(options) : current_backend());
    const std::vector<float> d = mma_tiles(a, b, c);
    int64_t differ = 0;
    for (int64_t p = 0; p < problems; ++p)
      for (int m = 0; m < 16; ++m)
        for (int n = 0; n < 8; ++n) {
          uint16_t row[16], col[16];
          for (int k = 0; k < 16; ++k) {
            row[k] = a[static_cast<size_t>(p * 256 + 16 * m + k)];
            col[k] = b[static_cast<size_t>(p * 128 + 8 * k + n)];
          }
          const float expect = mma_dot16(model, row, col, c[static_cast<size_t>(p * 128 + 8 * m + n)]);
          const float got = d[static_cast<size_t>(p * 128 + 8 * m + n)];
          if (std::memcmp(&expect, &got, 4) != 0 && differ++ < 5)
            ADD_FAILURE() << numerics_name(model) << ": problem " << p << " (m " << m << ", n " << n << "): got "
                          << got << ", model " << expect;
        }
    EXPECT_EQ(differ, 0) << numerics_name(model) << ": outputs that differ from the model";
  }
}

// The stronger rule of the oracle: the real kernel on cuda-sim under the model of this GPU
// predicts the GPU's output bits, whatever the inputs (GPU only).
TEST_P(ZipGemm, SimulatorUnderThisGpusModelPredictsItsOutputBits) {
  if (on_simulator()) GTEST_SKIP() << "compares a GPU with cuda-sim: runs in the /gpu instance";
  const auto model = backend_numerics();
  if (!model) GTEST_SKIP() << "no validated tensor-core model for this GPU's compute capability";
  sim::Options options;
  options.numerics = *model;
  for (const auto& [m, k] : {std::pair<int64_t, int64_t>{200, 320}, {172, 203}, {256, 1024}}) {
    const auto w = test::gaussian_values(m * k, 0.02, 41);
    const auto x = test::gaussian_values(33 * k, 1.0, 42);
    const CompressedMatrix c = encode(w.data(), m, k);
    for (int64_t n : {1, 8, 33})
      for (int split : {1, 2}) {
        const auto gpu = test::zipgemm_result(c, x.data(), n, GemmOptions{split});
        const BackendScope on_cpu(Backend::cuda_sim(options));
        EXPECT_EQ(test::zipgemm_result(c, x.data(), n, GemmOptions{split}), gpu)
            << numerics_name(*model) << " " << shape_name(m, k, n, split);
      }
  }
}

}  // namespace
}  // namespace zipserv::cuda
