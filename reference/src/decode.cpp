// The defining decoder: the encoder's traversal run backwards, with one cursor per stream;
// also random access to one element and the lane fragments. The block-tile decoder behind
// decode() is in decode_block_tiles.cpp.
#include "zipserv/reference/decode.h"

#include <bit>

#include "zipserv/reference/element_code.h"
#include "zipserv/reference/fragment_layout.h"

namespace zipserv {
namespace {

// Calls visit(row, col, value) for every element of the padded matrix, in storage order.
template <typename Visit>
void for_each_decoded(const CompressedMatrix& m, Visit visit) {
  int64_t f = 0;
  for (int64_t gm = 0; gm < m.block_rows(); ++gm) {
    for (int64_t gk = 0; gk < m.block_cols(); ++gk) {
      const int64_t t = gm * m.block_cols() + gk;
      int64_t hf = m.global_offsets[2 * t], fb = m.global_offsets[2 * t + 1];
      for (int s = 0; s < kStripsPerBlockTile; ++s)
        for (int q = 0; q < kSlicesPerStrip; ++q)
          for (int j = 0; j < 2; ++j)
            for (int i = 0; i < 2; ++i, ++f)
              for (int bit = 0; bit < kElementsPerFragTile; ++bit) {
                const uint32_t code = code_from_bitmaps(m.bitmap1[f], m.bitmap2[f], m.bitmap3[f], bit);
                const uint16_t v = code ? rebuild_bf16(code, m.sign_mantissa[hf++], m.start_exp) : m.full[fb++];
                visit(gm * 64 + s * 16 + i * 8 + bit / 8, gk * 64 + q * 16 + j * 8 + bit % 8, v);
              }
    }
  }
}

}  // namespace

std::vector<uint16_t> decode_by_traversal(const CompressedMatrix& m) {
  validate(m);
  std::vector<uint16_t> out(static_cast<size_t>(m.rows * m.cols));  // (rows, cols) bf16
  for_each_decoded(m, [&](int64_t row, int64_t col, uint16_t v) {
    if (row < m.rows && col < m.cols) out[row * m.cols + col] = v;
  });
  return out;
}

std::vector<uint16_t> decode_padded(const CompressedMatrix& m) {
  validate(m);
  const int64_t kp = m.padded_cols();
  std::vector<uint16_t> out(static_cast<size_t>(m.padded_rows() * kp));
  for_each_decoded(m, [&](int64_t row, int64_t col, uint16_t v) { out[row * kp + col] = v; });
  return out;
}

uint16_t decode_element(const CompressedMatrix& m, int64_t row, int64_t col) {
  const ElementPlace p = place_element(row, col, m.block_cols());
  const uint64_t b1 = m.bitmap1[p.fragtile], b2 = m.bitmap2[p.fragtile], b3 = m.bitmap3[p.fragtile];
  // High-frequency elements before this one: the strip's start (median offset), then every
  // FragTile stored earlier in the strip, then the bits below this one in its own FragTile.
  int64_t hf_before = m.median_offsets[2 * (4 * p.block_tile + p.strip)];
  const int64_t strip_first = (4 * p.block_tile + p.strip) * kFragTilesPerStrip;
  for (int64_t f = strip_first; f < p.fragtile; ++f)
    hf_before += std::popcount(m.bitmap1[f] | m.bitmap2[f] | m.bitmap3[f]);
  const uint64_t below = (uint64_t{1} << p.bit) - 1;
  hf_before += std::popcount((b1 | b2 | b3) & below);
  // Everything else before it in the block tile is a fallback element.
  const int64_t position = p.strip * 1024 + (p.fragtile - strip_first) * 64 + p.bit;
  const int64_t fb_before = position - hf_before;

  const uint32_t code = code_from_bitmaps(b1, b2, b3, p.bit);
  if (code != 0) return rebuild_bf16(code, m.sign_mantissa[m.global_offsets[2 * p.block_tile] + hf_before], m.start_exp);
  return m.full[m.global_offsets[2 * p.block_tile + 1] + fb_before];
}

int64_t lane_fragment_count(const CompressedMatrix& m) {
  return m.block_tiles() * kStripsPerBlockTile * kSlicesPerStrip * kWarpLanes * kARegsPerLane;
}

std::vector<uint32_t> lane_fragments(const CompressedMatrix& m) {
  const std::vector<uint16_t> w = decode_padded(m);  // (Mp, Kp) row-major
  const int64_t kp = m.padded_cols();
  std::vector<uint32_t> regs(static_cast<size_t>(lane_fragment_count(m)));
  for (int64_t t = 0; t < m.block_tiles(); ++t)
    for (int s = 0; s < kStripsPerBlockTile; ++s)
      for (int q = 0; q < kSlicesPerStrip; ++q) {
        const int64_t row0 = t / m.block_cols() * 64 + 16 * s, col0 = t % m.block_cols() * 64 + 16 * q;
        for (int lane = 0; lane < kWarpLanes; ++lane)
          for (int reg = 0; reg < kARegsPerLane; ++reg) {
            const FragCoord lo = a_frag_coord(lane, reg, 0), hi = a_frag_coord(lane, reg, 1);
            regs[lane_fragment_index(t, s, q, lane, reg)] =
                uint32_t{w[(row0 + lo.row) * kp + col0 + lo.col]} |
                uint32_t{w[(row0 + hi.row) * kp + col0 + hi.col]} << 16;
          }
      }
  return regs;
}

}  // namespace zipserv
