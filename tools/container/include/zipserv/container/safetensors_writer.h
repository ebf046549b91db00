/*! \file safetensors_writer.h
 *  \brief Writing safetensors files: lay the tensors out, serialize the header once, then let
 *         the caller fill each tensor's bytes at a known file offset (in any order, in parallel).
 *
 *  Splitting layout from writing is what lets the compressor stream: every tensor's size is
 *  known from a cheap sizing pass, so the header can be written first and each tensor encoded and
 *  written with pwrite() band by band while only one band per thread is held in memory.
 */
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace zipserv::st {

/// \addtogroup container
/// \{

/// A tensor as it is declared in a header: its bytes come later.
struct TensorDecl {
  std::string name;            ///< the key in the header
  std::string dtype;           ///< a safetensors dtype name, e.g. "BF16", "U64"
  std::vector<int64_t> shape;  ///< outermost first; the product times the dtype size is the byte size
};

/// Where every part of a file being written goes.
struct SafetensorsLayout {
  std::string prefix;                  ///< 8-byte length + JSON header, padded with spaces to 8 bytes
  std::vector<uint64_t> file_offsets;  ///< absolute file offset of each tensor, in declaration order
  std::vector<uint64_t> byte_sizes;    ///< byte size of each tensor
  uint64_t file_size = 0;              ///< prefix + every tensor
};

/// Lays `tensors` out back to back in the order given, after a header that lists them (in that
/// order) and `metadata`. Throws ContainerError for an unknown dtype, a negative dimension or a
/// duplicate name.
SafetensorsLayout layout_safetensors(const std::vector<TensorDecl>& tensors,
                                     const std::map<std::string, std::string>& metadata);

/// A tensor with its bytes, for writing small files in one call.
struct TensorData {
  TensorDecl decl;              ///< name, dtype and shape
  std::vector<uint8_t> bytes;   ///< exactly the declared byte size
};

/// Writes a whole safetensors file in one go (tests and small files); not atomic.
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata);

/// \}

}  // namespace zipserv::st
