/*! \file row_bands.h
 *  \brief Internal: the band size every streaming pass uses, a tensor's bytes walked in bands of
 *         block-tile rows, and the release of what has been read, so that memory follows one band
 *         per thread, never a whole tensor.
 */
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <span>

#include "bf16_span.h"
#include "zipserv/reference/block_tile_band.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::st::detail {

/// Padded elements in one band: 2^18 (512 KiB of BF16), one block-tile row of a 4096-column
/// matrix. A band is never less than one block-tile row (64 rows), so a wider matrix gets bands
/// of 64 x padded-columns elements.
inline constexpr int64_t kBandElements = int64_t{1} << 18;

/// Bytes a streaming pass over a tensor that is not cut into bands (a checksum, a raw copy) takes
/// at a time: 1 MiB.
inline constexpr size_t kPieceBytes = size_t{1} << 20;

/// Rows per band of a matrix with `cols` columns (a multiple of 64).
constexpr int64_t rows_per_band(int64_t cols) { return band_rows(cols, kBandElements); }

/// Calls fn(values, first_row, row_count, band_bytes) for consecutive bands of the row-major
/// rows x cols BF16 matrix held in `bytes`. `values` is 2-byte aligned: a band at an odd offset
/// is copied into a buffer of one band, never the whole tensor.
template <typename Fn>
void for_each_row_band(std::span<const uint8_t> bytes, int64_t rows, int64_t cols, Fn fn) {
  const int64_t step = rows_per_band(cols);
  for (int64_t r0 = 0; r0 < rows; r0 += step) {
    const int64_t n = r0 + step <= rows ? step : rows - r0;
    const std::span<const uint8_t> band = bytes.subspan(static_cast<size_t>(r0 * cols * 2), static_cast<size_t>(n * cols * 2));
    const Bf16Span values(band);
    fn(values.data(), r0, n, band);
  }
}

/// Gives the pages of a mapped array back to the kernel as a front-to-back reader finishes with
/// them. SafetensorsFile::release() keeps a page that the span only partly covers; releasing
/// from the page where the previous release stopped makes sure a page shared by two consecutive
/// bands goes too, so resident file pages stay at one band, not one page per band.
class SequentialRelease {
 public:
  /// Releases parts of `array` (a span from `file`'s mapping) as reading advances.
  SequentialRelease(const SafetensorsFile& file, std::span<const uint8_t> array) : file_(file), array_(array) {}
  /// Everything before byte `end` of the array has been read.
  void done_until(size_t end) {
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t base = reinterpret_cast<uintptr_t>(array_.data());
    const uintptr_t from = std::max(base, (base + released_) / page * page);
    if (end > released_) file_.release(array_.subspan(from - base, end - (from - base)));
    released_ = end;
  }

 private:
  const SafetensorsFile& file_;
  std::span<const uint8_t> array_;
  size_t released_ = 0;
};

}  // namespace zipserv::st::detail
