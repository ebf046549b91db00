/*! \file matrix_bands.h
 *  \brief A 2-D BF16 weight read band by band of block-tile rows, from a plain safetensors file or
 *         a compressed model, so that a pass over it (e.g. `zipserv check`) holds one band, never
 *         the tensor.
 *
 *  The bands are the ones compress, decompress and verify use: whole block-tile rows (64 rows),
 *  2^18 padded elements or one block-tile row if the matrix is wider than 4096 columns. A band of
 *  a compressed weight also comes as its own CompressedMatrix (block_tile_band.h): the stored
 *  arrays' slice for those rows, global offsets counted from the band's start, validated as
 *  validate() of the whole matrix would be.
 */
#pragma once

#include <cstdint>
#include <functional>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::st {

/// \addtogroup container
/// \{

/// One band of block-tile rows of a 2-D BF16 weight.
struct MatrixBand {
  int64_t first_row = 0;       ///< its first row in the whole matrix (a multiple of 64)
  int64_t rows = 0;            ///< rows in the band (64 k, fewer only in the last band)
  int64_t cols = 0;            ///< columns of the matrix
  const uint16_t* values = nullptr;  ///< (rows, cols) row-major BF16, 2-byte aligned; valid during the call
  /// A compressed weight's band arrays (valid during the call); nullptr for weights stored as
  /// plain BF16.
  const CompressedMatrix* compressed = nullptr;
};

/// Called with each band in order, top to bottom.
using MatrixBandVisitor = std::function<void(const MatrixBand&)>;

/// Rows in a band of a matrix with `cols` columns (a multiple of 64).
int64_t matrix_band_rows(int64_t cols);

/// Calls `visit` for every band of the 2-D BF16 tensor `tensor` of `file` (none if it has no
/// element). A band at an odd file offset is copied, never the tensor; the pages read are released
/// band by band. Throws ContainerError if the tensor is not 2-D BF16.
void for_each_matrix_band(const SafetensorsFile& file, const TensorInfo& tensor, const MatrixBandVisitor& visit);

/// \}

}  // namespace zipserv::st
