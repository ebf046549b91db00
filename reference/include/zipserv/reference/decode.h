/*! \file decode.h
 *  \brief The reference TCA-TBE decoder: whole matrices, single elements, and the A-fragment
 *         registers each warp lane would hold.
 *
 *  Every entry point validates the CompressedMatrix first (validate()), so damaged input is
 *  reported as a FormatError, never decoded into garbage or read out of bounds.
 *  (decode_element() is the exception: it assumes validate() already passed.)
 */
#pragma once

#include <cstdint>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/fragment_layout.h"

namespace zipserv {

/// \defgroup stage_decode Decode
/// \{

/// How the block-tile decoder runs. The output never depends on it.
struct DecodeOptions {
  /// Worker threads; each takes the next block-tile row when it is free (parallel_for()). 0 or
  /// less: one per hardware thread.
  int threads = 1;
};

/// Decodes to the logical row-major rows x cols BF16 matrix.
std::vector<uint16_t> decode(const CompressedMatrix& m);

/// decode() on `options.threads` threads.
std::vector<uint16_t> decode(const CompressedMatrix& m, const DecodeOptions& options);

/// Decodes into `out`, which holds rows * cols patterns, row-major.
void decode_into(const CompressedMatrix& m, uint16_t* out);

/// decode_into() on `options.threads` threads.
void decode_into(const CompressedMatrix& m, uint16_t* out, const DecodeOptions& options);

/// The defining decoder: the encoder's traversal run backwards with one cursor per stream,
/// element by element (decode.cpp). decode() and decode_into() give the same values block
/// tile by block tile (decode_block_tiles.cpp).
std::vector<uint16_t> decode_by_traversal(const CompressedMatrix& m);

/// Decodes the padded Mp x Kp matrix, padding included (row-major); used to build fragments.
std::vector<uint16_t> decode_padded(const CompressedMatrix& m);

/// Decodes one element by random access: block-tile offset + strip offset + popcounts of the
/// FragTiles before it in its strip + popcount of the bits before it in its FragTile.
/// Shows where any element's bytes live. Does not validate (call validate() once first).
uint16_t decode_element(const CompressedMatrix& m, int64_t row, int64_t col);

/// \}

/// \addtogroup stage_lane_fragments
/// \{

/// Number of A-fragment registers in a whole matrix: T block tiles x 4 strips (warps) x
/// 4 slices x 32 lanes x 4 registers.
int64_t lane_fragment_count(const CompressedMatrix& m);

/// The A-fragment registers every lane of every warp holds after decoding, built from the
/// decoded padded matrix through a_frag_coord(): register = lo | hi << 16.
std::vector<uint32_t> lane_fragments(const CompressedMatrix& m);

/// \}

}  // namespace zipserv
