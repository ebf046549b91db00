// Inverse maps of tile_layout.h and fragment_layout.h: from a position in a compared array back
// to the kernel's coordinates (block tile, warp, slice, lane, register) and the matrix's.
#include "zipserv/oracle/locate.h"

#include <algorithm>
#include <bit>

#include "zipserv/reference/decode.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::oracle {
namespace {

bool outside(const CompressedMatrix& shape, int64_t row, int64_t col) {
  return row >= shape.rows || col >= shape.cols;
}

}  // namespace

Place locate_fragtile_bit(const CompressedMatrix& shape, int64_t fragtile, int bit) {
  Place p;
  p.fragtile = fragtile;
  p.block_tile = fragtile / kFragTilesPerBlockTile;
  const int within = static_cast<int>(fragtile % kFragTilesPerBlockTile);
  p.warp = within / kFragTilesPerStrip;
  p.slice = (within % kFragTilesPerStrip) / kFragTilesPerSlice;
  p.reg = within % kFragTilesPerSlice;  // a_frag_fragtile(reg) == reg: FragTile i feeds a_i
  if (bit >= 0) {
    p.bit = bit;
    p.lane = bit / 2;  // a_frag_bit(lane, half) = 2 lane + half
    const TileOrigin o = fragtile_origin(fragtile, shape.block_cols());
    p.row = o.row + bit / kFragTileDim;
    p.col = o.col + bit % kFragTileDim;
    p.padding = outside(shape, p.row, p.col);
  }
  return p;
}

Place locate_lane_register(const CompressedMatrix& shape, int64_t index, bool high_half) {
  Place p;
  p.reg = static_cast<int>(index % kARegsPerLane);
  p.lane = static_cast<int>(index / kARegsPerLane % kWarpLanes);
  p.slice = static_cast<int>(index / (kARegsPerLane * kWarpLanes) % kSlicesPerStrip);
  p.warp = static_cast<int>(index / (kARegsPerLane * kWarpLanes * kSlicesPerStrip) % kStripsPerBlockTile);
  p.block_tile = index / (int64_t{kARegsPerLane} * kWarpLanes * kSlicesPerStrip * kStripsPerBlockTile);
  p.fragtile = (p.block_tile * kStripsPerBlockTile + p.warp) * kFragTilesPerStrip +
               kFragTilesPerSlice * p.slice + a_frag_fragtile(p.reg);
  p.bit = a_frag_bit(p.lane, high_half ? 1 : 0);
  const int64_t row0 = p.block_tile / shape.block_cols() * kBlockTileDim + kStripRows * p.warp;
  const int64_t col0 = p.block_tile % shape.block_cols() * kBlockTileDim + kSliceDim * p.slice;
  const FragCoord first = a_frag_coord(p.lane, p.reg, high_half ? 1 : 0);
  const FragCoord other = a_frag_coord(p.lane, p.reg, high_half ? 0 : 1);
  p.row = row0 + first.row;
  p.col = col0 + first.col;
  p.row2 = row0 + other.row;
  p.col2 = col0 + other.col;
  p.padding = outside(shape, p.row, p.col);
  return p;
}

Place locate_element(const CompressedMatrix& shape, int64_t row, int64_t col) {
  const ElementPlace e = place_element(row, col, shape.block_cols());
  Place p;
  p.block_tile = e.block_tile;
  p.warp = e.strip;
  p.slice = e.slice;
  p.reg = e.fragtile_in_slice;
  p.fragtile = e.fragtile;
  p.bit = e.bit;
  p.lane = e.bit / 2;
  p.row = row;
  p.col = col;
  p.padding = outside(shape, row, col);
  return p;
}

Place locate_decoded(const CompressedMatrix& shape, int64_t index) {
  return locate_element(shape, index / shape.cols, index % shape.cols);
}

bool locate_stream_entry(const CompressedMatrix& ref, bool high_frequency, int64_t index, Place& place) {
  place = Place{};
  const int64_t tiles = ref.block_tiles();
  const int column = high_frequency ? 0 : 1;
  if (static_cast<int64_t>(ref.global_offsets.size()) < 2 * (tiles + 1)) return false;
  // The block tile whose padded segment holds `index`: the last t with global_offsets[t] <= index.
  int64_t t = -1;
  for (int64_t u = 0; u < tiles; ++u)
    if (ref.global_offsets[2 * u + column] <= index && index < ref.global_offsets[2 * u + 2 + column]) t = u;
  if (t < 0) return false;
  place.block_tile = t;
  int64_t remaining = index - ref.global_offsets[2 * t + column];
  // Walk the block tile's FragTiles in storage order, counting elements of the stream's class.
  for (int64_t f = t * kFragTilesPerBlockTile; f < (t + 1) * kFragTilesPerBlockTile; ++f) {
    const uint64_t hf = ref.bitmap1[f] | ref.bitmap2[f] | ref.bitmap3[f];
    const uint64_t mine = high_frequency ? hf : ~hf;
    const int64_t count = std::popcount(mine);
    if (remaining < count) {
      uint64_t bits = mine;
      for (int64_t skip = 0; skip < remaining; ++skip) bits &= bits - 1;  // drop the lowest set bits
      place = locate_fragtile_bit(ref, f, std::countr_zero(bits));
      return true;
    }
    remaining -= count;
  }
  return false;  // beyond the block tile's elements: its 16-byte alignment padding
}

Place locate_output(int64_t m_rows, int64_t index) {
  Place p;
  p.row = index % m_rows;
  p.col = index / m_rows;
  p.block_tile = p.row / kBlockTileDim;  // the block tile row: gm
  p.warp = static_cast<int>(p.row % kBlockTileDim / kStripRows);
  // Inverse of c_frag_coord(lane, value) = (lane/4 + 8 (value >> 1), 2 (lane % 4) + (value & 1)).
  const int r = static_cast<int>(p.row % kStripRows), c = static_cast<int>(p.col % 8);
  p.lane = 4 * (r % 8) + c / 2;
  p.reg = 2 * (r / 8) + c % 2;
  return p;
}

}  // namespace zipserv::oracle
