// Sizing pass: histogram -> window -> per-block-tile in-window counts -> array sizes.
#include "zipserv/container/tca_tbe_sizing.h"

#include <stdexcept>
#include <vector>

#include "row_bands.h"
#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::st {
namespace {
int64_t round_up(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }
}  // namespace

int64_t TcaTbeSizes::payload_bytes() const {
  return 3 * fragtiles * 8 + sign_mantissa_bytes + 2 * full_values + 4 * (8 * block_tiles) +
         4 * (2 * (block_tiles + 1));
}

double TcaTbeSizes::bits_per_weight() const {
  return rows * cols > 0 ? 8.0 * static_cast<double>(payload_bytes()) / static_cast<double>(rows * cols) : 0.0;
}

bool tca_tbe_shape_supported(int64_t rows, int64_t cols) { return encodable_shape(rows, cols); }

TcaTbeSizes size_tca_tbe(const uint16_t* bf16, int64_t rows, int64_t cols) {
  if (!tca_tbe_shape_supported(rows, cols))
    throw std::invalid_argument("shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " cannot be TCA-TBE encoded");
  return size_tca_tbe(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bf16), static_cast<size_t>(rows * cols) * 2),
                      rows, cols);
}

TcaTbeSizes size_tca_tbe(std::span<const uint8_t> bytes, int64_t rows, int64_t cols,
                         const std::function<void(std::span<const uint8_t>)>& band_read) {
  if (!tca_tbe_shape_supported(rows, cols) || bytes.size() != static_cast<uint64_t>(rows * cols) * 2)
    throw std::invalid_argument("shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " cannot be TCA-TBE encoded from " + std::to_string(bytes.size()) + " bytes");
  TcaTbeSizes s;
  s.rows = rows;
  s.cols = cols;
  // Pass 1: the histogram, summed over bands (counting does not depend on the order).
  ExponentHistogram histogram{};
  detail::for_each_row_band(bytes, rows, cols, [&](const uint16_t* band, int64_t, int64_t n, std::span<const uint8_t> read) {
    const ExponentHistogram part = exponent_histogram(band, static_cast<size_t>(n * cols));
    for (int e = 0; e < 256; ++e) histogram[e] += part[e];
    if (band_read) band_read(read);
  });
  s.window = choose_window(histogram);
  const uint8_t start_exp = s.window.start_exp();
  const int64_t Mp = pad_to_block_tile(rows), Kp = pad_to_block_tile(cols);
  s.block_tiles = (Mp / kBlockTileDim) * (Kp / kBlockTileDim);
  s.fragtiles = (Mp / kFragTileDim) * (Kp / kFragTileDim);
  // Pass 2: the encoder's own step 1, band by band (a band's rows count exactly as the same
  // block tiles of the whole matrix: block_tile_band.h), so padding and window rules cannot drift
  // apart from encode().
  detail::for_each_row_band(bytes, rows, cols, [&](const uint16_t* band, int64_t, int64_t n, std::span<const uint8_t> read) {
    for (const int32_t hf : block_tile_high_frequency_counts(band, n, cols, start_exp)) {
      s.sign_mantissa_bytes += round_up(hf, 16);
      s.full_values += round_up(kElementsPerBlockTile - hf, 8);
    }
    if (band_read) band_read(read);
  });
  return s;
}

}  // namespace zipserv::st
