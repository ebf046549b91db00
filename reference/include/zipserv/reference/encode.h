/*! \file encode.h
 *  \brief The reference TCA-TBE encoder: a row-major BF16 matrix of any shape in, a
 *         CompressedMatrix out, byte for byte as spec section B describes.
 *
 *  Padding. Rows and columns are padded up to multiples of 64 (the block tile). Every padding
 *  element is encoded as code 1 with sign+mantissa byte 0x00, the cheapest element the format
 *  has (3 bits + 1 byte); it decodes to +2^(lo - 127), the smallest power of two of the window,
 *  and every decoder cuts it away. One window is the exception: start_exp = 254 (lo = 255, a
 *  window that wraps around to exponents 0..5), where code 1 would decode to +Inf and a GEMM
 *  could meet Inf x 0 = NaN; there padding uses code 2 (exponent 0), i.e. +0.0. So padding is
 *  always finite (padding_code()). A GEMM must therefore treat the padded K columns as multiplying zero
 *  activations, which the kernels do by zero-filling X beyond K. Cost: a 172 x 64 matrix pads to
 *  192 x 64 (+11.6 % elements); for shapes already multiple of 64 padding costs nothing.
 *
 *  Two encoders, one output. encode_by_traversal() is the definition: the spec's loop nest,
 *  element by element. encode() and encode_with_start_exp() produce the same bytes block tile
 *  by block tile (see encode_block_tiles.cpp): (1) count each block tile's high-frequency
 *  elements, (2) prefix-sum the padded counts into the global offsets, which fixes where every
 *  block tile's segments go, (3) fill the block tiles independently, so block-tile rows can run
 *  on separate threads (parallel_for.h).
 */
#pragma once

#include <cstdint>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/exponent_window.h"

namespace zipserv {

/// \defgroup stage_encode Encode
/// \{

/// The code every padding element carries: 1 (the window's lowest exponent), except for
/// start_exp = 254, whose code 1 is exponent 255 (+Inf); there 2 (exponent 0, +0.0).
constexpr uint32_t padding_code(uint8_t start_exp) { return start_exp == 254 ? 2u : 1u; }
/// The sign+mantissa byte every padding element carries.
inline constexpr uint8_t kPaddingByte = 0x00;

/// How the block-tile encoder runs. The output never depends on it: any thread count gives the
/// same bytes as encode_by_traversal().
struct EncodeOptions {
  /// Worker threads; each takes the next block-tile row when it is free (parallel_for()). 0 or
  /// less: one per hardware thread (std::thread::hardware_concurrency()).
  int threads = 1;
};

/// Encodes a row-major `rows` x `cols` BF16 matrix with the window that covers the most weights.
/// Throws std::invalid_argument for an empty or too large shape.
CompressedMatrix encode(const uint16_t* bf16, int64_t rows, int64_t cols);

/// encode(), with the histogram, the counting and the filling spread over `options.threads`.
CompressedMatrix encode(const uint16_t* bf16, int64_t rows, int64_t cols, const EncodeOptions& options);

/// Encodes with a caller-chosen window (start_exp = lo - 1 modulo 256); used to test every
/// window position, including those touching exponent 0 and 255.
CompressedMatrix encode_with_start_exp(const uint16_t* bf16, int64_t rows, int64_t cols,
                                       uint8_t start_exp);

/// encode_with_start_exp() on `options.threads` threads.
CompressedMatrix encode_with_start_exp(const uint16_t* bf16, int64_t rows, int64_t cols,
                                       uint8_t start_exp, const EncodeOptions& options);

/// The defining encoder: the literal traversal of spec section B.5, one element at a time,
/// appending each to its stream. About a third of encode()'s speed and kept that way on purpose:
/// it is the text to read, and the block-tile encoder behind encode() is tested to produce
/// exactly its bytes (docs/results/reference.md has both speeds).
CompressedMatrix encode_by_traversal(const uint16_t* bf16, int64_t rows, int64_t cols, uint8_t start_exp);

/// The BF16 pattern whose encoding is the canonical padding element (padding_code(), byte 0)
/// for a window: always finite. Filling padding positions with it lets an encoder treat a
/// padded block tile like any other.
constexpr uint16_t padding_pattern(uint8_t start_exp) {
  return rebuild_bf16(padding_code(start_exp), kPaddingByte, start_exp);
}

/// Step 1 of the block-tile encoder, on its own: the high-frequency count (non-zero codes,
/// padding included, unpadded) of every block tile, in storage order. These counts alone fix the
/// length of every array (the streams are their 16-byte-padded sums), so a compressor can size
/// its output before encoding. The shape must be encodable (check_encode_shape()).
std::vector<int32_t> block_tile_high_frequency_counts(const uint16_t* bf16, int64_t rows, int64_t cols,
                                                      uint8_t start_exp, int threads = 1);

/// Throws std::invalid_argument unless 0 < rows, cols and the padded shape holds fewer than
/// 2^31 elements (every offset of the format is an int32).
void check_encode_shape(int64_t rows, int64_t cols);

/// \}

}  // namespace zipserv
