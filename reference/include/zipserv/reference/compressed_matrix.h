/*! \file compressed_matrix.h
 *  \brief One weight matrix in TCA-TBE form: three bitmaps, two element streams, two offset
 *         arrays and the window byte, exactly as spec section B lays them out.
 *
 *  Sizes, for a logical M x K matrix padded to Mp x Kp (multiples of 64), T = (Mp/64)(Kp/64):
 *
 *      bitmap1/2/3      uint64   (Mp/8)(Kp/8) each      bit k of word f: bit 0/1/2 of the code
 *      sign_mantissa    uint8    global_offsets[2T]     high-frequency weights, 16-B padded per block tile
 *      full             uint16   global_offsets[2T+1]   fallback weights, 16-B padded per block tile
 *      median_offsets   int32    2 * 4T                 (hf, full) before strip s, within block tile t
 *      global_offsets   int32    2 * (T + 1)            (hf, full) before block tile t, padded
 *
 *  The official code's per-FragTile offset array is dropped: no kernel reads it.
 *  Nothing in a CompressedMatrix is trusted before `validate()` has passed: the GPU kernel reads
 *  the offsets blindly, so every decoder checks them first.
 */
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/reference/tile_layout.h"

namespace zipserv {

/// \defgroup stage_streams Streams and offsets
/// \{

/// Thrown when a compressed matrix (or a file holding one) is inconsistent; the message names
/// the first thing that is wrong.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A weight matrix in TCA-TBE form.
struct CompressedMatrix {
  int64_t rows = 0;  ///< logical M (output features)
  int64_t cols = 0;  ///< logical K (input features)
  uint8_t start_exp = 0;  ///< window is [start_exp + 1, start_exp + 7], modulo 256

  std::vector<uint64_t> bitmap1;       ///< (Mp/8 * Kp/8) code bit 0, one word per FragTile
  std::vector<uint64_t> bitmap2;       ///< (Mp/8 * Kp/8) code bit 1
  std::vector<uint64_t> bitmap3;       ///< (Mp/8 * Kp/8) code bit 2
  std::vector<uint8_t> sign_mantissa;  ///< high-frequency stream, (sign << 7) | mantissa
  std::vector<uint16_t> full;          ///< fallback stream, raw BF16 patterns
  std::vector<int32_t> median_offsets; ///< (4T, 2) unpadded counts before each strip
  std::vector<int32_t> global_offsets; ///< (T + 1, 2) padded prefix sums over block tiles

  int64_t padded_rows() const { return pad_to_block_tile(rows); }  ///< Mp
  int64_t padded_cols() const { return pad_to_block_tile(cols); }  ///< Kp
  int64_t block_rows() const { return padded_rows() / kBlockTileDim; }  ///< Mp / 64
  int64_t block_cols() const { return padded_cols() / kBlockTileDim; }  ///< KB = Kp / 64
  int64_t block_tiles() const { return block_rows() * block_cols(); }   ///< T
  /// Number of FragTiles: (Mp/8)(Kp/8), the length of each bitmap array.
  int64_t fragtiles() const { return padded_rows() / 8 * (padded_cols() / 8); }  ///< bitmap words per plane

  /// Largest padded high-frequency segment of any block tile (sizes a kernel's shared memory).
  int32_t max_hf_per_block_tile() const;
  /// Largest padded fallback segment of any block tile.
  int32_t max_full_per_block_tile() const;

  /// Bytes of every array the format stores (bitmaps, streams, both offset arrays).
  int64_t payload_bytes() const;
  /// payload_bytes() * 8 / (rows * cols): the cost of one logical weight.
  double bits_per_weight() const;
};

/// Checks every array against the others and against the shape; throws FormatError naming the
/// first inconsistency. After it passes, every offset a decoder derives from the bitmaps stays
/// inside the streams, so decoding cannot read out of bounds.
///
/// It also insists on the canonical form, the one encoding the encoder writes for a given window:
/// stream padding is zero, padding elements are padding_code() with byte 0, and every value in the
/// `full` stream has an exponent outside the window (an in-window weight stored as a fallback
/// would decode correctly but is refused, so that equal weights and window give equal bytes).
/// What it cannot see: a code changed to another non-zero code changes one exponent and keeps
/// every count (the format has no checksum; the container adds one).
void validate(const CompressedMatrix& m);

/// Largest logical dimension accepted (offsets are int32, so Mp * Kp must stay below 2^31).
inline constexpr int64_t kMaxPaddedElements = (int64_t{1} << 31) - 1;

/// True if a rows x cols matrix has a TCA-TBE form: both dimensions positive and the padded
/// shape below 2^31 elements (every offset of the format is an int32). The one shape rule that
/// the encoder, validate() and the container all apply.
constexpr bool encodable_shape(int64_t rows, int64_t cols) {
  return rows > 0 && cols > 0 && rows <= kMaxPaddedElements && cols <= kMaxPaddedElements &&
         pad_to_block_tile(rows) <= kMaxPaddedElements / pad_to_block_tile(cols);
}

/// \}

}  // namespace zipserv
