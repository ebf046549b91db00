// The reference GEMM (see gemm.h for the layouts and the summation order it defines).
#include "zipserv/reference/gemm.h"

#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/decode.h"

namespace zipserv {

void gemm_dense(const uint16_t* w, int64_t m, int64_t k, const uint16_t* x, int64_t n, uint16_t* y) {
  for (int64_t col = 0; col < n; ++col)
    for (int64_t row = 0; row < m; ++row) {
      float acc = 0.0f;
      for (int64_t i = 0; i < k; ++i) acc += bf16_to_float(w[row * k + i]) * bf16_to_float(x[col * k + i]);
      y[col * m + row] = float_to_bf16_rne(acc);
    }
}

void zipgemm(const CompressedMatrix& w, const uint16_t* x, int64_t n, uint16_t* y) {
  const std::vector<uint16_t> dense = decode(w);
  gemm_dense(dense.data(), w.rows, w.cols, x, n, y);
}

}  // namespace zipserv
