// validate() against every way a CompressedMatrix can be damaged: each is rejected with a
// FormatError whose message names the problem, and every decoder refuses it the same way
// (none of them reads an offset before validate() has passed).
#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <string>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"

namespace zipserv {
namespace {

// A matrix whose element classes are known: everything inside the window [118, 124] except
// the listed fallback positions (exponent 60).
CompressedMatrix make(int64_t rows, int64_t cols, const std::vector<int64_t>& fallback_at = {}) {
  std::vector<uint16_t> w(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < w.size(); ++i) w[i] = bf16_from_fields(i & 1, 118 + i % 7, static_cast<uint32_t>(i));
  for (int64_t i : fallback_at) w[i] = bf16_from_fields(0, 60, 3);
  return encode_with_start_exp(w.data(), rows, cols, 117);
}

// validate() throws FormatError containing `fragment`; so does every decoder.
void expect_rejected(const CompressedMatrix& m, const std::string& fragment) {
  try {
    validate(m);
    ADD_FAILURE() << "validate() accepted a matrix that should fail with: " << fragment;
    return;
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message \"" << e.what() << "\" does not name \"" << fragment << "\"";
  }
  EXPECT_THROW(decode(m), FormatError);
  EXPECT_THROW(decode(m, DecodeOptions{2}), FormatError);
  EXPECT_THROW(decode_by_traversal(m), FormatError);
  EXPECT_THROW(decode_padded(m), FormatError);
  EXPECT_THROW(lane_fragments(m), FormatError);
  if (m.rows > 0 && m.cols > 0 && m.rows * m.cols < (1 << 20)) {
    std::vector<uint16_t> out(static_cast<size_t>(m.rows * m.cols));
    EXPECT_THROW(decode_into(m, out.data()), FormatError);
    std::vector<uint16_t> x(static_cast<size_t>(m.cols), 0), y(static_cast<size_t>(m.rows));
    EXPECT_THROW(zipgemm(m, x.data(), 1, y.data()), FormatError);
  }
}

TEST(Validate, accepts_what_the_encoder_produces) {
  EXPECT_NO_THROW(validate(make(64, 64)));
  EXPECT_NO_THROW(validate(make(7, 9)));
  EXPECT_NO_THROW(validate(make(70, 130, {0, 5, 999})));
}

TEST(Validate, rejects_shape_not_positive) {
  CompressedMatrix m = make(7, 9);
  m.rows = 0;
  expect_rejected(m, "is not positive");
  m = make(7, 9);
  m.cols = -64;
  expect_rejected(m, "is not positive");
}

TEST(Validate, rejects_shape_too_large_for_int32_offsets) {
  CompressedMatrix m = make(7, 9);
  m.rows = int64_t{1} << 20;
  m.cols = int64_t{1} << 20;
  expect_rejected(m, "exceeds 2^31");
  m.rows = int64_t{1} << 40;
  m.cols = 1;
  expect_rejected(m, "exceeds 2^31");
}

TEST(Validate, rejects_wrong_bitmap_sizes) {
  for (auto member : {&CompressedMatrix::bitmap1, &CompressedMatrix::bitmap2, &CompressedMatrix::bitmap3}) {
    CompressedMatrix m = make(70, 130);
    (m.*member).pop_back();
    expect_rejected(m, "bitmap arrays must hold");
    m = make(70, 130);
    (m.*member).push_back(0);
    expect_rejected(m, "bitmap arrays must hold");
  }
  CompressedMatrix m = make(70, 130);
  m.rows = 200;  // shape no longer matches the arrays
  expect_rejected(m, "bitmap arrays must hold");
}

TEST(Validate, rejects_wrong_offset_array_sizes) {
  CompressedMatrix m = make(70, 130);
  m.median_offsets.pop_back();
  expect_rejected(m, "median offsets must hold");
  m = make(70, 130);
  m.global_offsets.push_back(0);
  expect_rejected(m, "global offsets must hold");
  m = make(70, 130);
  m.global_offsets.clear();
  expect_rejected(m, "global offsets must hold");
}

TEST(Validate, rejects_offsets_not_starting_at_zero) {
  CompressedMatrix m = make(64, 128);
  m.global_offsets[0] = 16;
  expect_rejected(m, "must start at (0, 0)");
  m = make(64, 128);
  m.global_offsets[1] = 8;
  expect_rejected(m, "must start at (0, 0)");
}

TEST(Validate, rejects_stream_sizes_that_disagree_with_the_totals) {
  CompressedMatrix m = make(64, 128);
  m.sign_mantissa.push_back(0);
  expect_rejected(m, "sign_mantissa holds");
  m = make(64, 128, {3});
  m.full.pop_back();
  expect_rejected(m, "full holds");
  // Huge totals with short streams: must not be trusted as indices.
  m = make(64, 128);
  m.global_offsets.back() = 0x7FFFFFF8;
  expect_rejected(m, "full holds");
}

TEST(Validate, rejects_decreasing_global_offsets) {
  // Two block tiles; tile 1's hf segment made negative while the totals stay consistent.
  CompressedMatrix m = make(64, 128);
  m.global_offsets[4] = m.global_offsets[2] - 16;
  m.sign_mantissa.resize(m.global_offsets[4]);
  expect_rejected(m, "global offsets decrease in block tile 1");
}

TEST(Validate, rejects_global_offsets_that_disagree_with_popcounts) {
  CompressedMatrix m = make(64, 128);
  m.global_offsets[2] += 16;  // tile 0 claims 16 more bytes
  m.global_offsets[4] += 16;
  m.sign_mantissa.resize(m.global_offsets[4]);
  expect_rejected(m, "global offsets give segments");
}

TEST(Validate, rejects_median_entries_off_by_one) {
  for (int s = 1; s < 4; ++s)
    for (int which = 0; which < 2; ++which)
      for (int delta : {-1, +1}) {
        CompressedMatrix m = make(64, 64, {10, 2000});
        m.median_offsets[2 * s + which] += delta;
        expect_rejected(m, "median offsets of strip " + std::to_string(s));
      }
  CompressedMatrix m = make(64, 64);
  m.median_offsets[1] = 1;  // strip 0 must be (0, 0)
  expect_rejected(m, "median offsets of strip 0");
}

TEST(Validate, rejects_a_flipped_bitmap_bit_that_changes_the_class) {
  // Element 0 of FragTile 0 is high-frequency; clearing all its code bits makes it a fallback
  // element, so the strip's popcount no longer matches the next median entry.
  CompressedMatrix m = make(64, 64);
  m.bitmap1[0] &= ~uint64_t{1};
  m.bitmap2[0] &= ~uint64_t{1};
  m.bitmap3[0] &= ~uint64_t{1};
  expect_rejected(m, "median offsets of strip 1");
  // The fallback element (63, 63) (last FragTile, bit 63) turned into code 4: it sits in the
  // last strip, so no median entry follows and the segment lengths no longer match.
  m = make(64, 64, {63 * 64 + 63});
  m.bitmap3.back() |= uint64_t{1} << 63;
  expect_rejected(m, "global offsets give segments");
}

TEST(Validate, code_change_inside_the_window_is_not_structural) {
  // Changing a code between two non-zero values keeps every count: the format has no checksum,
  // so validate() cannot see it. It only changes that one value's exponent (documented limit).
  CompressedMatrix m = make(64, 64);
  const std::vector<uint16_t> before = decode(m);
  m.bitmap2[0] ^= uint64_t{1} << 9;
  m.bitmap1[0] |= uint64_t{1} << 9;  // keep the code non-zero whatever it was
  EXPECT_NO_THROW(validate(m));
  const std::vector<uint16_t> after = decode(m);
  int differing = 0;
  for (size_t i = 0; i < before.size(); ++i) differing += before[i] != after[i];
  EXPECT_EQ(differing, 1);
  EXPECT_NE(before[1 * 64 + 1], after[1 * 64 + 1]);  // bit 9 = row 1, col 1 of FragTile 0
}

TEST(Validate, rejects_non_zero_stream_padding) {
  // 5 fallback elements: hf = 4091 (padded to 4096), full = 5 (padded to 8).
  CompressedMatrix m = make(64, 64, {1, 2, 3, 4, 5});
  ASSERT_EQ(m.sign_mantissa.size(), 4096u);
  ASSERT_EQ(m.full.size(), 8u);
  m.sign_mantissa[4093] = 0x01;
  expect_rejected(m, "non-zero stream padding in sign_mantissa");
  m = make(64, 64, {1, 2, 3, 4, 5});
  m.full[7] = 0x3F80;
  expect_rejected(m, "non-zero stream padding in full");
}

// Canonical form: a weight whose exponent lies inside the window is always stored as a code, never
// as a fallback. Replacing a fallback value by an in-window one keeps every count and offset (and
// would decode "correctly" to the new value), so only this rule can see it.
TEST(Validate, rejects_a_fallback_value_whose_exponent_lies_inside_the_window) {
  CompressedMatrix m = make(64, 64, {1, 2, 3});  // window [118, 124]; fallbacks have exponent 60
  ASSERT_EQ(m.full.size(), 8u);
  for (int exponent : {118, 121, 124}) {  // both window edges and the middle
    m = make(64, 64, {1, 2, 3});
    m.full[2] = bf16_from_fields(1, static_cast<uint32_t>(exponent), 5);
    expect_rejected(m, "fallback value 2 (exponent " + std::to_string(exponent) +
                           ") lies inside the window, so it is not in canonical form in block tile 0");
  }
  // Just outside the window on either side is a legitimate fallback.
  for (int exponent : {117, 125}) {
    m = make(64, 64, {1, 2, 3});
    m.full[2] = bf16_from_fields(0, static_cast<uint32_t>(exponent), 5);
    EXPECT_NO_THROW(validate(m)) << "exponent " << exponent;
  }
}

TEST(Validate, stream_padding_zeros_are_not_fallback_values_even_when_exponent_0_is_in_the_window) {
  // Window [0, 6] (start_exp 255): the 0x0000 words padding `full` have exponent 0, inside the
  // window, but they are stream padding, not fallback values.
  std::vector<uint16_t> w(64 * 64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = bf16_from_fields(0, i % 3 == 0 ? 100 : i % 7, static_cast<uint32_t>(i));
  const CompressedMatrix m = encode_with_start_exp(w.data(), 64, 64, 255);
  ASSERT_EQ(m.full.size(), 1368u) << "1366 fallback values (i % 3 == 0), then two 0x0000 padding words";
  EXPECT_NO_THROW(validate(m));
  EXPECT_EQ(decode(m), w);
}

TEST(Validate, rejects_non_canonical_padding_elements) {
  // 7 x 9: FragTile 0 covers rows 0..7, cols 0..7; row 7 is padding (bits 56..63), and every
  // element is high-frequency, so the padding element (7, 0) is sign_mantissa[56].
  CompressedMatrix m = make(7, 9);
  m.bitmap2[0] |= uint64_t{1} << 56;  // code 1 -> 3: same class, same counts
  expect_rejected(m, "padding element (7, 0) is not the canonical padding (code 1, byte 0)");
  m = make(7, 9);
  m.sign_mantissa[56] = 0x01;
  expect_rejected(m, "padding element (7, 0) is not the canonical padding (code 1, byte 0)");
  // Padding in K: column 9 of row 0 lives in FragTile 2 (cols 8..15), bit 1.
  m = make(7, 9);
  m.bitmap3[2] |= uint64_t{1} << 1;
  expect_rejected(m, "padding element (0, 9) is not the canonical padding (code 1, byte 0)");
}

}  // namespace
}  // namespace zipserv
