/*! \file compression_plan.h
 *  \brief Internal: what compress_file() will do with each tensor, and the compressed layout that follows.
 *
 *  inspect() uses the same plan, so what `zipserv inspect` predicts for a plain model is exactly
 *  what `zipserv compress` produces.
 */
#pragma once

#include <map>
#include <string>
#include <vector>

#include "zipserv/container/compressed_model.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/container/safetensors_writer.h"
#include "zipserv/container/tca_tbe_sizing.h"

namespace zipserv::st::detail {

/// The decision for one original tensor.
struct TensorPlan {
  const TensorInfo* tensor = nullptr;  ///< the original tensor
  Storage storage = Storage::raw;      ///< how it will be stored
  std::string reason;     ///< why it stays raw (empty for tca_tbe)
  bool sized = false;     ///< `sizes` is meaningful (a 2-D BF16 tensor of supported shape)
  TcaTbeSizes sizes;      ///< its TCA-TBE array sizes
  std::string checksum;   ///< XXH3-128 of its original bytes
};

/// Why a tensor of this dtype and shape is kept raw whatever its values ("not a 2-D BF16 tensor",
/// "empty", "too large to encode ..."); empty if TCA-TBE can encode it. The compressor's plan and
/// inspect() of a compressed model give the same words.
std::string raw_by_shape_reason(const std::string& dtype, const std::vector<int64_t>& shape);

/// The reason a tensor that TCA-TBE could encode is kept raw.
inline constexpr const char* kWouldNotShrinkReason = "TCA-TBE would not shrink it";

/// XXH3-128 of a tensor's mapped bytes, read in pieces whose pages are released as it goes.
std::string checksum_in_pieces(const SafetensorsFile& file, std::span<const uint8_t> bytes);

/// Plans every tensor of `file` (in parallel; one sizing pass per 2-D BF16 tensor).
std::vector<TensorPlan> plan_compression(const SafetensorsFile& file, int threads, bool progress);

/// The compressed file that the plans describe.
struct CompressedLayout {
  std::vector<TensorDecl> decls;   ///< every stored tensor, in file order
  std::vector<size_t> first_decl;  ///< per plan: index of its first decl
  SafetensorsLayout layout;        ///< header bytes and offsets
};

/// Lays out the compressed model of `file` given its plans (header metadata included).
CompressedLayout layout_compressed(const SafetensorsFile& file, const std::vector<TensorPlan>& plans);

}  // namespace zipserv::st::detail
