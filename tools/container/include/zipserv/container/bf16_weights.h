/*! \file bf16_weights.h
 *  \brief Every 2-D BF16 weight of a plain or compressed model, one at a time, with its values
 *         and, when it is stored as TCA-TBE, its validated CompressedMatrix.
 *
 *  Meant for tools that check or compare implementations over a whole model (`zipserv check`):
 *  the same loop works whichever kind of file the user passes, and memory holds one weight at
 *  a time, not the model.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "zipserv/reference/compressed_matrix.h"

namespace zipserv::st {

/// \addtogroup container
/// \{

/// One 2-D BF16 weight, valid only during the visit call.
struct Bf16Weight {
  std::string name;                    ///< tensor name in the original model
  int64_t rows = 0;                    ///< logical M
  int64_t cols = 0;                    ///< logical K
  std::span<const uint16_t> values;    ///< rows * cols BF16 patterns, row-major (decoded, checksum checked, if compressed)
  const CompressedMatrix* compressed = nullptr;  ///< the stored TCA-TBE form (validated), or nullptr if stored plainly
};

/// Calls `visit` for every 2-D BF16 tensor of `path`, in file order. For a compressed model,
/// TCA-TBE entries come with their CompressedMatrix and decoded values; entries stored raw come
/// with their values only. Throws ContainerError for a damaged file (before the visit of the
/// damaged tensor).
void for_each_bf16_weight(const std::string& path, const std::function<void(const Bf16Weight&)>& visit);

/// \}

}  // namespace zipserv::st
