/*! \file safetensors.h
 *  \brief Reading safetensors files: a memory-mapped, fully validated view of the header and
 *         of each tensor's bytes.
 *
 *  A safetensors file is an 8-byte little-endian header length n, n bytes of JSON, then the raw
 *  tensor data. The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 *  (offsets relative to the data section) and may hold a "__metadata__" object of string pairs.
 *  open() checks everything a reader later relies on (lengths, offsets inside the file, shape x
 *  dtype size == byte length, no overlap, no gap, no trailing bytes, no duplicate key) and throws
 *  ContainerError naming the first problem. After open() succeeds, bytes() can never point
 *  outside the mapping.
 *
 *  A file that shrinks while it is mapped (another program truncates it) would kill the reader
 *  with SIGBUS at the first read past the new end. Instead such reads give zeros and
 *  check_intact() throws ContainerError ("... shrank ..."); bytes() and release() call it, and so
 *  does every reader of the library before it uses what it read. For this, the first open()
 *  installs a process-wide SIGBUS handler; it takes only faults inside the files it mapped and
 *  passes every other SIGBUS to the handler installed before it (or the default: termination).
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
/// \brief The safetensors reader and writer, the compressed-model format built on them, and the
///        library behind the `zipserv` command.
/// \{

/// Thrown for a file that is not valid safetensors (or not a valid compressed model).
class ContainerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One tensor's header entry.
struct TensorInfo {
  std::string name;            ///< the key in the header
  std::string dtype;           ///< as written in the file: "BF16", "F32", "I32", "U8", ...
  std::vector<int64_t> shape;  ///< dimensions, outermost first
  uint64_t begin = 0;          ///< byte offset of the first byte, relative to the data section
  uint64_t end = 0;            ///< one past the last byte
  /// Number of bytes the tensor occupies.
  uint64_t byte_size() const { return end - begin; }
};

/// Bytes per element of a safetensors dtype name; 0 for a name it does not know.
size_t dtype_size(std::string_view dtype);

/// Largest JSON header accepted (the same cap the safetensors project uses): a length field
/// beyond it is damage, not a header, and must not make the reader allocate gigabytes.
inline constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

/// A parsed and validated safetensors JSON header.
struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;              ///< sorted by data offset (file order)
  std::map<std::string, std::string> metadata;  ///< "__metadata__" pairs (empty if absent)
  uint64_t data_size = 0;                       ///< bytes the tensors cover: the last `end`
};

/// Parses and validates a header's JSON text on its own, without a file: every entry must be
/// well formed, its dtype known, shape x dtype size == its byte length, and the tensors must tile
/// [0, data_size) without gap or overlap. `where` prefixes every error message.
/// Used by open() and to re-check an original header carried inside a compressed model.
SafetensorsHeader parse_header(std::string_view json, const std::string& where);

/// A safetensors file opened read-only and memory-mapped.
class SafetensorsFile {
 public:
  /// Opens and validates `path`; throws ContainerError (message names the path and the problem).
  static SafetensorsFile open(const std::string& path);
  /// Validates a whole safetensors file held in memory, exactly as open() validates one on disk,
  /// and keeps its own copy of the bytes; `name` stands for the path in messages. The entry
  /// point for readers of bytes that never touch a file system (fuzzing, network buffers).
  static SafetensorsFile from_bytes(std::span<const uint8_t> bytes, const std::string& name);

  /// Moves the mapping; the source is left empty.
  SafetensorsFile(SafetensorsFile&&) noexcept;
  /// Moves the mapping; the previous one is unmapped.
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  /// The tensors in the order of their data offsets.
  const std::vector<TensorInfo>& tensors() const;
  /// The "__metadata__" string pairs (empty if absent).
  const std::map<std::string, std::string>& metadata() const;
  /// The tensor called `name`, or nullptr.
  const TensorInfo* find(std::string_view name) const;
  /// The raw bytes of a tensor (a view into the mapping), after check_intact().
  std::span<const uint8_t> bytes(const TensorInfo& tensor) const;
  /// Throws ContainerError naming the file if it shrank since open(): it is now shorter, or a
  /// read of the mapping went past its new end (and read zeros, not the file). A reader of
  /// bytes() calls it after reading and before using what it read. Cheap: one fstat.
  void check_intact() const;
  /// Size of the whole file in bytes.
  uint64_t file_size() const;
  /// Lets the kernel drop the tensor's pages from memory (they are read back from the file if
  /// touched again). Streaming tools call it after each tensor, so a model of many gigabytes is
  /// never resident at once. Does nothing for a file made by from_bytes(). Calls check_intact()
  /// first: a streaming reader releases what it has just read.
  void release(const TensorInfo& tensor) const;
  /// release() for part of a tensor, e.g. a band that has been read: `bytes` must lie inside the
  /// mapping (a span that bytes() returned, or part of one); pages it shares with bytes outside
  /// it stay.
  void release(std::span<const uint8_t> bytes) const;
  /// The JSON header exactly as stored (n bytes, trailing padding included).
  std::string_view header_json() const;
  /// Offset of the data section from the start of the file: 8 + n.
  uint64_t data_offset() const;
  /// The path the file was opened from.
  const std::string& path() const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A 2-D BF16 tensor copied out of a file: row-major rows x cols patterns.
struct Bf16Matrix {
  std::string name;              ///< tensor name
  int64_t rows = 0;              ///< shape[0]
  int64_t cols = 0;              ///< shape[1]
  std::vector<uint16_t> values;  ///< rows * cols BF16 bit patterns
};

/// Every 2-D BF16 tensor of a (plain, uncompressed) safetensors file, in file order.
std::vector<Bf16Matrix> load_bf16_matrices(const std::string& path);

/// \}

}  // namespace zipserv::st
