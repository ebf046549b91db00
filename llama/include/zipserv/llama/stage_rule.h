/*! \file stage_rule.h
 *  \brief The stage rule of ZipServ, at the one call site every linear layer goes through:
 *         decode (few tokens) runs the fused ZipGEMM, prefill (many tokens) decompresses and runs
 *         a dense GEMM when that is faster, and a tally says which path ran how often.
 *
 *  Why two paths: the fused kernel decodes every block tile of W once per 64-token column tile of
 *  X, so its decode cost grows with n, while decompress-then-dense pays the decode once and then
 *  runs at dense speed. For small n the weight bytes dominate and fusing wins; past a crossover
 *  n, measured per engine (MatmulEngine::decompress_from_n()), the decompressed copy wins.
 */
#pragma once

#include <array>
#include <cstdint>

#include "zipserv/llama/matmul_engine.h"
#include "zipserv/llama/weights.h"

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// Which multiplication ran.
enum class MatmulPath {
  fused_zipgemm = 0,     ///< MatmulEngine::zipgemm(): straight from the compressed weights
  decompress_dense = 1,  ///< MatmulEngine::decompress_gemm(): prefill past the crossover
  dense = 2,             ///< MatmulEngine::gemm_dense(): original weights (or a raw-kept matrix)
};

/// The name of a path ("fused ZipGEMM", "decompress + dense GEMM", "dense GEMM").
const char* path_name(MatmulPath path);

/// The path the stage rule picks for `n` tokens through `w` on `engine`.
MatmulPath choose_path(const MatmulEngine& engine, const LinearWeight& w, int64_t n);

/// How many multiplications took each path, and the weight bytes they read.
struct MatmulTally {
  std::array<int64_t, 3> calls{};       ///< indexed by MatmulPath
  std::array<int64_t, 3> bytes_read{};  ///< weight bytes read, indexed by MatmulPath
};

/// A weight matrix bound to an engine: the weight and what the engine prepared from it.
struct BoundLinear {
  const LinearWeight* weight = nullptr;      ///< the weight (outlives this)
  std::unique_ptr<EngineWeights> prepared;   ///< engine's prepared form
};

/// Prepares `w` on `engine` (MatmulEngine::prepare() or prepare_dense()).
BoundLinear bind(const MatmulEngine& engine, const LinearWeight& w);

/// Y = W X through the path choose_path() picks; X is (n, K) bf16 row-major, Y is (M, n) bf16
/// column-major. Adds the call to `tally` when given.
void run_linear(const MatmulEngine& engine, const BoundLinear& w, const uint16_t* x, int64_t n, uint16_t* y,
                MatmulTally* tally);

/// \}

}  // namespace zipserv::llama
