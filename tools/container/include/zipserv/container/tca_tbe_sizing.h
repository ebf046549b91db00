/*! \file tca_tbe_sizing.h
 *  \brief The exact size of every TCA-TBE array of a matrix, without encoding it.
 *
 *  One pass over the weights gives the exponent histogram and hence the window; a second counts,
 *  per 64 x 64 block tile, the weights inside the window. Those counts alone fix every array's
 *  length (spec section B.8): the bitmaps and offset arrays depend only on the shape, the two
 *  streams on the padded per-tile counts. Knowing them up front lets the compressor write the
 *  whole output header before encoding a single tensor, and lets `zipserv inspect` say what
 *  compression would give for a plain model at the cost of two reads.
 *
 *  REFERENCE: every number here equals the matching size of zipserv::encode()'s result
 *  (tests/container/tca_tbe_sizing_test.cpp checks it on every fixture tensor).
 */
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "zipserv/reference/exponent_window.h"

namespace zipserv::st {

/// \addtogroup container
/// \{

/// The array sizes encode() will produce for one matrix.
struct TcaTbeSizes {
  int64_t rows = 0;                ///< logical M
  int64_t cols = 0;                ///< logical K
  ExponentWindow window;           ///< the window encode() picks (max coverage, lowest lo)
  int64_t block_tiles = 0;         ///< T
  int64_t fragtiles = 0;           ///< words in each bitmap
  int64_t sign_mantissa_bytes = 0; ///< length of the high-frequency stream, padding included
  int64_t full_values = 0;         ///< length of the fallback stream, padding included
  /// Bytes of all arrays together; equals CompressedMatrix::payload_bytes().
  int64_t payload_bytes() const;
  /// payload_bytes() * 8 / (rows * cols); equals CompressedMatrix::bits_per_weight().
  double bits_per_weight() const;
};

/// True if `rows` x `cols` can be encoded at all (positive, padded below 2^31 elements).
bool tca_tbe_shape_supported(int64_t rows, int64_t cols);

/// Sizes the TCA-TBE encoding of a row-major BF16 matrix; the shape must be supported.
TcaTbeSizes size_tca_tbe(const uint16_t* bf16, int64_t rows, int64_t cols);

/// size_tca_tbe() on a tensor's little-endian bytes as stored (rows * cols * 2 of them, at any
/// alignment), read in bands of block-tile rows: memory stays at one band whatever the tensor's
/// size, even when its offset in the file is odd and each band has to be copied.
/// `band_read`, if given, is called with each band's bytes once they have been read (twice per
/// band: the histogram pass, then the counting pass), e.g. to release the pages of a mapping.
TcaTbeSizes size_tca_tbe(std::span<const uint8_t> bytes, int64_t rows, int64_t cols,
                         const std::function<void(std::span<const uint8_t>)>& band_read = {});

/// \}

}  // namespace zipserv::st
