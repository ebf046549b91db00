// The block-tile encoder/decoder behind encode()/decode() against the defining traversal, and
// the multi-threaded runs against the single-threaded ones: all must give identical bytes.
#include <gtest/gtest.h>

#include <vector>

#include "compressed_equal.h"
#include "test_inputs.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"

namespace zipserv {
namespace {

using test::Matrix;

struct Shape {
  const char* name;
  int64_t rows, cols;
};

// Shapes relative to the 64 x 64 block tile: inside one, exactly one, crossing edges, many bands.
const Shape kShapes[] = {{"m_eq_1_k_eq_1", 1, 1},     {"m_lt_64_k_lt_64", 7, 9},   {"m_lt_64_k_gt_64", 63, 65},
                         {"m_eq_64_k_eq_64", 64, 64}, {"m_gt_64_k_eq_64", 65, 64}, {"m_eq_64_k_gt_64", 64, 65},
                         {"m_172_k_64", 172, 64},     {"m_div_64_many", 320, 192}, {"m_eq_1_k_300", 1, 300},
                         {"m_300_k_eq_1", 300, 1},    {"m_prime_k_prime", 131, 197}};

TEST(EncodeBlockTiles, equals_traversal_on_every_shape) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(s.name);
    const Matrix w = test::mixed_matrix(s.rows, s.cols, 11);
    const CompressedMatrix defining = encode_by_traversal(w.values.data(), s.rows, s.cols, 119);
    EXPECT_TRUE(test::same_bytes(defining, encode_with_start_exp(w.values.data(), s.rows, s.cols, 119)));
  }
}

TEST(EncodeBlockTiles, equals_traversal_for_every_start_exp_on_all_patterns) {
  // All 256 bytes, not only the 250 that choose_window() produces: encode_with_start_exp()
  // accepts any, and windows that wrap past 255 must still encode identically.
  const Matrix w = test::all_patterns_shuffled(3);
  for (int start_exp = 0; start_exp <= 255; ++start_exp) {
    const uint8_t b = static_cast<uint8_t>(start_exp);
    ASSERT_TRUE(test::same_bytes(encode_by_traversal(w.values.data(), 256, 256, b),
                                 encode_with_start_exp(w.values.data(), 256, 256, b)))
        << "start_exp = " << start_exp;
  }
}

TEST(EncodeThreads, any_thread_count_gives_the_same_bytes) {
  for (const Shape& s : {Shape{"m_div_64_many", 640, 128}, Shape{"m_prime_k_prime", 331, 197}, Shape{"m_eq_1", 1, 700}}) {
    SCOPED_TRACE(s.name);
    const Matrix w = test::mixed_matrix(s.rows, s.cols, 5);
    const CompressedMatrix one = encode(w.values.data(), s.rows, s.cols, EncodeOptions{1});
    // More threads than block-tile rows (and 0 = all hardware threads) included.
    for (int threads : {2, 3, 7, 16, 0}) {
      SCOPED_TRACE(threads);
      EXPECT_TRUE(test::same_bytes(one, encode(w.values.data(), s.rows, s.cols, EncodeOptions{threads})));
    }
  }
}

TEST(DecodeBlockTiles, equals_traversal_and_input_for_any_thread_count) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(s.name);
    const Matrix w = test::mixed_matrix(s.rows, s.cols, 21);
    const CompressedMatrix c = encode(w.values.data(), s.rows, s.cols);
    EXPECT_TRUE(test::same_patterns(w.values, decode_by_traversal(c), s.cols));
    for (int threads : {1, 2, 5, 0}) {
      SCOPED_TRACE(threads);
      EXPECT_TRUE(test::same_patterns(w.values, decode(c, DecodeOptions{threads}), s.cols));
    }
  }
}

TEST(DecodeBlockTiles, decode_into_writes_only_the_logical_matrix) {
  // Guard bands around the output: an edge block tile must not spill its padding.
  const int64_t rows = 70, cols = 75, guard = 4096;
  const Matrix w = test::mixed_matrix(rows, cols, 8);
  const CompressedMatrix c = encode(w.values.data(), rows, cols);
  std::vector<uint16_t> buffer(static_cast<size_t>(rows * cols + 2 * guard), 0xA5A5);
  decode_into(c, buffer.data() + guard, DecodeOptions{2});
  for (int64_t i = 0; i < guard; ++i) {
    ASSERT_EQ(buffer[i], 0xA5A5) << "before the output, index " << i;
    ASSERT_EQ(buffer[guard + rows * cols + i], 0xA5A5) << "after the output, index " << i;
  }
  EXPECT_TRUE(test::same_patterns(w.values, std::vector<uint16_t>(buffer.begin() + guard, buffer.end() - guard), cols));
}

}  // namespace
}  // namespace zipserv
