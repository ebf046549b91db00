// The prepared form both CPU engines use: the weight in host memory, compressed or dense, by
// reference (nothing to upload on a CPU).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/llama/matmul_engine.h"

namespace zipserv::llama {

struct HostWeights : EngineWeights {
  const CompressedMatrix* compressed = nullptr;  // when prepared by prepare()
  const uint16_t* dense = nullptr;               // (rows, cols) bf16, when prepared by prepare_dense()
  int64_t rows = 0, cols = 0;

  const CompressedMatrix& matrix() const {
    if (!compressed) throw std::logic_error("a compressed multiplication on dense weights");
    return *compressed;
  }
};

// A HostWeights (or a type derived from it) referring to a compressed matrix.
template <typename T = HostWeights>
std::unique_ptr<T> host_weights(const CompressedMatrix& w) {
  auto h = std::make_unique<T>();
  h->compressed = &w;
  h->rows = w.rows;
  h->cols = w.cols;
  return h;
}

// A HostWeights (or a type derived from it) referring to dense (m, k) bf16 weights.
template <typename T = HostWeights>
std::unique_ptr<T> host_weights(const uint16_t* w, int64_t m, int64_t k) {
  auto h = std::make_unique<T>();
  h->dense = w;
  h->rows = m;
  h->cols = k;
  return h;
}

}  // namespace zipserv::llama
