/*! \file locate.h
 *  \brief Translating a position in a compared array (a bitmap word, a stream entry, a lane's
 *         register, a decoded element, an output) into block tile, warp, slice, lane, register
 *         and matrix (row, col), using only tile_layout.h and fragment_layout.h.
 *
 *  These are the inverse maps of the layout headers, so a divergence is printed in the words of
 *  the kernel that produced it ("block tile 3, warp 2, slice 1, lane 17, a2") and of the matrix
 *  ("row 209, col 98").
 */
#pragma once

#include <cstdint>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/oracle/checkpoint.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// Bit `bit` (0..63) of FragTile `fragtile`: its block tile, warp, slice, the register a_i it
/// feeds, the lane that decodes it (bit / 2) and its matrix (row, col).
Place locate_fragtile_bit(const CompressedMatrix& shape, int64_t fragtile, int bit);

/// Entry `index` of lane_fragments() (see lane_fragment_index()): block tile, warp, slice,
/// lane, register, and both elements' (row, col). `high_half` picks which element is `row/col`
/// (the one that differs); the other goes to `row2/col2`.
Place locate_lane_register(const CompressedMatrix& shape, int64_t index, bool high_half = false);

/// Element `index` of the logical row-major decoded matrix, with the lane and register that
/// hold it in the kernel.
Place locate_decoded(const CompressedMatrix& shape, int64_t index);

/// Element (row, col) of the padded matrix, as locate_decoded() places it.
Place locate_element(const CompressedMatrix& shape, int64_t row, int64_t col);

/// Entry `index` of a stream of `reference` (high_frequency: sign_mantissa, else full): walks
/// the reference's bitmaps to find the element stored there. An entry in a block tile's
/// alignment padding gets the block tile only and note "alignment padding" (returned false).
bool locate_stream_entry(const CompressedMatrix& reference, bool high_frequency, int64_t index, Place& place);

/// Output `index` of Y (M x N column-major): row = m, col = n, block_tile = m / 64 (the block
/// tile row), the warp (strip) that owns row m
/// and, from c_frag_coord(), the lane and accumulator c0..c3 that hold it in an m16n8 tile.
Place locate_output(int64_t m_rows, int64_t index);

/// \}

}  // namespace zipserv::oracle
