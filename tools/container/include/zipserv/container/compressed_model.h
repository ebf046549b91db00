/*! \file compressed_model.h
 *  \brief The compressed-model format: a safetensors file in which each 2-D BF16 weight is
 *         stored as its seven TCA-TBE arrays, and everything needed to give back the original
 *         file byte for byte.
 *
 *  Layout. A compressed model is itself valid safetensors, so any reader can open it. For a
 *  compressed weight NAME of logical shape M x K (padded to Mp x Kp, T = Mp/64 * Kp/64):
 *
 *      NAME.zipserv.bitmap1        U64   [Mp/8 * Kp/8]
 *      NAME.zipserv.bitmap2        U64   [Mp/8 * Kp/8]
 *      NAME.zipserv.bitmap3        U64   [Mp/8 * Kp/8]
 *      NAME.zipserv.global_offsets I32   [T + 1, 2]
 *      NAME.zipserv.median_offsets I32   [4T, 2]
 *      NAME.zipserv.full           BF16  [global_offsets[T][1]]
 *      NAME.zipserv.sign_mantissa  U8    [global_offsets[T][0]]
 *
 *  Every array's byte size is a multiple of 8, so a run of compressed weights keeps 8-byte
 *  alignment. Any other tensor (not 2-D BF16, too large, or one the format would not shrink:
 *  payload >= original bytes) is stored under its own name exactly as it was.
 *
 *  Header metadata (all strings, as safetensors requires):
 *
 *      zipserv.format                    "zipserv-tca-tbe"
 *      zipserv.format_version            "1"
 *      zipserv.original_header           the original JSON header, verbatim
 *      zipserv.original_header_xxh3_128  its checksum
 *      zipserv.tensor.NAME               {"encoding":"tca-tbe"|"raw","dtype":..,"shape":[..],
 *                                         "start_exp":N (tca-tbe only),"xxh3_128":".."}
 *
 *  plus the original "__metadata__" pairs, copied so tools that look for e.g. "format": "pt"
 *  still find it. Decompressing writes the original header, then every tensor at its original
 *  offset: the result is the original file, byte for byte.
 *
 *  Trust. Opening cross-checks the original header against the per-tensor metadata and every
 *  stored tensor's dtype and shape against what that metadata implies. Reading a matrix runs
 *  zipserv::validate() (the GPU kernel follows offsets blindly); decoding runs the same checks
 *  band by band of block-tile rows (zipserv::validate_band(), same messages) and checks the
 *  XXH3-128 of the bytes it gives back: damage is reported, never passed on.
 *
 *  Memory. Compressing, decompressing and verifying hold one band of block-tile rows per thread
 *  (2^18 padded elements, or 64 rows if the matrix is wider than 4096 columns), never a tensor:
 *  at most about 4.5 bytes per padded element of a band (the band's arrays, its decoded or copied
 *  weights), i.e. about 1.2 MiB per thread up to 4096 columns and 4.5 MiB at 16384. The files are
 *  memory-mapped and the pages read are released band by band.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::st {

/// \addtogroup container
/// \{

inline constexpr std::string_view kFormatKey = "zipserv.format";                ///< metadata key
inline constexpr std::string_view kFormatName = "zipserv-tca-tbe";              ///< its value
inline constexpr std::string_view kFormatVersionKey = "zipserv.format_version";  ///< metadata key
inline constexpr std::string_view kFormatVersion = "1";                         ///< its value
inline constexpr std::string_view kOriginalHeaderKey = "zipserv.original_header";  ///< metadata key
inline constexpr std::string_view kOriginalHeaderChecksumKey = "zipserv.original_header_xxh3_128";  ///< metadata key
inline constexpr std::string_view kTensorKeyPrefix = "zipserv.tensor.";  ///< + NAME: per-tensor record

/// The seven arrays of one compressed weight, in the order they are stored.
inline constexpr const char* kArraySuffixes[7] = {
    ".zipserv.bitmap1", ".zipserv.bitmap2",        ".zipserv.bitmap3", ".zipserv.global_offsets",
    ".zipserv.median_offsets", ".zipserv.full", ".zipserv.sign_mantissa"};

/// How one original tensor is kept.
enum class Storage {
  tca_tbe,  ///< as the seven TCA-TBE arrays
  raw,      ///< under its own name, bytes unchanged
};

/// One original tensor of a compressed model.
struct ModelEntry {
  std::string name;            ///< the original tensor name
  std::string dtype;           ///< original dtype
  std::vector<int64_t> shape;  ///< original (logical) shape
  Storage storage = Storage::raw;  ///< how it is kept
  uint8_t start_exp = 0;       ///< window byte (tca_tbe only)
  std::string checksum;        ///< XXH3-128 hex of the original bytes
  uint64_t original_begin = 0; ///< offset in the original data section
  uint64_t original_bytes = 0; ///< byte size in the original file
  uint64_t stored_bytes = 0;   ///< bytes it occupies in the compressed file
};

/// True if `file`'s metadata marks it as a compressed model (whatever its version).
bool is_compressed_model(const SafetensorsFile& file);

/// A compressed model opened read-only, its structure validated.
class CompressedModel {
 public:
  /// Opens `path`; throws ContainerError if it is not a valid compressed model (a plain
  /// safetensors file included: the message says so).
  static CompressedModel open(const std::string& path);
  /// open() on a whole compressed model held in memory (a copy is kept; `name` stands for the
  /// path in messages): the same checks, no file system involved.
  static CompressedModel from_bytes(std::span<const uint8_t> bytes, const std::string& name);
  /// Moves the mapping.
  CompressedModel(CompressedModel&&) noexcept;
  /// Moves the mapping.
  CompressedModel& operator=(CompressedModel&&) noexcept;
  ~CompressedModel();

  /// Every original tensor, in original file order.
  const std::vector<ModelEntry>& entries() const;
  /// The entry called `name`, or nullptr.
  const ModelEntry* find(std::string_view name) const;
  /// The compressed weight as a CompressedMatrix, after zipserv::validate() passed; if
  /// `verify_checksum`, it is also decoded once and checked against the original checksum.
  /// Throws ContainerError for a raw entry or any inconsistency.
  CompressedMatrix read_matrix(const ModelEntry& entry, bool verify_checksum = true) const;
  /// Writes the entry's original bytes into `out` (exactly original_bytes long), checksum checked.
  void decode_entry_into(const ModelEntry& entry, std::span<uint8_t> out) const;
  /// Gives the entry's original bytes to `piece(offset, bytes)` in order, in consecutive pieces:
  /// a TCA-TBE weight band by band of block-tile rows (each band validated as validate() would,
  /// block_tile_band.h), a raw tensor 1 MiB at a time straight from the mapping. Memory holds one
  /// band, never the tensor; the pages read are released as it goes. The checksum covers every
  /// piece and is checked after the last: a ContainerError then means the pieces already given
  /// were wrong, so a caller must not keep them (an atomic output is simply not committed).
  void decode_entry_in_pieces(const ModelEntry& entry,
                              const std::function<void(uint64_t offset, std::span<const uint8_t> bytes)>& piece) const;
  /// The entry's original bytes, checksum checked.
  std::vector<uint8_t> decode_entry(const ModelEntry& entry) const;
  /// Lets the kernel drop the pages of the entry's stored tensors (see SafetensorsFile::release).
  void release(const ModelEntry& entry) const;
  /// The original JSON header, verbatim (its checksum was checked on open).
  std::string_view original_header() const;
  /// Size of the original file: 8 + header + data.
  uint64_t original_file_size() const;
  /// The underlying safetensors file.
  const SafetensorsFile& file() const;

 private:
  struct Impl;
  explicit CompressedModel(std::unique_ptr<Impl> impl);
  static CompressedModel from_file(SafetensorsFile file);  // open() and from_bytes() after reading
  std::unique_ptr<Impl> impl_;
};

/// Options of compress_file() and decompress_file().
struct ConvertOptions {
  int threads = 0;        ///< worker threads; 0 = every hardware thread
  bool force = false;     ///< replace an existing output file
  bool progress = false;  ///< report progress on stderr (only if stderr is a terminal)
};

/// What a conversion did.
struct ConvertSummary {
  int tensors = 0;            ///< tensors in the model
  int compressed = 0;         ///< of which stored as TCA-TBE
  uint64_t input_bytes = 0;   ///< size of the input file
  uint64_t output_bytes = 0;  ///< size of the output file
};

/// Compresses the safetensors file `input` into the compressed model `output` (atomically,
/// streaming: memory holds one band of block-tile rows per thread, not a tensor). Throws ContainerError.
ConvertSummary compress_file(const std::string& input, const std::string& output, const ConvertOptions& options = {});

/// Rebuilds the original file from the compressed model `input`, byte for byte, checking every
/// checksum before the output appears. Throws ContainerError.
ConvertSummary decompress_file(const std::string& input, const std::string& output, const ConvertOptions& options = {});

/// Result of verify_files().
struct VerifyReport {
  bool identical = false;  ///< every tensor and the header decode to the original's bytes
  int tensors_checked = 0; ///< tensors compared
  std::string problem;     ///< the first difference, empty if identical
};

/// Decodes every tensor of `compressed` and compares it, and the stored header, with `original`.
/// A malformed file throws ContainerError; a well-formed one that differs gives identical = false.
VerifyReport verify_files(const std::string& original, const std::string& compressed, int threads = 0);

/// \}

}  // namespace zipserv::st
