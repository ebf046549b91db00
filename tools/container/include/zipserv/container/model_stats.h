/*! \file model_stats.h
 *  \brief What TCA-TBE does (or would do) to each tensor of a model: the exponent window, the
 *         share of weights inside it, bits per weight and compression ratio, with totals.
 *
 *  For a compressed model the numbers are read from the stored arrays. For a plain model they are
 *  what `zipserv compress` would produce, computed by the same sizing pass the compressor uses,
 *  so the prediction is exact, not an estimate.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace zipserv::st {

/// \addtogroup container
/// \{

/// One tensor's figures.
struct TensorStats {
  std::string name;            ///< tensor name
  std::string dtype;           ///< original dtype
  std::vector<int64_t> shape;  ///< original shape
  bool compressed = false;     ///< stored (or would be stored) as TCA-TBE
  std::string note;            ///< why it is stored raw; empty when compressed
  bool has_window = false;     ///< window/coverage/bits below are meaningful (a 2-D BF16 tensor)
  int window_lo = 0;           ///< smallest exponent of the window
  int window_hi = 0;           ///< largest exponent of the window (lo + 6, modulo 256)
  int start_exp = 0;           ///< the stored byte: window_lo - 1 modulo 256
  uint64_t weights = 0;        ///< logical elements (rows * cols)
  uint64_t covered = 0;        ///< of which inside the window
  double coverage = 0;         ///< covered / weights
  double bits_per_weight = 0;  ///< TCA-TBE payload bits per logical weight (CompressedMatrix::bits_per_weight)
  uint64_t original_bytes = 0; ///< bytes in the original file
  uint64_t stored_bytes = 0;   ///< bytes in the compressed file (payload, or original if raw)
  double ratio = 0;            ///< original_bytes / stored_bytes (1 for an empty tensor: 0 -> 0 bytes)
};

/// A whole model's figures.
struct ModelStats {
  std::string path;                  ///< the file inspected
  bool is_compressed_model = false;  ///< figures read from a compressed model (else predicted)
  std::vector<TensorStats> tensors;  ///< in original file order
  uint64_t original_file_bytes = 0;  ///< size of the (original) plain file
  uint64_t compressed_file_bytes = 0;///< size of the compressed file (exact, also when predicted)
  uint64_t compressed_weights = 0;   ///< logical weights stored as TCA-TBE
  uint64_t compressed_covered = 0;   ///< of which inside their matrix's window
  uint64_t compressed_original_bytes = 0;  ///< their original bytes
  uint64_t compressed_payload_bytes = 0;   ///< their TCA-TBE payload bytes
  /// Share of TCA-TBE weights inside their window.
  double coverage() const;
  /// Payload bits per TCA-TBE weight.
  double bits_per_weight() const;
  /// Original bytes / payload bytes over the TCA-TBE weights (1 if there are none).
  double weights_ratio() const;
  /// Original file size / compressed file size (headers and raw tensors included).
  double file_ratio() const;
};

/// Inspects a plain or compressed model; throws ContainerError for a damaged file.
/// `threads` as in ConvertOptions (0 = all hardware threads).
ModelStats inspect(const std::string& path, int threads = 0);

/// The figures as JSON: {"file", "compressed_model", "tensors": [...], "totals": {...}}.
std::string stats_to_json(const ModelStats& stats);

/// Widest tensor name stats_to_text() prints in full; a longer one is shortened by elide_middle().
inline constexpr size_t kNameColumnWidth = 40;
/// What stands for the characters elide_middle() leaves out.
inline constexpr const char* kElisionMarker = "...";

/// `name` itself if it has at most `width` bytes, else its first third, kElisionMarker and the
/// rest from its end: `width` bytes in all (fewer where a cut would split a UTF-8 character; the
/// first `width` bytes if there is no room for the marker).
std::string elide_middle(const std::string& name, size_t width);

/// The figures as an aligned text table with a totals line. Names longer than kNameColumnWidth
/// are shortened in the middle (a line after the totals says so); stats_to_json() keeps them whole.
std::string stats_to_text(const ModelStats& stats);

/// \}

}  // namespace zipserv::st
