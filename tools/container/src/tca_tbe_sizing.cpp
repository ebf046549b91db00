// Sizing pass: histogram -> window -> per-block-tile in-window counts -> array sizes.
#include "zipserv/tca_tbe_sizing.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "zipserv/compressed_matrix.h"
#include "zipserv/element_code.h"
#include "zipserv/encode.h"
#include "zipserv/tile_layout.h"

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

bool tca_tbe_shape_supported(int64_t rows, int64_t cols) {
  return rows > 0 && cols > 0 && rows <= kMaxPaddedElements && cols <= kMaxPaddedElements &&
         pad_to_block_tile(rows) <= kMaxPaddedElements / pad_to_block_tile(cols);
}

TcaTbeSizes size_tca_tbe(const uint16_t* bf16, int64_t rows, int64_t cols) {
  if (!tca_tbe_shape_supported(rows, cols))
    throw std::invalid_argument("shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " cannot be TCA-TBE encoded");
  TcaTbeSizes s;
  s.rows = rows;
  s.cols = cols;
  s.window = choose_window(exponent_histogram(bf16, static_cast<size_t>(rows * cols)));
  const uint8_t start_exp = s.window.start_exp();
  const int64_t Mp = pad_to_block_tile(rows), Kp = pad_to_block_tile(cols), KB = Kp / kBlockTileDim;
  s.block_tiles = (Mp / kBlockTileDim) * KB;
  s.fragtiles = (Mp / kFragTileDim) * (Kp / kFragTileDim);
  std::vector<int64_t> high_frequency(s.block_tiles, 0);  // (T) weights with a non-zero code
  for (int64_t r = 0; r < rows; ++r) {
    int64_t* tile_row = high_frequency.data() + (r / kBlockTileDim) * KB;
    const uint16_t* row = bf16 + r * cols;
    for (int64_t c = 0; c < cols; ++c) tile_row[c / kBlockTileDim] += element_code(row[c], start_exp) != 0;
  }
  for (int64_t t = 0; t < s.block_tiles; ++t) {
    // Padding elements are code 1 (see encode.h), so they count as high-frequency weights.
    const int64_t logical_rows = std::min<int64_t>(kBlockTileDim, rows - (t / KB) * kBlockTileDim);
    const int64_t logical_cols = std::min<int64_t>(kBlockTileDim, cols - (t % KB) * kBlockTileDim);
    const int64_t hf = high_frequency[t] + kElementsPerBlockTile - logical_rows * logical_cols;
    s.sign_mantissa_bytes += round_up(hf, 16);
    s.full_values += round_up(kElementsPerBlockTile - hf, 8);
  }
  return s;
}

}  // namespace zipserv::st
