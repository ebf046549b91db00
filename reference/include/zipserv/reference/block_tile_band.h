/*! \file block_tile_band.h
 *  \brief Bands of block-tile rows: a matrix's TCA-TBE arrays cut into horizontal slices that are
 *         encoded, validated and decoded one at a time, so memory follows the band, not the matrix.
 *
 *  Block tiles are stored row-major over the padded matrix, so the block tiles of block-tile rows
 *  [g0, g1) (matrix rows [64 g0, min(64 g1, M))) are consecutive in every array:
 *
 *      bitmap1/2/3      words  [64 KB g0, 64 KB g1)           KB = padded K / 64
 *      median_offsets   pairs  [4 KB g0, 4 KB g1)
 *      global_offsets   pairs  [KB g0, KB g1]                  (one more than the tiles)
 *      sign_mantissa    bytes  [global_offsets[KB g0].hf, global_offsets[KB g1].hf)
 *      full             values [global_offsets[KB g0].fb, global_offsets[KB g1].fb)
 *
 *  Such a slice is itself the CompressedMatrix of the band's rows, once its global offsets are
 *  counted from the band's first pair instead of from (0, 0): every other array is the same,
 *  because block tiles never share a byte and padding depends only on the logical edges (a band
 *  that is not the last ends on a multiple of 64 rows). Hence:
 *
 *  - the band encoder is encode_with_start_exp() on the band's rows, with the whole matrix's window;
 *    adding the whole matrix's offsets before the band to its global offsets gives the slice;
 *  - validate_band() and decode_band_into() take that band matrix and name tiles and rows of the
 *    whole matrix in their messages, so a damaged band reports what validate() of the whole would.
 */
#pragma once

#include <cstdint>

#include "zipserv/reference/compressed_matrix.h"

namespace zipserv {

/// \addtogroup stage_streams
/// \{

/// Rows in a band of a matrix with `cols` columns: whole block-tile rows, as many as keep a band
/// at or below `max_elements` padded elements, and at least one block-tile row (64 rows).
constexpr int64_t band_rows(int64_t cols, int64_t max_elements) {
  const int64_t per_block_row = kBlockTileDim * pad_to_block_tile(cols);
  const int64_t block_rows = max_elements / per_block_row;
  return kBlockTileDim * (block_rows > 0 ? block_rows : 1);
}

/// The checks of validate() that look at the whole matrix rather than at block tiles: the global
/// offsets start at (0, 0) (`first_pair`) and end at the two streams' lengths (`last_pair`, the
/// pair after the last block tile). A reader that validates band by band runs these first, on the
/// two pairs alone. Throws FormatError with validate()'s messages.
void validate_offset_totals(const int32_t* first_pair, const int32_t* last_pair, int64_t sign_mantissa_size,
                            int64_t full_size);

/// validate() for a band (see the file comment): `band` is the CompressedMatrix of block-tile rows
/// [first_block_row, ...) of a matrix, its global offsets counted from the band's start. Its streams
/// may be shorter than its offsets claim (a reader copies no more than the whole matrix holds):
/// the first tile whose offsets disagree with the bitmaps, or run past the streams, is reported.
/// Messages name block tiles and rows of the whole matrix. Throws FormatError.
void validate_band(const CompressedMatrix& band, int64_t first_block_row);

/// \}

/// \addtogroup stage_decode
/// \{

/// validate_band(), then decodes the band's logical rows into `out` (band.rows x band.cols, row-major).
void decode_band_into(const CompressedMatrix& band, int64_t first_block_row, uint16_t* out);

/// \}

}  // namespace zipserv
