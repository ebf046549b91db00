/*! \file tile_layout.h
 *  \brief The four-level tile hierarchy of TCA-TBE and where each matrix element sits in it.
 *
 *  From small to large (spec section B.5):
 *
 *      FragTile         8 x 8    one word in each of the three bitmaps; element k = 8r + c
 *      slice           16 x 16   one mma A operand: FragTiles stored column-major (a0 a1 a2 a3)
 *      strip           16 x 64   one warp's share of a block tile: 4 slices left to right
 *      block tile      64 x 64   one thread block per K step: 4 strips top to bottom;
 *                                block tiles are stored row-major over the padded matrix
 *
 *  A matrix of any logical shape M x K is padded up to multiples of 64 in both directions; the
 *  padding's content is fixed by the encoder (see encode.h) and cut away by every decoder.
 *
 *  FragTile linear index (the index into each bitmap array):
 *
 *      f = ((gm * KB + gk) * 4 + s) * 16 + 4q + 2j + i
 *
 *  with KB = padded K / 64 and, for a matrix element (R, C):
 *      gm = R / 64, s = (R % 64) / 16, i = (R % 16) / 8, r = R % 8
 *      gk = C / 64, q = (C % 64) / 16, j = (C % 16) / 8, c = C % 8,   bit = 8r + c
 */
#pragma once

#include <cstdint>

#include "zipserv/reference/host_device.h"

namespace zipserv {

/// \defgroup stage_layout Tile hierarchy
/// \{

inline constexpr int kFragTileDim = 8;            ///< FragTile is 8 x 8
inline constexpr int kSliceDim = 16;              ///< slice (mma A operand) is 16 x 16
inline constexpr int kStripRows = 16;             ///< strip is 16 x 64
inline constexpr int kBlockTileDim = 64;          ///< block tile is 64 x 64
inline constexpr int kFragTilesPerSlice = 4;      ///< 2 x 2, column-major
inline constexpr int kSlicesPerStrip = 4;         ///< left to right along K
inline constexpr int kStripsPerBlockTile = 4;     ///< top to bottom along M, one per warp
inline constexpr int kFragTilesPerStrip = kFragTilesPerSlice * kSlicesPerStrip;          ///< 16
inline constexpr int kFragTilesPerBlockTile = kFragTilesPerStrip * kStripsPerBlockTile;  ///< 64
inline constexpr int kElementsPerFragTile = 64;              ///< 8 x 8, bit k = 8r + c
inline constexpr int kElementsPerBlockTile = kBlockTileDim * kBlockTileDim;  ///< 4096

/// Rounds n up to a multiple of the block tile (64).
ZIPSERV_HD constexpr int64_t pad_to_block_tile(int64_t n) {
  return (n + kBlockTileDim - 1) / kBlockTileDim * kBlockTileDim;
}

/// Where one element of the (padded) matrix lives in the tile hierarchy.
struct ElementPlace {
  int64_t block_tile;   ///< t = gm * KB + gk, row-major over block tiles
  int strip;            ///< s: 0..3, the warp that owns it
  int slice;            ///< q: 0..3, the k16 step inside the strip
  int fragtile_in_slice;///< 2j + i: 0..3, the A register a_(2j+i) it lands in
  int bit;              ///< 8r + c: 0..63, its bit in the FragTile's bitmap words
  int64_t fragtile;     ///< f: the index into the bitmap arrays
};

/// Places element (row, col) of a matrix whose padded width holds `block_cols` block tiles.
ZIPSERV_HD constexpr ElementPlace place_element(int64_t row, int64_t col, int64_t block_cols) {
  const int64_t gm = row / 64, gk = col / 64;
  const int s = static_cast<int>((row % 64) / 16), q = static_cast<int>((col % 64) / 16);
  const int i = static_cast<int>((row % 16) / 8), j = static_cast<int>((col % 16) / 8);
  const int bit = static_cast<int>(8 * (row % 8) + (col % 8));
  const int64_t t = gm * block_cols + gk;
  const int in_slice = 2 * j + i;
  return ElementPlace{t, s, q, in_slice, bit, (t * 4 + s) * 16 + 4 * q + in_slice};
}

/// Row and column of element (0, 0) of a FragTile in the padded matrix.
struct TileOrigin {
  int64_t row;  ///< M index of the FragTile's first row
  int64_t col;  ///< K index of the FragTile's first column
};
/// The origin of FragTile `fragtile` (the inverse of place_element: element `bit` of it is
/// (row + bit / 8, col + bit % 8)).
ZIPSERV_HD constexpr TileOrigin fragtile_origin(int64_t fragtile, int64_t block_cols) {
  const int64_t t = fragtile / kFragTilesPerBlockTile;
  const int within = static_cast<int>(fragtile % kFragTilesPerBlockTile);
  const int s = within / 16, q = (within % 16) / 4, in_slice = within % 4;
  const int i = in_slice & 1, j = in_slice >> 1;
  return TileOrigin{(t / block_cols) * 64 + 16 * s + 8 * i, (t % block_cols) * 64 + 16 * q + 8 * j};
}

/// \}

}  // namespace zipserv
