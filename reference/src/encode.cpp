// Public entry points of the encoder: shape checks, window choice, and the choice of thread
// count. The encoding itself is in encode_block_tiles.cpp (and, as a definition, in
// encode_traversal.cpp).
#include "zipserv/reference/encode.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/reference/parallel_for.h"

namespace zipserv {

void check_encode_shape(int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    throw std::invalid_argument("matrix shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " is empty");
  if (!encodable_shape(rows, cols))
    throw std::invalid_argument("matrix shape " + std::to_string(rows) + "x" + std::to_string(cols) +
                                " is too large: padded it must hold fewer than 2^31 elements");
}

CompressedMatrix encode(const uint16_t* bf16, int64_t rows, int64_t cols) {
  return encode(bf16, rows, cols, EncodeOptions{});
}

CompressedMatrix encode(const uint16_t* bf16, int64_t rows, int64_t cols, const EncodeOptions& options) {
  check_encode_shape(rows, cols);
  // One histogram per band of rows, summed: counting is order-independent, so the window is the
  // same for every thread count.
  const int bands = resolve_threads(options.threads, rows);
  std::vector<ExponentHistogram> partial(static_cast<size_t>(bands));
  parallel_for(bands, bands, [&](int64_t band) {
    const int64_t first = rows * band / bands, end = rows * (band + 1) / bands;
    partial[band] = exponent_histogram(bf16 + first * cols, static_cast<size_t>((end - first) * cols));
  });
  ExponentHistogram total{};
  for (int b = 0; b < bands; ++b)
    for (int e = 0; e < 256; ++e) total[e] += partial[b][e];
  return encode_with_start_exp(bf16, rows, cols, choose_window(total).start_exp(), options);
}

CompressedMatrix encode_with_start_exp(const uint16_t* bf16, int64_t rows, int64_t cols, uint8_t start_exp) {
  return encode_with_start_exp(bf16, rows, cols, start_exp, EncodeOptions{});
}

}  // namespace zipserv
