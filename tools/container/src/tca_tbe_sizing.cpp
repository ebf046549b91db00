// Sizing pass: histogram -> window -> per-block-tile in-window counts -> array sizes.
#include "zipserv/tca_tbe_sizing.h"

#include <stdexcept>
#include <vector>

#include "zipserv/compressed_matrix.h"
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

bool tca_tbe_shape_supported(int64_t rows, int64_t cols) { return encodable_shape(rows, cols); }

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
  // The encoder's own step 1, so padding and window rules cannot drift apart from encode().
  for (const int32_t hf : block_tile_high_frequency_counts(bf16, rows, cols, start_exp)) {
    s.sign_mantissa_bytes += round_up(hf, 16);
    s.full_values += round_up(kElementsPerBlockTile - hf, 8);
  }
  return s;
}

}  // namespace zipserv::st
