// The stage rule and the one call site of every linear layer (see stage_rule.h).
#include "zipserv/llama/stage_rule.h"

namespace zipserv::llama {

const char* path_name(MatmulPath path) {
  switch (path) {
    case MatmulPath::fused_zipgemm: return "fused ZipGEMM";
    case MatmulPath::decompress_dense: return "decompress + dense GEMM";
    case MatmulPath::dense: return "dense GEMM";
  }
  return "?";
}

MatmulPath choose_path(const MatmulEngine& engine, const LinearWeight& w, int64_t n) {
  if (!w.is_compressed()) return MatmulPath::dense;
  return n >= engine.decompress_from_n() ? MatmulPath::decompress_dense : MatmulPath::fused_zipgemm;
}

BoundLinear bind(const MatmulEngine& engine, const LinearWeight& w) {
  BoundLinear b;
  b.weight = &w;
  b.prepared = w.is_compressed() ? engine.prepare(*w.compressed) : engine.prepare_dense(w.dense.data(), w.rows, w.cols);
  return b;
}

//! [stage rule]
void run_linear(const MatmulEngine& engine, const BoundLinear& w, const uint16_t* x, int64_t n, uint16_t* y,
                MatmulTally* tally) {
  const MatmulPath path = choose_path(engine, *w.weight, n);
  switch (path) {
    case MatmulPath::fused_zipgemm:     // decode: straight from the compressed bytes
      engine.zipgemm(*w.prepared, x, n, y);
      break;
    case MatmulPath::decompress_dense:  // prefill past the crossover: decode once, multiply dense
      engine.decompress_gemm(*w.prepared, x, n, y);
      break;
    case MatmulPath::dense:             // original weights
      engine.gemm_dense(*w.prepared, x, n, y);
      break;
  }
  //! [stage rule]
  if (tally) {
    tally->calls[static_cast<size_t>(path)] += 1;
    tally->bytes_read[static_cast<size_t>(path)] += w.weight->bytes_read();
  }
}

}  // namespace zipserv::llama
