// The block-tile decoder behind decode() and decode_into(). Same values as
// decode_by_traversal() (decode.cpp, the definition); block tiles are independent once the
// offsets are validated, so block-tile rows are decoded as independent work items (parallel_for.h).
//
// Per block tile:
//   Step 1  stage its two stream segments in local buffers (as the kernels stage them in shared
//           memory), so that the branch-free read one past a segment's last element stays inside
//   Step 2  (a) per FragTile in storage order, per row of 8 elements: codes from the three
//           bitmap words, and the entries at both stream cursors (one cursor advances);
//           (b) per element: rebuild from code and byte, or take the fallback value
//   Step 3  copy the decoded 64 x 64 tile's rows into the output, cutting away any padding
#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

#include "zipserv/reference/parallel_for.h"
#include "zipserv/reference/block_tile_band.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"

namespace zipserv {
namespace {

constexpr int kDim = kBlockTileDim;  // 64

// Bit c (0..7) of `bits` moved to byte c, as 0 or 1: the inverse of the encoder's
// gather_bit_plane(). REFERENCE: equals sum over c of ((bits >> c) & 1) << (8c).
// Why it works: the multiply copies the byte into all eight bytes (bits < 256, no carries), the
// mask keeps bit c in byte c, and adding 0x7F to a byte that is 0 or a single bit <= 0x80 sets
// its top bit exactly when it was non-zero, never carrying into the next byte.
uint64_t spread_bit_plane(uint32_t bits) {
  const uint64_t kept = (uint64_t{bits & 0xFFu} * 0x0101010101010101ull) & 0x8040201008040201ull;
  return ((kept + 0x7F7F7F7F7F7F7F7Full) >> 7) & 0x0101010101010101ull;
}

struct DecodeScratch {
  // One block tile's segments, staged.
  uint8_t sign_mantissa[kElementsPerBlockTile];  // (4096) bytes
  uint16_t full[kElementsPerBlockTile];          // (4096) bf16
  // Per element in matrix order: its code and the two stream entries it might use.
  uint8_t code[kDim][kDim];          // (64, 64) 0..7
  uint8_t byte[kDim][kDim];          // (64, 64) sign_mantissa entry at the hf cursor
  uint16_t fallback[kDim][kDim];     // (64, 64) full entry at the fb cursor
  uint16_t tile[kDim][kDim];         // (64, 64) bf16, the decoded block tile, padding included
};

// Decodes block tile t into scratch.tile: 64 x 64 values, padding included.
void decode_block_tile(const CompressedMatrix& m, int64_t t, DecodeScratch& scratch) {
  // Step 1. validate() guarantees both padded segments hold at most 4096 entries.
  const int32_t hf_begin = m.global_offsets[2 * t], fb_begin = m.global_offsets[2 * t + 1];
  // (A stream can be empty, and memcpy from an empty vector's null data() is undefined even for 0 bytes.)
  if (const int32_t n = m.global_offsets[2 * t + 2] - hf_begin; n > 0)
    std::memcpy(scratch.sign_mantissa, m.sign_mantissa.data() + hf_begin, n);
  if (const int32_t n = m.global_offsets[2 * t + 3] - fb_begin; n > 0)
    std::memcpy(scratch.full, m.full.data() + fb_begin, n * sizeof(uint16_t));
  // Step 2a: the traversal. Per FragTile row: its 8 codes from the three bitmap words, and the
  // stream entries at the two cursors (branch-free: both are read, one cursor advances).
  int32_t hf = 0, fb = 0;
  int64_t f = t * kFragTilesPerBlockTile;
  for (int s = 0; s < kStripsPerBlockTile; ++s)
    for (int q = 0; q < kSlicesPerStrip; ++q)
      for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 2; ++i, ++f) {
          const uint64_t b1 = m.bitmap1[f], b2 = m.bitmap2[f], b3 = m.bitmap3[f];
          for (int r = 0; r < kFragTileDim; ++r) {
            const int row = 16 * s + 8 * i + r, col = 16 * q + 8 * j;
            // REFERENCE: byte c equals code_from_bitmaps(b1, b2, b3, 8r + c).
            const uint64_t codes = spread_bit_plane(static_cast<uint32_t>(b1 >> (8 * r))) |
                                   spread_bit_plane(static_cast<uint32_t>(b2 >> (8 * r))) << 1 |
                                   spread_bit_plane(static_cast<uint32_t>(b3 >> (8 * r))) << 2;
            uint8_t* code = &scratch.code[row][col];  // (8)
            std::memcpy(code, &codes, 8);  // byte c = column c on a little-endian host
            if constexpr (std::endian::native != std::endian::little)
              for (int c = 0; c < 8; ++c) code[c] = static_cast<uint8_t>(codes >> (8 * c));
            if (((b1 | b2 | b3) >> (8 * r) & 0xFF) == 0xFF) {
              // All 8 high-frequency (most rows of real weights): 8 consecutive stream bytes.
              // REFERENCE: equals the loop below with every code != 0.
              std::memcpy(&scratch.byte[row][col], &scratch.sign_mantissa[hf], 8);
              hf += 8;
              continue;
            }
            for (int c = 0; c < 8; ++c) {
              scratch.byte[row][col + c] = scratch.sign_mantissa[hf];
              scratch.fallback[row][col + c] = scratch.full[fb];
              const int32_t high = code[c] != 0;
              hf += high;
              fb += 1 - high;
            }
          }
        }
  // Step 2b: per element, independent of the order.
  // REFERENCE: equals code ? rebuild_bf16(code, byte, start_exp) : fallback.
  const uint8_t start_exp = m.start_exp;
  for (int r = 0; r < kDim; ++r)
    for (int c = 0; c < kDim; ++c) {
      const uint16_t code = scratch.code[r][c], byte = scratch.byte[r][c], fallback = scratch.fallback[r][c];
      const uint16_t high = static_cast<uint16_t>((byte & 0x80) << 8 | ((start_exp + code) & 0xFF) << 7 | (byte & 0x7F));
      scratch.tile[r][c] = code ? high : fallback;
    }
}

// decode_into() once validate(m) has passed.
void decode_validated_into(const CompressedMatrix& m, uint16_t* out, const DecodeOptions& options) {
  const int64_t KB = m.block_cols();
  parallel_for(m.block_rows(), options.threads, [&](int64_t gm) {  // one block-tile row per item
    auto scratch = std::make_unique<DecodeScratch>();
    for (int64_t gk = 0; gk < KB; ++gk) {
      decode_block_tile(m, gm * KB + gk, *scratch);
      // Step 3: copy the rows and columns inside the logical matrix.
      const int64_t row0 = gm * kDim, col0 = gk * kDim;
      const int64_t valid_rows = std::min<int64_t>(kDim, m.rows - row0), valid_cols = std::min<int64_t>(kDim, m.cols - col0);
      for (int64_t r = 0; r < valid_rows; ++r)
        std::memcpy(out + (row0 + r) * m.cols + col0, scratch->tile[r], valid_cols * sizeof(uint16_t));
    }
  });
}

}  // namespace

void decode_into(const CompressedMatrix& m, uint16_t* out, const DecodeOptions& options) {
  validate(m);
  decode_validated_into(m, out, options);
}

void decode_into(const CompressedMatrix& m, uint16_t* out) { decode_into(m, out, DecodeOptions{}); }

std::vector<uint16_t> decode(const CompressedMatrix& m, const DecodeOptions& options) {
  validate(m);  // before sizing the output from a shape nobody checked yet
  std::vector<uint16_t> out(static_cast<size_t>(m.rows * m.cols));  // (rows, cols) bf16
  decode_validated_into(m, out.data(), options);
  return out;
}

std::vector<uint16_t> decode(const CompressedMatrix& m) { return decode(m, DecodeOptions{}); }

void decode_band_into(const CompressedMatrix& band, int64_t first_block_row, uint16_t* out) {
  validate_band(band, first_block_row);
  // The band is a matrix of its own (block_tile_band.h): its tiles decode like any other.
  decode_validated_into(band, out, DecodeOptions{});
}

}  // namespace zipserv
