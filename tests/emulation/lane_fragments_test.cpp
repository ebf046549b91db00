// emu::lane_fragments equals the reference's lane fragments bit for bit, on every Highway
// target: every BF16 pattern under many windows, shapes at every tile edge, all-fallback and
// all-high-frequency tiles, and the real weights in data/.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "target_record.h"
#include "test_matrices.h"
#include "zipserv/reference/decode.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::emu::test {
namespace {

class LaneFragmentsTargets : public EmulationTargets {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(LaneFragmentsTargets);
ZIPSERV_RECORD_TARGETS(LaneFragmentsTargets)

// Compares with the reference and names the first differing register.
void expect_same_fragments(const CompressedMatrix& m, const std::string& what) {
  const std::vector<uint32_t> expected = zipserv::lane_fragments(m);
  const std::vector<uint32_t> actual = emu::lane_fragments(m);
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < expected.size(); ++i)
    if (actual[i] != expected[i]) {
      const size_t reg = i % 4, lane = i / 4 % 32, q = i / 128 % 4, s = i / 512 % 4, t = i / 2048;
      FAIL() << what << ": first difference at block tile " << t << " strip " << s << " slice " << q << " lane "
             << lane << " a" << reg << ": expected 0x" << std::hex << expected[i] << ", got 0x" << actual[i];
    }
}

std::vector<uint16_t> all_patterns() {
  std::vector<uint16_t> v(65536);  // (256, 256) bf16: element i is pattern i
  for (int i = 0; i < 65536; ++i) v[i] = static_cast<uint16_t>(i);
  return v;
}

// Every pattern (±0, subnormals, ±Inf, every NaN payload) under windows at both ends of the
// exponent range, wrapping windows (exponent arithmetic is modulo 256) and typical ones.
TEST_P(LaneFragmentsTargets, AllPatternsUnderManyWindows) {
  const std::vector<uint16_t> v = all_patterns();
  for (int start_exp : {255, 0, 1, 100, 120, 126, 127, 247, 248, 249, 252, 254})
    expect_same_fragments(encode_with_start_exp(v.data(), 256, 256, static_cast<uint8_t>(start_exp)),
                          "start_exp " + std::to_string(start_exp));
  expect_same_fragments(encode(v.data(), 256, 256), "chosen window");
  expect_target_used();
}

TEST_P(LaneFragmentsTargets, TileEdgeShapes) {
  for (const Shape& shape : tile_edge_shapes()) {
    const std::vector<uint16_t> v = gaussian_bf16(shape.rows, shape.cols, 0.02f, 11);
    expect_same_fragments(encode(v.data(), shape.rows, shape.cols), shape.name);
  }
  expect_target_used();
}

// A window no weight falls into (every element in the fallback stream) and one every weight
// falls into (no fallback at all), in the same shapes.
TEST_P(LaneFragmentsTargets, AllFallbackAndAllInsideTiles) {
  for (const Shape& shape : tile_edge_shapes()) {
    const std::vector<uint16_t> v = gaussian_bf16(shape.rows, shape.cols, 0.02f, 12);
    expect_same_fragments(encode_with_start_exp(v.data(), shape.rows, shape.cols, 200),
                          std::string(shape.name) + " all fallback");
    std::vector<uint16_t> inside(v.size());
    for (size_t i = 0; i < v.size(); ++i) inside[i] = static_cast<uint16_t>((v[i] & 0x807F) | (121u << 7));
    expect_same_fragments(encode(inside.data(), shape.rows, shape.cols), std::string(shape.name) + " all inside");
  }
  expect_target_used();
}

TEST_P(LaneFragmentsTargets, RealWeightMatrices) {
  int checked = 0;
  for (const char* file : {"stories260K.safetensors", "use-lite-en.safetensors"}) {
    for (const st::Bf16Matrix& w : st::load_bf16_matrices(std::string(ZIPSERV_DATA_DIR) + "/" + file)) {
      expect_same_fragments(encode(w.values.data(), w.rows, w.cols), std::string(file) + ":" + w.name);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
  expect_target_used();
}

}  // namespace
}  // namespace zipserv::emu::test
