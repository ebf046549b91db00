// The defining encoder. It walks the padded matrix in the format's one traversal order
// (block tiles row-major, strips, slices, FragTiles column-major, elements row-major) and
// appends every element to one of the two streams. encode_block_tiles.cpp produces the same
// bytes faster; this file is the one to read.
#include <string>

#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"

namespace zipserv {
namespace {

int32_t round_up(int32_t n, int32_t multiple) { return (n + multiple - 1) / multiple * multiple; }

}  // namespace

CompressedMatrix encode_by_traversal(const uint16_t* bf16, int64_t rows, int64_t cols, uint8_t start_exp) {
  check_encode_shape(rows, cols);
  CompressedMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.start_exp = start_exp;
  const int64_t fragtiles = m.fragtiles();
  m.bitmap1.assign(fragtiles, 0);
  m.bitmap2.assign(fragtiles, 0);
  m.bitmap3.assign(fragtiles, 0);
  m.median_offsets.reserve(2 * 4 * m.block_tiles());
  m.global_offsets.reserve(2 * (m.block_tiles() + 1));
  m.global_offsets.push_back(0);
  m.global_offsets.push_back(0);

  int64_t f = 0;  // FragTile index: advances in exactly the order of the loops below
  for (int64_t gm = 0; gm < m.block_rows(); ++gm) {
    for (int64_t gk = 0; gk < m.block_cols(); ++gk) {
      int32_t hf = 0, fb = 0;  // counts inside this block tile, unpadded
      for (int s = 0; s < kStripsPerBlockTile; ++s) {
        m.median_offsets.push_back(hf);
        m.median_offsets.push_back(fb);
        for (int q = 0; q < kSlicesPerStrip; ++q) {
          for (int j = 0; j < 2; ++j) {    // K half of the slice
            for (int i = 0; i < 2; ++i) {  // M half: column-major FragTiles, a0 a1 a2 a3
              for (int bit = 0; bit < kElementsPerFragTile; ++bit) {
                const int64_t row = gm * 64 + s * 16 + i * 8 + bit / 8;
                const int64_t col = gk * 64 + q * 16 + j * 8 + bit % 8;
                uint32_t code;
                if (row < rows && col < cols) {
                  const uint16_t v = bf16[row * cols + col];
                  code = element_code(v, start_exp);
                  if (code != 0) {
                    m.sign_mantissa.push_back(sign_mantissa_byte(v));
                  } else {
                    m.full.push_back(v);
                  }
                } else {
                  code = padding_code(start_exp);
                  m.sign_mantissa.push_back(kPaddingByte);
                }
                if (code != 0) ++hf; else ++fb;
                m.bitmap1[f] |= uint64_t{(code >> 0) & 1u} << bit;
                m.bitmap2[f] |= uint64_t{(code >> 1) & 1u} << bit;
                m.bitmap3[f] |= uint64_t{(code >> 2) & 1u} << bit;
              }
              ++f;
            }
          }
        }
      }
      // Pad both segments to 16 bytes so each block tile starts aligned for 16-byte copies.
      const int32_t hf_padded = round_up(hf, 16), fb_padded = round_up(fb, 8);
      m.sign_mantissa.resize(m.sign_mantissa.size() + (hf_padded - hf), 0x00);
      m.full.resize(m.full.size() + (fb_padded - fb), 0x0000);
      const size_t prev = m.global_offsets.size() - 2;
      m.global_offsets.push_back(m.global_offsets[prev] + hf_padded);
      m.global_offsets.push_back(m.global_offsets[prev + 1] + fb_padded);
    }
  }
  return m;
}

}  // namespace zipserv
