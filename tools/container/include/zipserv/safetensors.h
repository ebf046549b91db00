/*! \file safetensors.h
 *  \brief Reading safetensors files: a memory-mapped, fully validated view of the header and
 *         of each tensor's bytes.
 *
 *  A safetensors file is an 8-byte little-endian header length n, n bytes of JSON, then the raw
 *  tensor data. The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 *  (offsets relative to the data section) and may hold a "__metadata__" object of string pairs.
 *  open() checks everything a reader later relies on (lengths, offsets inside the file, shape x
 *  dtype size == byte length, no overlap) and throws ContainerError naming the first problem.
 */
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zipserv::st {

/// \defgroup container Safetensors container
/// \{

/// Thrown for a file that is not valid safetensors (or not a valid compressed model).
class ContainerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One tensor's header entry.
struct TensorInfo {
  std::string name;
  std::string dtype;           ///< as written in the file: "BF16", "F32", "I32", "U8", ...
  std::vector<int64_t> shape;  ///< dimensions, outermost first
  uint64_t begin = 0;          ///< byte offset of the first byte, relative to the data section
  uint64_t end = 0;            ///< one past the last byte
  uint64_t byte_size() const { return end - begin; }
};

/// Bytes per element of a safetensors dtype name; 0 for a name it does not know.
size_t dtype_size(std::string_view dtype);

/// A safetensors file opened read-only and memory-mapped.
class SafetensorsFile {
 public:
  /// Opens and validates `path`; throws ContainerError (message names the path and the problem).
  static SafetensorsFile open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  /// The tensors in the order of their data offsets.
  const std::vector<TensorInfo>& tensors() const;
  /// The "__metadata__" string pairs (empty if absent).
  const std::map<std::string, std::string>& metadata() const;
  /// The tensor called `name`, or nullptr.
  const TensorInfo* find(std::string_view name) const;
  /// The raw bytes of a tensor (a view into the mapping).
  std::span<const uint8_t> bytes(const TensorInfo& tensor) const;
  /// Size of the whole file in bytes.
  uint64_t file_size() const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A 2-D BF16 tensor copied out of a file: row-major rows x cols patterns.
struct Bf16Matrix {
  std::string name;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint16_t> values;
};

/// Every 2-D BF16 tensor of a (plain, uncompressed) safetensors file, in file order.
std::vector<Bf16Matrix> load_bf16_matrices(const std::string& path);

/// \}

}  // namespace zipserv::st
