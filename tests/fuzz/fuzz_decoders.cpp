// Fuzz target: validate() followed by every decoder. The input describes a CompressedMatrix:
// a flags byte, its shape and window, then its bitmaps, offsets and streams. The flags can make
// the offsets, the padding and the fallback values canonical, so a large share of inputs passes
// validate() and reaches the decoders, while the rest exercise every way validate() rejects.
//
//   rejected by validate()  every decoder (reference, block-tile, padded, lane fragments, the
//                           SIMD emulation) must refuse it with FormatError too;
//   accepted                every decoder must give the bits of decode_by_traversal(), and
//                           re-encoding those values with the same window must give back the
//                           input byte for byte (validate() accepts only the canonical form).
// A crash, a sanitizer report, a disagreement or an unexpected exception is a bug: abort().
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz_input.h"
#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"

namespace zipserv::fuzz {
namespace {

enum Flags : uint8_t {
  kDeriveOffsets = 1,      // median/global offsets computed from the bitmaps
  kCanonicalPadding = 2,   // padding elements get padding_code() and byte 0
  kZeroStreamPadding = 4,  // the 16-byte stream padding is zero
  kFallbacksOutside = 8,   // fallback values moved outside the window
};

[[noreturn]] void bug(const char* what) {
  std::fprintf(stderr, "fuzz_decoders: %s\n", what);
  std::abort();
}

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

CompressedMatrix matrix_from(FuzzInput& in) {
  const uint8_t flags = in.take<uint8_t>();
  CompressedMatrix m;
  m.rows = 1 + in.take<uint8_t>() % 160;  // up to 3 block-tile rows, most shapes padded
  m.cols = 1 + in.take<uint8_t>() % 160;
  m.start_exp = in.take<uint8_t>();
  const int64_t F = m.fragtiles(), T = m.block_tiles(), KB = m.block_cols();
  for (auto* plane : {&m.bitmap1, &m.bitmap2, &m.bitmap3}) {
    plane->resize(static_cast<size_t>(F));
    in.fill(plane->data(), plane->size() * sizeof(uint64_t));
  }
  if (flags & kCanonicalPadding) {
    const uint32_t pad = padding_code(m.start_exp);
    for (int64_t f = 0; f < F; ++f) {
      const TileOrigin o = fragtile_origin(f, KB);
      for (int bit = 0; bit < 64; ++bit) {
        if (o.row + bit / 8 < m.rows && o.col + bit % 8 < m.cols) continue;
        const uint64_t b = uint64_t{1} << bit;
        m.bitmap1[f] = (m.bitmap1[f] & ~b) | (pad & 1 ? b : 0);
        m.bitmap2[f] = (m.bitmap2[f] & ~b) | (pad & 2 ? b : 0);
        m.bitmap3[f] = (m.bitmap3[f] & ~b) | (pad & 4 ? b : 0);
      }
    }
  }
  // Offsets: canonical, or taken from the input as they come.
  std::vector<int64_t> hf(static_cast<size_t>(T));
  m.median_offsets.resize(static_cast<size_t>(8 * T));
  m.global_offsets.resize(static_cast<size_t>(2 * (T + 1)));
  if (flags & kDeriveOffsets) {
    for (int64_t t = 0; t < T; ++t) {
      int64_t n = 0;
      for (int s = 0; s < 4; ++s) {
        m.median_offsets[2 * (4 * t + s)] = static_cast<int32_t>(n);
        m.median_offsets[2 * (4 * t + s) + 1] = static_cast<int32_t>(1024 * s - n);
        for (int w = 0; w < 16; ++w) {
          const int64_t f = (4 * t + s) * 16 + w;
          n += std::popcount(m.bitmap1[f] | m.bitmap2[f] | m.bitmap3[f]);
        }
      }
      hf[t] = n;
      m.global_offsets[2 * t + 2] = static_cast<int32_t>(m.global_offsets[2 * t] + round_up(n, 16));
      m.global_offsets[2 * t + 3] = static_cast<int32_t>(m.global_offsets[2 * t + 1] + round_up(4096 - n, 8));
    }
  } else {
    in.fill(m.median_offsets.data(), m.median_offsets.size() * sizeof(int32_t));
    in.fill(m.global_offsets.data(), m.global_offsets.size() * sizeof(int32_t));
  }
  // Streams: as long as the offsets say when those are plausible, else a length from the input.
  const int64_t hf_total = m.global_offsets[2 * T], fb_total = m.global_offsets[2 * T + 1];
  const int64_t limit = 4096 * T + 16;
  m.sign_mantissa.resize(static_cast<size_t>(hf_total >= 0 && hf_total <= limit ? hf_total : in.take<uint16_t>()));
  m.full.resize(static_cast<size_t>(fb_total >= 0 && fb_total <= limit ? fb_total : in.take<uint16_t>()));
  in.fill(m.sign_mantissa.data(), m.sign_mantissa.size());
  in.fill(m.full.data(), m.full.size() * sizeof(uint16_t));
  if (flags & kDeriveOffsets) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t hb = m.global_offsets[2 * t], fbb = m.global_offsets[2 * t + 1], fb = 4096 - hf[t];
      if (flags & kZeroStreamPadding) {
        for (int64_t p = hb + hf[t]; p < m.global_offsets[2 * t + 2]; ++p) m.sign_mantissa[p] = 0;
        for (int64_t p = fbb + fb; p < m.global_offsets[2 * t + 3]; ++p) m.full[p] = 0;
      }
      if (flags & kFallbacksOutside)
        for (int64_t p = fbb; p < fbb + fb; ++p)
          if (element_code(m.full[p], m.start_exp) != 0)  // exponent start_exp has code 0
            m.full[p] = static_cast<uint16_t>((m.full[p] & 0x807Fu) | uint32_t{m.start_exp} << 7);
      if (flags & kCanonicalPadding) {
        // Padding elements' bytes are 0: walk the tile's high-frequency elements in order.
        int64_t cursor = hb;
        for (int w = 0; w < 64; ++w) {
          const int64_t f = 64 * t + w;
          const TileOrigin o = fragtile_origin(f, KB);
          const uint64_t mask = m.bitmap1[f] | m.bitmap2[f] | m.bitmap3[f];
          for (int bit = 0; bit < 64; ++bit) {
            if (!((mask >> bit) & 1)) continue;
            if (o.row + bit / 8 >= m.rows || o.col + bit % 8 >= m.cols) m.sign_mantissa[cursor] = 0;
            ++cursor;
          }
        }
      }
    }
  }
  return m;
}

template <typename Call>
void expect_format_error(Call&& call, const char* decoder) {
  try {
    call();
  } catch (const FormatError&) {
    return;
  }
  std::fprintf(stderr, "fuzz_decoders: %s accepted a matrix validate() rejects\n", decoder);
  std::abort();
}

bool same_bytes(const CompressedMatrix& a, const CompressedMatrix& b) {
  return a.rows == b.rows && a.cols == b.cols && a.start_exp == b.start_exp && a.bitmap1 == b.bitmap1 &&
         a.bitmap2 == b.bitmap2 && a.bitmap3 == b.bitmap3 && a.sign_mantissa == b.sign_mantissa && a.full == b.full &&
         a.median_offsets == b.median_offsets && a.global_offsets == b.global_offsets;
}

}  // namespace
}  // namespace zipserv::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zipserv;
  using namespace zipserv::fuzz;
  FuzzInput in(data, size);
  const CompressedMatrix m = matrix_from(in);
  try {
    validate(m);
  } catch (const FormatError&) {
    expect_format_error([&] { (void)decode(m); }, "decode");
    expect_format_error([&] { (void)decode_by_traversal(m); }, "decode_by_traversal");
    expect_format_error([&] { (void)decode_padded(m); }, "decode_padded");
    expect_format_error([&] { (void)lane_fragments(m); }, "lane_fragments");
    expect_format_error([&] { (void)emu::decode(m); }, "emu::decode");
    expect_format_error([&] { (void)emu::lane_fragments(m); }, "emu::lane_fragments");
    return 0;
  }
  const std::vector<uint16_t> want = decode_by_traversal(m);
  if (decode(m) != want) bug("decode() differs from decode_by_traversal()");
  if (decode(m, DecodeOptions{2}) != want) bug("decode() on 2 threads differs from decode_by_traversal()");
  if (emu::decode(m) != want) bug("emu::decode() differs from decode_by_traversal()");
  const std::vector<uint16_t> padded = decode_padded(m);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) {
      if (padded[r * m.padded_cols() + c] != want[r * m.cols + c]) bug("decode_padded() differs inside the matrix");
      if ((r * 31 + c) % 97 == 0 && decode_element(m, r, c) != want[r * m.cols + c])
        bug("decode_element() differs from decode_by_traversal()");
    }
  if (emu::lane_fragments(m) != lane_fragments(m)) bug("emu::lane_fragments() differs from lane_fragments()");
  if (!same_bytes(encode_with_start_exp(want.data(), m.rows, m.cols, m.start_exp), m))
    bug("validate() accepted a matrix that is not the canonical encoding of its values");
  return 0;
}
