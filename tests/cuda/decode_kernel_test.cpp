// Tests of the decode kernel and of the fused kernel's fragment trace, each run on the GPU
// (`/gpu`, labels `cuda;gpu`, skipped visibly without a device) and on cuda-sim (`/sim`).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda_test_inputs.h"
#include "gpu_test_support.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::cuda {
namespace {

class Decompress : public test::OnBothBackends {};
ZIPSERV_ON_BOTH_BACKENDS(Decompress);
class TraceLaneFragments : public test::OnBothBackends {};
ZIPSERV_ON_BOTH_BACKENDS(TraceLaneFragments);

struct Shape {
  int64_t rows, cols;
};
// Tile-edge shapes: below, at and above the 64 block tile in each direction, and a long K.
const std::vector<Shape> kEdgeShapes = {{1, 1}, {7, 9}, {63, 65}, {64, 64}, {172, 64}, {16, 4096}, {130, 200}};

void expect_decode_exact(const CompressedMatrix& m, const std::vector<uint16_t>& original, const std::string& what) {
  const std::vector<uint16_t> gpu = cuda::decode(m);
  const std::vector<uint16_t> ref = zipserv::decode(m);
  ASSERT_EQ(gpu.size(), ref.size()) << what;
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_EQ(gpu[i], ref[i]) << what << ": element (" << i / m.cols << ", " << i % m.cols << ")";
    ASSERT_EQ(gpu[i], original[i]) << what << ": not lossless at (" << i / m.cols << ", " << i % m.cols << ")";
  }
}

TEST_P(Decompress, AllPatternsAtEveryWindowEdge) {
  const auto w = test::all_patterns();
  expect_decode_exact(encode(w.data(), 256, 256), w, "best window");
  // 255: window [0, 6] touches exponent 0 (the official sign-flip bug, spec G.1); 248: [249, 255].
  for (int start : {255, 0, 120, 248, 254})
    expect_decode_exact(encode_with_start_exp(w.data(), 256, 256, static_cast<uint8_t>(start)), w,
                            "start_exp " + std::to_string(start));
}

TEST_P(Decompress, TileEdgeShapes) {
  for (const Shape s : kEdgeShapes) {
    const auto g = test::gaussian_values(s.rows * s.cols, 0.02, 11 + s.rows);
    expect_decode_exact(encode(g.data(), s.rows, s.cols), g, "gaussian " + std::to_string(s.rows) + "x" + std::to_string(s.cols));
    const auto r = test::random_bit_patterns(s.rows * s.cols, 5 + s.cols);
    expect_decode_exact(encode(r.data(), s.rows, s.cols), r, "random bits " + std::to_string(s.rows) + "x" + std::to_string(s.cols));
  }
}

TEST_P(Decompress, GuardBandsAndUnalignedRows) {
  for (const Shape s : {Shape{63, 65}, Shape{128, 128}, Shape{200, 1000}}) {  // K % 8 != 0 / == 0
    const auto g = test::gaussian_values(s.rows * s.cols, 0.02, 77);
    const CompressedMatrix m = encode(g.data(), s.rows, s.cols);
    const DeviceCompressedMatrix d = DeviceCompressedMatrix::upload(m);
    test::GuardedBuffer<uint16_t> out(static_cast<size_t>(s.rows * s.cols));
    launch_decode(d.view(), out.data(), nullptr);
    EXPECT_EQ(out.download(), g) << s.rows << "x" << s.cols;
    EXPECT_TRUE(out.guards_intact()) << "decode wrote outside its output, " << s.rows << "x" << s.cols;
  }
}

TEST_P(Decompress, RealFixtures) {
  for (const char* file : {"stories260K.safetensors", "use-lite-en.safetensors"}) {
    for (const st::Bf16Matrix& t : st::load_bf16_matrices(std::string(ZIPSERV_DATA_DIR) + "/" + file)) {
      const CompressedMatrix m = encode(t.values.data(), t.rows, t.cols);
      expect_decode_exact(m, t.values, std::string(file) + ":" + t.name);
      EXPECT_EQ(trace_lane_fragments(m), lane_fragments(m)) << file << ":" << t.name;
    }
  }
}

void expect_trace_exact(const CompressedMatrix& m, int split_k, const std::string& what) {
  const std::vector<uint32_t> gpu = trace_lane_fragments(m, split_k), ref = lane_fragments(m);
  ASSERT_EQ(gpu.size(), ref.size()) << what;
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_EQ(gpu[i], ref[i]) << what << ", split_k " << split_k << ": register index " << i << " (block tile "
                              << i / 2048 << ", strip " << (i / 512) % 4 << ", slice " << (i / 128) % 4 << ", lane "
                              << (i / 4) % 32 << ", reg " << i % 4 << ")";
}

TEST_P(TraceLaneFragments, EqualsReferenceLaneFragments) {
  for (const Shape s : kEdgeShapes) {
    const auto g = test::gaussian_values(s.rows * s.cols, 0.02, 21 + s.cols);
    const CompressedMatrix m = encode(g.data(), s.rows, s.cols);
    const int64_t kb = m.block_cols();
    for (int split : {1, 2, 3, static_cast<int>(std::min<int64_t>(kb, kMaxSplitK))})
      if (split <= kb) expect_trace_exact(m, split, "gaussian " + std::to_string(s.rows) + "x" + std::to_string(s.cols));
  }
  const auto w = test::all_patterns();
  for (int start : {255, 0, 248})
    expect_trace_exact(encode_with_start_exp(w.data(), 256, 256, static_cast<uint8_t>(start)), 1,
                       "all patterns, start_exp " + std::to_string(start));
  // The trace records the decoded registers before the K-tail mask: padding (+Inf at 254) included.
  const auto g = test::gaussian_values(63 * 65, 0.02, 31);
  for (int start : {254, 255})
    expect_trace_exact(encode_with_start_exp(g.data(), 63, 65, static_cast<uint8_t>(start)), 1,
                       "63x65, start_exp " + std::to_string(start));
}

TEST_P(TraceLaneFragments, GuardBands) {
  const auto g = test::gaussian_values(172 * 200, 0.02, 99);
  const CompressedMatrix m = encode(g.data(), 172, 200);
  const DeviceCompressedMatrix d = DeviceCompressedMatrix::upload(m);
  const std::vector<uint16_t> x_host(200, 0);
  DeviceAllocation x = test::upload(x_host);
  test::GuardedBuffer<uint32_t> trace(static_cast<size_t>(lane_fragment_count(m)));
  test::GuardedBuffer<uint16_t> y(172);
  test::GuardedBuffer<float> ws(split_k_workspace_bytes(172, 1, 2) / sizeof(float));
  launch_zipgemm_trace(d.view(), static_cast<const uint16_t*>(x.get()), 1, y.data(), ws.data(), ws.size_bytes(), 2,
                       trace.data(), nullptr);
  EXPECT_EQ(trace.download(), lane_fragments(m));
  EXPECT_TRUE(trace.guards_intact());
  EXPECT_TRUE(y.guards_intact());
  EXPECT_TRUE(ws.guards_intact());
}

}  // namespace
}  // namespace zipserv::cuda
