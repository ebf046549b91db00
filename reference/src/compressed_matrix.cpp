// Derived sizes of a CompressedMatrix and the validation every decoder runs before it trusts
// the arrays (see compressed_matrix.h).
#include "zipserv/reference/compressed_matrix.h"

#include "zipserv/reference/block_tile_band.h"

#include <algorithm>
#include <bit>
#include <string>

#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"

namespace zipserv {
namespace {

[[noreturn]] void fail(const std::string& what) { throw FormatError(what); }

std::string at_tile(int64_t t) { return " in block tile " + std::to_string(t); }

int64_t round_up(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// validate() reads every bitmap word once, so its cost is this popcount. A baseline x86-64 build
// has no POPCNT instruction and std::popcount becomes a library call, about 1.7x slower overall;
// target_clones compiles a POPCNT copy beside the portable one and picks at load time.
// Not under ThreadSanitizer: the clone's resolver runs while the program is being loaded, before
// the TSan runtime is initialized, and its instrumented entry crashes there.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define ZIPSERV_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define ZIPSERV_POPCNT_CLONES
#endif

// High-frequency elements (set bits of b1 | b2 | b3) in each of block tile t's four strips.
ZIPSERV_POPCNT_CLONES void strip_high_frequency_counts(const CompressedMatrix& m, int64_t t,
                                                       int64_t (&counts)[kStripsPerBlockTile]) {
  for (int s = 0; s < kStripsPerBlockTile; ++s) {
    int64_t n = 0;
    for (int w = 0; w < kFragTilesPerStrip; ++w) {
      const int64_t f = (4 * t + s) * kFragTilesPerStrip + w;
      n += std::popcount(m.bitmap1[f] | m.bitmap2[f] | m.bitmap3[f]);
    }
    counts[s] = n;
  }
}

}  // namespace

int32_t CompressedMatrix::max_hf_per_block_tile() const {
  int32_t best = 0;
  for (int64_t t = 0; t < block_tiles(); ++t)
    best = std::max(best, global_offsets[2 * t + 2] - global_offsets[2 * t]);
  return best;
}

int32_t CompressedMatrix::max_full_per_block_tile() const {
  int32_t best = 0;
  for (int64_t t = 0; t < block_tiles(); ++t)
    best = std::max(best, global_offsets[2 * t + 3] - global_offsets[2 * t + 1]);
  return best;
}

int64_t CompressedMatrix::payload_bytes() const {
  return static_cast<int64_t>((bitmap1.size() + bitmap2.size() + bitmap3.size()) * sizeof(uint64_t) +
                              sign_mantissa.size() + full.size() * sizeof(uint16_t) +
                              (median_offsets.size() + global_offsets.size()) * sizeof(int32_t));
}

double CompressedMatrix::bits_per_weight() const {
  return rows * cols > 0 ? 8.0 * static_cast<double>(payload_bytes()) / static_cast<double>(rows * cols) : 0.0;
}

namespace {

// Steps 3 and 4 of validate() over every block tile of `m`, which is either a whole matrix
// (first_block_row = 0) or a band of one (block_tile_band.h): messages name tiles and elements
// of the whole matrix, so a band reports exactly what validate() of the whole would.
void validate_block_tiles(const CompressedMatrix& m, int64_t first_block_row) {
  const int64_t T = m.block_tiles(), KB = m.block_cols();
  const int64_t tile_base = first_block_row * KB, row_base = first_block_row * kBlockTileDim;
  const int64_t hf_size = static_cast<int64_t>(m.sign_mantissa.size()), fb_size = static_cast<int64_t>(m.full.size());

  // 3. Per block tile: the bitmaps' popcounts must agree with both offset arrays, and the padding
  //    must be the canonical one, so that every index a decoder derives stays inside its segment.
  int64_t first_past_end = -1;  // first tile whose segments reach past the streams
  for (int64_t t = 0; t < T; ++t) {
    const int64_t hf_begin = m.global_offsets[2 * t], fb_begin = m.global_offsets[2 * t + 1];
    const int64_t hf_seg = int64_t{m.global_offsets[2 * t + 2]} - hf_begin;
    const int64_t fb_seg = int64_t{m.global_offsets[2 * t + 3]} - fb_begin;
    if (hf_seg < 0 || fb_seg < 0) fail("global offsets decrease" + at_tile(tile_base + t));
    int64_t strip_hf[kStripsPerBlockTile];
    strip_high_frequency_counts(m, t, strip_hf);
    int64_t hf = 0;
    for (int s = 0; s < kStripsPerBlockTile; ++s) {
      const int64_t e = 2 * (4 * t + s);
      if (m.median_offsets[e] != hf || m.median_offsets[e + 1] != s * 1024 - hf)
        fail("median offsets of strip " + std::to_string(s) + at_tile(tile_base + t) + " are (" +
             std::to_string(m.median_offsets[e]) + ", " + std::to_string(m.median_offsets[e + 1]) +
             ") but the bitmaps give (" + std::to_string(hf) + ", " + std::to_string(s * 1024 - hf) + ")");
      hf += strip_hf[s];
    }
    const int64_t fb = kElementsPerBlockTile - hf;
    if (hf_seg != round_up(hf, 16) || fb_seg != round_up(fb, 8))
      fail("global offsets give segments of (" + std::to_string(hf_seg) + ", " + std::to_string(fb_seg) +
           ") but the bitmaps need (" + std::to_string(round_up(hf, 16)) + ", " +
           std::to_string(round_up(fb, 8)) + ")" + at_tile(tile_base + t));
    // Offsets may rise past a stream's end while every segment agrees with its bitmaps; in a whole
    // matrix they must then fall at a later tile, which is the error to report. Until then the
    // stream padding of such tiles is not read (it lies outside the streams).
    if (hf_begin + hf_seg > hf_size || fb_begin + fb_seg > fb_size) {
      if (first_past_end < 0) first_past_end = t;
      continue;
    }
    for (int64_t p = hf; p < hf_seg; ++p)
      if (m.sign_mantissa[hf_begin + p] != 0) fail("non-zero stream padding in sign_mantissa" + at_tile(tile_base + t));
    // Canonical form: a fallback value is one whose exponent lies outside the window. The encoder
    // never stores an in-window weight in `full`; accepting one would decode correctly but let two
    // files hold the same weights with the same window, so it is refused.
    for (int64_t p = 0; p < fb; ++p) {
      const uint16_t v = m.full[fb_begin + p];
      if (element_code(v, m.start_exp) != 0)
        fail("fallback value " + std::to_string(p) + " (exponent " + std::to_string(bf16_exponent(v)) +
             ") lies inside the window, so it is not in canonical form" + at_tile(tile_base + t));
    }
    for (int64_t p = fb; p < fb_seg; ++p)
      if (m.full[fb_begin + p] != 0) fail("non-zero stream padding in full" + at_tile(tile_base + t));
  }
  // Only a band can get here: its streams were cut where the whole matrix's end, and the tile
  // where the offsets fall back lies in a later band.
  if (first_past_end >= 0) fail("global offsets run past the end of the streams" + at_tile(tile_base + first_past_end));

  // 4. Elements outside the logical shape must be canonical padding (padding_code(), byte 0), so a
  //    matrix has exactly one encoding for a given window.
  for (int64_t t = 0; t < T; ++t) {
    const int64_t row0 = t / KB * 64, col0 = t % KB * 64;
    if (row0 + 64 <= m.rows && col0 + 64 <= m.cols) continue;
    int64_t hf_cursor = m.global_offsets[2 * t];
    for (int w = 0; w < kFragTilesPerBlockTile; ++w) {
      const int64_t f = t * kFragTilesPerBlockTile + w;
      const TileOrigin o = fragtile_origin(f, KB);
      for (int bit = 0; bit < kElementsPerFragTile; ++bit) {
        const uint32_t code = code_from_bitmaps(m.bitmap1[f], m.bitmap2[f], m.bitmap3[f], bit);
        const bool padding = o.row + bit / 8 >= m.rows || o.col + bit % 8 >= m.cols;
        if (padding && (code != padding_code(m.start_exp) || m.sign_mantissa[hf_cursor] != kPaddingByte))
          fail("padding element (" + std::to_string(row_base + o.row + bit / 8) + ", " + std::to_string(o.col + bit % 8) +
               ") is not the canonical padding (code " + std::to_string(padding_code(m.start_exp)) + ", byte 0)" +
               at_tile(tile_base + t));
        if (code != 0) ++hf_cursor;
      }
    }
  }
}

// Steps 1 and 2 of validate(): the shape, and every array length the shape fixes.
void validate_shape_and_lengths(const CompressedMatrix& m) {
  // 1. Shape: positive and small enough that every offset fits in int32.
  if (m.rows <= 0 || m.cols <= 0)
    fail("shape " + std::to_string(m.rows) + "x" + std::to_string(m.cols) + " is not positive");
  if (!encodable_shape(m.rows, m.cols))
    fail("shape " + std::to_string(m.rows) + "x" + std::to_string(m.cols) + " exceeds 2^31 padded elements");

  // 2. Array lengths follow from the shape.
  const int64_t T = m.block_tiles(), F = m.fragtiles();
  if (static_cast<int64_t>(m.bitmap1.size()) != F || static_cast<int64_t>(m.bitmap2.size()) != F ||
      static_cast<int64_t>(m.bitmap3.size()) != F)
    fail("bitmap arrays must hold " + std::to_string(F) + " words each for shape " +
         std::to_string(m.rows) + "x" + std::to_string(m.cols));
  if (static_cast<int64_t>(m.median_offsets.size()) != 8 * T)
    fail("median offsets must hold " + std::to_string(8 * T) + " values, found " +
         std::to_string(m.median_offsets.size()));
  if (static_cast<int64_t>(m.global_offsets.size()) != 2 * (T + 1))
    fail("global offsets must hold " + std::to_string(2 * (T + 1)) + " values, found " +
         std::to_string(m.global_offsets.size()));
}

void check_offsets_start_at_zero(const int32_t* first_pair) {
  if (first_pair[0] != 0 || first_pair[1] != 0) fail("global offsets must start at (0, 0)");
}

}  // namespace

void validate_offset_totals(const int32_t* first_pair, const int32_t* last_pair, int64_t sign_mantissa_size,
                            int64_t full_size) {
  check_offsets_start_at_zero(first_pair);
  if (last_pair[0] != sign_mantissa_size)
    fail("sign_mantissa holds " + std::to_string(sign_mantissa_size) + " bytes but the global offsets end at " +
         std::to_string(last_pair[0]));
  if (last_pair[1] != full_size)
    fail("full holds " + std::to_string(full_size) + " values but the global offsets end at " +
         std::to_string(last_pair[1]));
}

void validate(const CompressedMatrix& m) {
  validate_shape_and_lengths(m);
  validate_offset_totals(&m.global_offsets[0], &m.global_offsets[2 * m.block_tiles()],
                         static_cast<int64_t>(m.sign_mantissa.size()), static_cast<int64_t>(m.full.size()));
  validate_block_tiles(m, 0);
}

void validate_band(const CompressedMatrix& band, int64_t first_block_row) {
  if (first_block_row < 0) fail("band starts at block-tile row " + std::to_string(first_block_row));
  // The band's streams may stop short of where its offsets end (a caller copies at most what the
  // whole matrix holds); step 3 finds the tile whose offsets are wrong, as validate() would.
  validate_shape_and_lengths(band);
  check_offsets_start_at_zero(&band.global_offsets[0]);
  validate_block_tiles(band, first_block_row);
}

}  // namespace zipserv
