// The block-tile encoder behind encode() and encode_with_start_exp(). It writes exactly the
// bytes of encode_by_traversal() (encode_traversal.cpp, the definition), in three steps that
// let every block tile be encoded on its own, and block-tile rows as independent work items:
//
//   Step 1  count    hf(t) = high-frequency elements of block tile t (padding counts: its code is never 0)
//   Step 2  offsets  global_offsets = exclusive prefix sum of (ceil16(hf), ceil8(4096 - hf));
//                    now every block tile knows where its two segments start
//   Step 3  fill     per block tile: 64 x 3 bitmap words, 4 median pairs, both segments
//
// How step 3 maps to the traversal: the same loop nest (s, q, j, i, then the 64 elements of a
// FragTile in row-major order), with four changes that do not change a byte:
//   (a) the streams are sized in step 2, so elements are stored at known indices, no push_back;
//   (b) what does not depend on the order (each element's code and sign+mantissa byte) is
//       computed first for the whole block tile in matrix order (step 3a), a loop the compiler
//       vectorises; the traversal (step 3b) only reads it;
//   (c) a FragTile row's 8 codes are packed into the three bitmap words with one multiply per
//       bit plane (gather_bit_plane) instead of 3 x 8 shifts;
//   (d) padding positions hold padding_pattern(start_exp), which encodes to exactly padding_code()
//       with byte 0, so an edge block tile is encoded like any other.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <vector>

#include "zipserv/reference/parallel_for.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"

namespace zipserv {
namespace {

constexpr int kDim = kBlockTileDim;  // 64

// The 64 x 64 elements of one block tile: read in place for an interior tile, or copied into a
// local tile whose padding positions hold padding_pattern() for a tile that crosses the edge.
class BlockTileSource {
 public:
  BlockTileSource(const uint16_t* bf16, int64_t rows, int64_t cols, int64_t gm, int64_t gk, uint8_t start_exp) {
    const int64_t row0 = gm * kDim, col0 = gk * kDim;
    if (row0 + kDim <= rows && col0 + kDim <= cols) {
      data_ = bf16 + row0 * cols + col0;
      stride_ = cols;
      return;
    }
    local_.fill(padding_pattern(start_exp));
    const int64_t valid_rows = std::min<int64_t>(kDim, rows - row0), valid_cols = std::min<int64_t>(kDim, cols - col0);
    for (int64_t r = 0; r < valid_rows; ++r)
      std::memcpy(&local_[r * kDim], bf16 + (row0 + r) * cols + col0, valid_cols * sizeof(uint16_t));
    data_ = local_.data();
    stride_ = kDim;
  }
  BlockTileSource(const BlockTileSource&) = delete;  // data_ may point into local_
  BlockTileSource& operator=(const BlockTileSource&) = delete;

  /// Row r (0..63) of the block tile: 64 consecutive BF16 patterns.
  const uint16_t* row(int r) const { return data_ + r * stride_; }

 private:
  std::array<uint16_t, kElementsPerBlockTile> local_;  // (64, 64) bf16, edge tiles only
  const uint16_t* data_ = nullptr;
  int64_t stride_ = 0;
};

// The code of one element in 16-bit arithmetic, so that a vectorising compiler can put eight
// elements in one 128-bit register instead of four. REFERENCE: equals element_code(v, start_exp).
inline uint16_t element_code_16(uint16_t v, uint8_t start_exp) {
  const uint16_t c = static_cast<uint16_t>(((v >> 7) - start_exp) & 0xFF);
  return static_cast<uint16_t>(c >= 1 && c <= kWindowSize ? c : 0);
}

// Step 1. REFERENCE: equals the traversal's final `hf` for this block tile.
int32_t count_high_frequency(const BlockTileSource& src, uint8_t start_exp) {
  int32_t hf = 0;
  for (int r = 0; r < kDim; ++r) {
    const uint16_t* row = src.row(r);  // (64) bf16
    for (int c = 0; c < kDim; ++c) hf += element_code_16(row[c], start_exp) != 0;
  }
  return hf;
}

// Eight codes, code of column c in byte c (little-endian order of the bytes in the word).
uint64_t pack_codes(const uint8_t* code) {
  uint64_t packed = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&packed, code, sizeof packed);
  } else {
    for (int c = 0; c < 8; ++c) packed |= uint64_t{code[c]} << (8 * c);
  }
  return packed;
}

// Bit `plane` (0..2) of each of the eight codes, moved to bits 0..7.
// REFERENCE: equals sum over c of ((code[c] >> plane) & 1) << c.
// Why the multiply works: byte c holds one bit at position 8c; multiplying by
// 0x0102040810204080 adds a copy shifted by 7(7 - c') + 7 for every c', and the copy with
// c' = 7 - c lands at bit 56 + c. No two copies hit the same bit, so nothing carries.
uint64_t gather_bit_plane(uint64_t packed_codes, int plane) {
  return (((packed_codes >> plane) & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56;
}

// Scratch for one block tile, reused along a block-tile row.
struct TileScratch {
  // Codes and sign+mantissa bytes of the whole block tile in matrix order, computed in one
  // simple loop the compiler vectorises, then read in traversal order.
  uint16_t value[kDim][kDim];          // (64, 64) bf16, the block tile with a fixed stride
  uint8_t code[kDim][kDim];            // (64, 64) 0..7
  uint8_t byte[kDim][kDim];            // (64, 64) (sign << 7) | mantissa
  // The block tile's streams before they are copied to their final place. Writing here first
  // allows branch-free compaction: the store one past the last element lands in the scratch,
  // never in a neighbouring block tile that another thread owns.
  uint8_t sign_mantissa[kElementsPerBlockTile];  // (4096) bytes
  uint16_t full[kElementsPerBlockTile];          // (4096) bf16
};

// Step 3 for block tile t (bitmap words t*64 .. t*64+63).
void fill_block_tile(const BlockTileSource& src, uint8_t start_exp, int64_t t, CompressedMatrix& m,
                     TileScratch& scratch) {
  // Step 3a: per element, independent of the order (element_code, sign_mantissa_byte).
  for (int r = 0; r < kDim; ++r) {
    const uint16_t* row = src.row(r);  // (64) bf16
    for (int c = 0; c < kDim; ++c) {
      scratch.value[r][c] = row[c];
      scratch.code[r][c] = static_cast<uint8_t>(element_code_16(row[c], start_exp));
      scratch.byte[r][c] = sign_mantissa_byte(row[c]);
    }
  }
  // Step 3b: the traversal order of encode_by_traversal().
  int32_t hf = 0, fb = 0;  // counts inside this block tile, unpadded (as in the traversal)
  int64_t f = t * kFragTilesPerBlockTile;
  for (int s = 0; s < kStripsPerBlockTile; ++s) {
    m.median_offsets[2 * (4 * t + s)] = hf;
    m.median_offsets[2 * (4 * t + s) + 1] = fb;
    for (int q = 0; q < kSlicesPerStrip; ++q)
      for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 2; ++i, ++f) {
          uint64_t w1 = 0, w2 = 0, w3 = 0;
          for (int r = 0; r < kFragTileDim; ++r) {
            const int row = 16 * s + 8 * i + r, col = 16 * q + 8 * j;
            const uint8_t* code = &scratch.code[row][col];  // (8) codes of FragTile row r
            const uint8_t* byte = &scratch.byte[row][col];  // (8)
            const uint16_t* v = &scratch.value[row][col];   // (8) bf16
            // Branch-free compaction: both stores happen, one cursor advances.
            // REFERENCE: equals `if (code) sign_mantissa.push_back(byte); else full.push_back(v)`.
            for (int c = 0; c < 8; ++c) {
              const int32_t high = code[c] != 0;
              scratch.sign_mantissa[hf] = byte[c];
              scratch.full[fb] = v[c];
              hf += high;
              fb += 1 - high;
            }
            // REFERENCE: equals bitmapP[f] |= ((code >> P) & 1) << (8r + c) for c = 0..7.
            const uint64_t packed = pack_codes(code);
            w1 |= gather_bit_plane(packed, 0) << (8 * r);
            w2 |= gather_bit_plane(packed, 1) << (8 * r);
            w3 |= gather_bit_plane(packed, 2) << (8 * r);
          }
          m.bitmap1[f] = w1;
          m.bitmap2[f] = w2;
          m.bitmap3[f] = w3;
        }
  }
  // The padding after hf and fb is already zero: the streams were value-initialised.
  // (A stream can be empty, and memcpy to an empty vector's null data() is undefined even for 0 bytes.)
  if (hf > 0) std::memcpy(m.sign_mantissa.data() + m.global_offsets[2 * t], scratch.sign_mantissa, hf);
  if (fb > 0) std::memcpy(m.full.data() + m.global_offsets[2 * t + 1], scratch.full, fb * sizeof(uint16_t));
}

int32_t round_up(int32_t n, int32_t multiple) { return (n + multiple - 1) / multiple * multiple; }

}  // namespace

std::vector<int32_t> block_tile_high_frequency_counts(const uint16_t* bf16, int64_t rows, int64_t cols,
                                                      uint8_t start_exp, int threads) {
  check_encode_shape(rows, cols);
  const int64_t KB = pad_to_block_tile(cols) / kDim, block_rows = pad_to_block_tile(rows) / kDim;
  std::vector<int32_t> hf_count(block_rows * KB);  // (T) per block tile, unpadded
  parallel_for(block_rows, threads, [&](int64_t gm) {
    for (int64_t gk = 0; gk < KB; ++gk)
      hf_count[gm * KB + gk] = count_high_frequency(BlockTileSource(bf16, rows, cols, gm, gk, start_exp), start_exp);
  });
  return hf_count;
}

CompressedMatrix encode_with_start_exp(const uint16_t* bf16, int64_t rows, int64_t cols, uint8_t start_exp,
                                       const EncodeOptions& options) {
  check_encode_shape(rows, cols);
  CompressedMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.start_exp = start_exp;
  const int64_t T = m.block_tiles(), KB = m.block_cols();
  m.bitmap1.resize(m.fragtiles());
  m.bitmap2.resize(m.fragtiles());
  m.bitmap3.resize(m.fragtiles());
  m.median_offsets.resize(2 * 4 * T);
  m.global_offsets.resize(2 * (T + 1));

  // Step 1: count, one block-tile row per work item.
  const std::vector<int32_t> hf_count =
      block_tile_high_frequency_counts(bf16, rows, cols, start_exp, options.threads);  // (T) unpadded

  // Step 2: offsets. REFERENCE: equals the traversal's push_back of (prev + padded) per tile.
  for (int64_t t = 0; t < T; ++t) {
    m.global_offsets[2 * t + 2] = m.global_offsets[2 * t] + round_up(hf_count[t], 16);
    m.global_offsets[2 * t + 3] = m.global_offsets[2 * t + 1] + round_up(kElementsPerBlockTile - hf_count[t], 8);
  }
  m.sign_mantissa.resize(m.global_offsets[2 * T]);  // zero-filled: the padding bytes
  m.full.resize(m.global_offsets[2 * T + 1]);

  // Step 3: fill, one block-tile row per work item.
  parallel_for(m.block_rows(), options.threads, [&](int64_t gm) {
    auto scratch = std::make_unique<TileScratch>();
    for (int64_t gk = 0; gk < KB; ++gk)
      fill_block_tile(BlockTileSource(bf16, rows, cols, gm, gk, start_exp), start_exp, gm * KB + gk, m, *scratch);
  });
  return m;
}

}  // namespace zipserv
