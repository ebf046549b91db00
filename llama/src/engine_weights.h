// The prepared form both CPU engines use: the weight in host memory, compressed or dense, by
// reference (nothing to upload on a CPU).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "zipserv/compressed_matrix.h"
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

}  // namespace zipserv::llama
