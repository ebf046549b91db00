// Lossless round trips: every BF16 pattern through every window position, the window edges the
// official kernels get wrong (exponent 0) or never test (exponent 255), degenerate tiles, every
// tile-relative shape, the real fixtures; and the random-access and lane-fragment views of the
// decoded matrix.
#include <gtest/gtest.h>

#include <bit>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "compressed_equal.h"
#include "test_inputs.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/fragment_layout.h"

namespace zipserv {
namespace {

using test::Matrix;

uint8_t start_exp_for(int lo) { return static_cast<uint8_t>((lo + 255) & 0xFF); }

int64_t high_frequency_total(const CompressedMatrix& c) {
  int64_t n = 0;
  for (size_t f = 0; f < c.bitmap1.size(); ++f) n += std::popcount(c.bitmap1[f] | c.bitmap2[f] | c.bitmap3[f]);
  return n;
}

TEST(RoundTrip, all_65536_patterns_for_every_window_position) {
  // lo = 0..249 are the windows choose_window() can return (start_exp = lo - 1 mod 256, so
  // lo = 0 stores 255); start_exp = 249..254 are windows that wrap past exponent 255 to 0,
  // which only encode_with_start_exp() can be asked for. All must be lossless.
  for (const Matrix& w : {test::all_patterns_matrix(), test::all_patterns_shuffled(99)}) {
    for (int start_exp = 0; start_exp <= 255; ++start_exp) {
      const CompressedMatrix c = encode_with_start_exp(w.values.data(), 256, 256, static_cast<uint8_t>(start_exp));
      ASSERT_TRUE(test::same_patterns(w.values, decode(c), 256)) << "start_exp = " << start_exp;
      // Exactly the 7 exponents x 2 signs x 128 mantissas inside the window take the short form.
      ASSERT_EQ(high_frequency_total(c), 7 * 256) << "start_exp = " << start_exp;
    }
  }
}

TEST(RoundTrip, window_at_exponent_0_keeps_sign_of_zero_and_subnormals) {
  // Spec F / G.1: with lo = 0 the stored start_exp is 255, and the official kernels compute
  // (255 + code) << 7 in int, so the carry lands in bit 15 and flips the sign of every decoded
  // high-frequency weight: +0 came back as -0, positive subnormals as negative ones.
  std::vector<uint16_t> w(64 * 64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<uint16_t>(i % 128);  // +0 and +subnormals
  const CompressedMatrix c = encode_with_start_exp(w.data(), 64, 64, start_exp_for(0));
  ASSERT_EQ(c.start_exp, 255);
  ASSERT_EQ(c.sign_mantissa.size(), 4096u);  // all of them took the code path under test
  const std::vector<uint16_t> out = decode(c);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(bf16_sign(out[i]), 0u) << "element " << i << " decoded with its sign bit set";
    ASSERT_EQ(out[i], w[i]);
  }
  // The test is sensitive to the bug: the official formula sets bit 15 for these elements.
  const uint32_t code = 1, sm = 0x05;  // exponent 0, mantissa 5
  const uint16_t official = static_cast<uint16_t>((sm & 0x80) << 8 | (c.start_exp + code) << 7 | (sm & 0x7F));
  EXPECT_EQ(bf16_sign(official), 1u);
  EXPECT_EQ(bf16_sign(rebuild_bf16(code, sm, c.start_exp)), 0u);
}

TEST(RoundTrip, window_at_exponent_255_keeps_inf_and_nan_payloads) {
  std::vector<uint16_t> w;
  for (uint32_t sign = 0; sign < 2; ++sign)
    for (uint32_t m = 0; m < 128; ++m) w.push_back(bf16_from_fields(sign, 255, m));  // +-Inf, NaNs
  const CompressedMatrix c = encode_with_start_exp(w.data(), 1, static_cast<int64_t>(w.size()), start_exp_for(249));
  for (size_t col = 0; col < w.size(); ++col)
    ASSERT_EQ(element_code(w[col], c.start_exp), 7u) << "exponent 255 is code 7 in window [249, 255]";
  EXPECT_TRUE(test::same_patterns(w, decode(c), static_cast<int64_t>(w.size())));
  // Through the fallback path too (window far away).
  const CompressedMatrix far = encode_with_start_exp(w.data(), 1, static_cast<int64_t>(w.size()), start_exp_for(100));
  EXPECT_TRUE(far.full.size() >= w.size());
  EXPECT_TRUE(test::same_patterns(w, decode(far), static_cast<int64_t>(w.size())));
}

TEST(RoundTrip, signed_zeros_and_subnormals_through_both_paths) {
  std::vector<uint16_t> w;
  for (uint32_t sign = 0; sign < 2; ++sign)
    for (uint32_t m = 0; m < 128; ++m) w.push_back(bf16_from_fields(sign, 0, m));
  for (int lo : {0, 1, 120}) {  // inside (lo = 0), just outside (lo = 1), far (lo = 120)
    const CompressedMatrix c = encode_with_start_exp(w.data(), 16, 16, start_exp_for(lo));
    EXPECT_TRUE(test::same_patterns(w, decode(c), 16)) << "lo = " << lo;
  }
}

TEST(RoundTrip, all_fallback_tiles) {
  // Every weight has exponent 100; the window [0, 6] holds none of them.
  const uint8_t start_exp = start_exp_for(0);
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{64, 64}, {7, 9}}) {
    std::vector<uint16_t> w(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < w.size(); ++i) w[i] = bf16_from_fields(i & 1, 100, static_cast<uint32_t>(i));
    const CompressedMatrix c = encode_with_start_exp(w.data(), rows, cols, start_exp);
    EXPECT_TRUE(test::same_patterns(w, decode(c), cols));
    const int64_t logical = rows * cols, padding = 4096 - logical;
    EXPECT_EQ(static_cast<int64_t>(c.full.size()), (logical + 7) / 8 * 8);
    EXPECT_EQ(static_cast<int64_t>(c.sign_mantissa.size()), (padding + 15) / 16 * 16);
    // Bitmaps: zero except the padding elements, which are code 1 (bit plane 1 only).
    for (size_t f = 0; f < c.bitmap1.size(); ++f) {
      EXPECT_EQ(c.bitmap2[f], 0u);
      EXPECT_EQ(c.bitmap3[f], 0u);
      const TileOrigin o = fragtile_origin(static_cast<int64_t>(f), c.block_cols());
      uint64_t padding_bits = 0;
      for (int bit = 0; bit < 64; ++bit)
        if (o.row + bit / 8 >= rows || o.col + bit % 8 >= cols) padding_bits |= uint64_t{1} << bit;
      EXPECT_EQ(c.bitmap1[f], padding_bits) << "FragTile " << f;
    }
  }
}

TEST(RoundTrip, all_inside_tile_has_no_stream_padding) {
  std::vector<uint16_t> w(64 * 64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = bf16_from_fields(i >> 11, 118 + i % 7, static_cast<uint32_t>(i * 37));
  const CompressedMatrix c = encode_with_start_exp(w.data(), 64, 64, start_exp_for(118));
  EXPECT_EQ(c.sign_mantissa.size(), 4096u);  // h = 4096: already a multiple of 16
  EXPECT_TRUE(c.full.empty());
  EXPECT_EQ(c.global_offsets, (std::vector<int32_t>{0, 0, 4096, 0}));
  EXPECT_TRUE(test::same_patterns(w, decode(c), 64));
}

struct Shape {
  const char* name;
  int64_t rows, cols;
};
const Shape kShapes[] = {
    {"m_eq_1_k_eq_1", 1, 1},     {"m_lt_64_k_lt_64", 7, 9},  {"m_lt_64_k_gt_64", 63, 65}, {"m_eq_64_k_eq_64", 64, 64},
    {"m_gt_64_k_eq_64", 65, 64}, {"m_eq_64_k_gt_64", 64, 65}, {"m_172_k_64", 172, 64},    {"m_16_k_4096", 16, 4096},
    {"m_4096_k_16", 4096, 16},   {"m_eq_1_k_4099", 1, 4099}, {"m_4099_k_eq_1", 4099, 1}};

TEST(RoundTrip, every_tile_relative_shape) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(s.name);
    const Matrix w = test::mixed_matrix(s.rows, s.cols, 17);
    const CompressedMatrix c = encode(w.values.data(), s.rows, s.cols);
    EXPECT_EQ(c.rows, s.rows);
    EXPECT_EQ(c.cols, s.cols);
    EXPECT_TRUE(test::same_patterns(w.values, decode(c), s.cols));
  }
}

TEST(RoundTrip, decode_element_equals_decode_on_small_shapes) {
  for (const Shape& s : kShapes) {
    if (s.rows * s.cols > 20000) continue;
    SCOPED_TRACE(s.name);
    const Matrix w = test::mixed_matrix(s.rows, s.cols, 23);
    const CompressedMatrix c = encode(w.values.data(), s.rows, s.cols);
    validate(c);
    const std::vector<uint16_t> all = decode(c);
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t col = 0; col < s.cols; ++col)
        ASSERT_EQ(decode_element(c, r, col), all[r * s.cols + col]) << "(" << r << ", " << col << ")";
  }
}

// Spec section C, literally: what lane `lane` of warp `strip` holds in register a[reg] for slice q
// of block tile t, decoded from the bitmaps with the per-warp cursors and popcounts.
std::vector<uint32_t> lane_fragments_from_bitmaps(const CompressedMatrix& m) {
  std::vector<uint32_t> regs(static_cast<size_t>(lane_fragment_count(m)));
  for (int64_t t = 0; t < m.block_tiles(); ++t)
    for (int s = 0; s < 4; ++s) {
      int64_t hf_cur = m.median_offsets[2 * (4 * t + s)], fb_cur = m.median_offsets[2 * (4 * t + s) + 1];
      const uint8_t* sm = m.sign_mantissa.data() + m.global_offsets[2 * t];
      const uint16_t* full = m.full.data() + m.global_offsets[2 * t + 1];
      for (int q = 0; q < 4; ++q)
        for (int k = 0; k < 4; ++k) {  // FragTile 4q + k feeds register a[k]
          const int64_t f = (4 * t + s) * 16 + 4 * q + k;
          const uint64_t b1 = m.bitmap1[f], b2 = m.bitmap2[f], b3 = m.bitmap3[f], mk = b1 | b2 | b3;
          for (int lane = 0; lane < 32; ++lane) {
            uint32_t reg = 0;
            for (int half = 0; half < 2; ++half) {
              const int p = 2 * lane + half;
              const int before = std::popcount(mk & ((uint64_t{1} << p) - 1));
              uint16_t v;
              if ((mk >> p) & 1) {
                const uint32_t code = static_cast<uint32_t>((b3 >> p & 1) << 2 | (b2 >> p & 1) << 1 | (b1 >> p & 1));
                const uint8_t byte = sm[hf_cur + before];
                v = static_cast<uint16_t>((byte & 0x80) << 8 | ((m.start_exp + code) & 0xFF) << 7 | (byte & 0x7F));
              } else {
                v = full[fb_cur + (p - before)];
              }
              reg |= uint32_t{v} << (16 * half);
            }
            regs[lane_fragment_index(t, s, q, lane, k)] = reg;
          }
          const int n = std::popcount(mk);
          hf_cur += n;
          fb_cur += 64 - n;
        }
    }
  return regs;
}

TEST(LaneFragments, equal_decoded_values_at_a_frag_coord_and_the_spec_lane_decoder) {
  for (const Shape& s : {Shape{"m_eq_64_k_eq_64", 64, 64}, Shape{"m_172_k_64", 172, 64}, Shape{"m_lt_64_k_gt_64", 63, 130}}) {
    SCOPED_TRACE(s.name);
    const Matrix w = test::mixed_matrix(s.rows, s.cols, 31);
    const CompressedMatrix c = encode(w.values.data(), s.rows, s.cols);
    const std::vector<uint32_t> regs = lane_fragments(c);
    ASSERT_EQ(static_cast<int64_t>(regs.size()), lane_fragment_count(c));
    const std::vector<uint16_t> padded = decode_padded(c);  // (Mp, Kp) row-major
    const int64_t kp = c.padded_cols();
    for (int64_t t = 0; t < c.block_tiles(); ++t)
      for (int st = 0; st < 4; ++st)
        for (int q = 0; q < 4; ++q)
          for (int lane = 0; lane < 32; ++lane)
            for (int reg = 0; reg < 4; ++reg) {
              const int64_t row0 = t / c.block_cols() * 64 + 16 * st, col0 = t % c.block_cols() * 64 + 16 * q;
              const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
              const uint32_t want = uint32_t{padded[(row0 + lo.row) * kp + col0 + lo.col]} |
                                    uint32_t{padded[(row0 + hi.row) * kp + col0 + hi.col]} << 16;
              ASSERT_EQ(regs[lane_fragment_index(t, st, q, lane, reg)], want)
                  << "tile " << t << " strip " << st << " slice " << q << " lane " << lane << " reg " << reg;
            }
    EXPECT_EQ(regs, lane_fragments_from_bitmaps(c));
    // And inside the logical matrix, decode_padded agrees with decode.
    const std::vector<uint16_t> logical = decode(c);
    for (int64_t r = 0; r < s.rows; ++r)
      for (int64_t col = 0; col < s.cols; ++col) ASSERT_EQ(padded[r * kp + col], logical[r * s.cols + col]);
  }
}

TEST(RoundTripFixture, use_lite_embeddings_8002x256) {
  std::string error;
  const Matrix w = test::read_fixture_tensor(test::fixture_path("use-lite-en.safetensors"), test::kUseLiteEmbeddings, error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(w.rows, 8002);
  ASSERT_EQ(w.cols, 256);
  const CompressedMatrix c = encode(w.values.data(), w.rows, w.cols);
  EXPECT_TRUE(test::same_patterns(w.values, decode(c), w.cols));
  // PROVENANCE.md: the best window of this file is [119, 125] (start_exp 118); real weights compress.
  EXPECT_EQ(c.start_exp, 118);
  EXPECT_LT(c.bits_per_weight(), 16.0);
  // The multi-threaded paths on a real, edge-padded matrix: same bytes, same values.
  EXPECT_TRUE(test::same_bytes(c, encode(w.values.data(), w.rows, w.cols, EncodeOptions{2})));
  EXPECT_TRUE(test::same_bytes(c, encode_by_traversal(w.values.data(), w.rows, w.cols, c.start_exp)));
  EXPECT_TRUE(test::same_patterns(w.values, decode(c, DecodeOptions{2}), w.cols));
}

TEST(Encode, rejects_empty_and_too_large_shapes_before_reading) {
  const uint16_t one = 0x3F80;
  // Too large: 2^20 x 2^20 padded elements exceed the int32 offsets. The pointer is never read.
  const int64_t huge = int64_t{1} << 20;
  for (auto [rows, cols, fragment] : {std::tuple<int64_t, int64_t, const char*>{0, 5, "is empty"},
                                      {5, 0, "is empty"}, {-1, 5, "is empty"}, {huge, huge, "too large"}}) {
    SCOPED_TRACE(fragment);
    auto expect_message = [&](auto&& call) {
      try {
        call();
        ADD_FAILURE() << "accepted shape " << rows << "x" << cols;
      } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      }
    };
    expect_message([&] { encode(&one, rows, cols); });
    expect_message([&] { encode(&one, rows, cols, EncodeOptions{2}); });
    expect_message([&] { encode_with_start_exp(&one, rows, cols, 118); });
    expect_message([&] { encode_by_traversal(&one, rows, cols, 118); });
  }
}

TEST(RoundTripFixture, every_stories260k_matrix) {
  const char* names[] = {"tok_embeddings.weight", "layers.0.attention.wq.weight", "layers.0.attention.wk.weight",
                         "layers.2.feed_forward.w1.weight", "layers.2.feed_forward.w2.weight", "layers.4.attention.wo.weight"};
  for (const char* name : names) {
    SCOPED_TRACE(name);
    std::string error;
    const Matrix w = test::read_fixture_tensor(test::fixture_path("stories260K.safetensors"), name, error);
    ASSERT_TRUE(error.empty()) << error;
    const CompressedMatrix c = encode(w.values.data(), w.rows, w.cols);
    EXPECT_TRUE(test::same_patterns(w.values, decode(c), w.cols));
    EXPECT_TRUE(test::same_bytes(c, encode_by_traversal(w.values.data(), w.rows, w.cols, c.start_exp)));
  }
}

// Padding must be finite for every window: a GEMM multiplies padded K columns by zero
// activations, and Inf x 0 = NaN. Code 1 of start_exp 254 is exponent 255, so that window pads
// with code 2 (exponent 0, +0.0) instead.
TEST(Padding, is_finite_for_every_start_exp) {
  for (int s = 0; s < 256; ++s) {
    const uint8_t start_exp = static_cast<uint8_t>(s);
    const uint16_t pad = padding_pattern(start_exp);
    EXPECT_NE(bf16_exponent(pad), 255u) << "start_exp " << s;
    EXPECT_EQ(element_code(pad, start_exp), padding_code(start_exp)) << "start_exp " << s;
    EXPECT_EQ(sign_mantissa_byte(pad), kPaddingByte) << "start_exp " << s;
  }
  EXPECT_EQ(padding_pattern(254), 0x0000) << "the wrapping window pads with +0.0";
  EXPECT_EQ(padding_pattern(120), bf16_from_fields(0, 121, 0)) << "otherwise: +2^(lo - 127)";
}

TEST(Padding, k_lt_64_with_start_exp_254_round_trips_and_validates) {
  std::vector<uint16_t> w(7 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = bf16_from_fields(i & 1, i % 6, static_cast<uint32_t>(i));
  const CompressedMatrix c = encode_with_start_exp(w.data(), 7, 9, 254);
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(decode(c), w);
  EXPECT_TRUE(test::same_bytes(c, encode_by_traversal(w.data(), 7, 9, 254)));
}

}  // namespace
}  // namespace zipserv
