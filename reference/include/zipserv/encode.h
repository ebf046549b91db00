/*! \file encode.h
 *  \brief The reference TCA-TBE encoder: a row-major BF16 matrix of any shape in, a
 *         CompressedMatrix out, byte for byte as spec section B describes.
 *
 *  Padding. Rows and columns are padded up to multiples of 64 (the block tile). Every padding
 *  element is encoded as code 1 with sign+mantissa byte 0x00, the cheapest element the format
 *  has (3 bits + 1 byte); it decodes to 2^(start_exp + 1 - 127), a finite value, and every
 *  decoder cuts it away. A GEMM must therefore treat the padded K columns as multiplying zero
 *  activations, which the kernels do by zero-filling X beyond K. Cost: a 172 x 64 matrix pads to
 *  192 x 64 (+11.6 % elements); for shapes already multiple of 64 padding costs nothing.
 */
#pragma once

#include <cstdint>

#include "zipserv/compressed_matrix.h"
#include "zipserv/exponent_window.h"

namespace zipserv {

/// \defgroup stage_encode Encode
/// \{

/// The code every padding element carries.
inline constexpr uint32_t kPaddingCode = 1;
/// The sign+mantissa byte every padding element carries.
inline constexpr uint8_t kPaddingByte = 0x00;

/// Encodes a row-major `rows` x `cols` BF16 matrix with the window that covers the most weights.
/// Throws std::invalid_argument for an empty or too large shape.
CompressedMatrix encode(const uint16_t* bf16, int64_t rows, int64_t cols);

/// Encodes with a caller-chosen window (start_exp = lo - 1 modulo 256); used to test every
/// window position, including those touching exponent 0 and 255.
CompressedMatrix encode_with_start_exp(const uint16_t* bf16, int64_t rows, int64_t cols,
                                       uint8_t start_exp);

/// \}

}  // namespace zipserv
