/*! \file transformer.h
 *  \brief The Llama-2 forward pass of llama2.c: RMSNorm, RoPE (theta 10000), grouped-query
 *         attention with a KV cache, SwiGLU, a final RMSNorm and the classifier, with every
 *         linear layer run by a matmul engine (stage_rule.h).
 *
 *  Numerics. Everything outside the matmuls is FP32, in llama2.c's order, single-threaded and
 *  deterministic. Each matmul input is rounded to BF16 (round to nearest even) and its BF16
 *  output widened back to FP32: the engines take and give BF16, as the GPU kernel does. Two
 *  runs whose matmuls give identical bits therefore give identical bits everywhere.
 *
 *  One forward() call takes n tokens at consecutive positions: n = prompt length for prefill,
 *  n = 1 for each decoded token. The matmuls see all n tokens at once (that is what makes
 *  prefill a GEMM and decode a GEMV); attention runs token by token, causally.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "zipserv/llama/matmul_engine.h"
#include "zipserv/llama/stage_rule.h"
#include "zipserv/llama/weights.h"

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// The decoder's state (KV cache, scratch buffers) on one engine.
class Transformer {
 public:
  /// Binds every matrix of `weights` to `engine` (both must outlive this). `max_positions`
  /// sizes the KV cache: forward() accepts positions 0 .. max_positions - 1.
  Transformer(const LlamaWeights& weights, const MatmulEngine& engine, int64_t max_positions);

  /// Runs `n` tokens at positions pos .. pos + n - 1 and returns the logits after the last one
  /// (vocab_size FP32 values; valid until the next call). Throws LlamaError for a token outside
  /// the vocabulary or a position past max_positions.
  const std::vector<float>& forward(const int* tokens, int64_t n, int64_t pos);

  /// Called after each layer with the residual stream, (n, dim) f32 row-major: lets a caller
  /// compare two runs layer by layer (`zipserv generate --compare`).
  using LayerObserver = std::function<void(int layer, int64_t n, const float* x)>;
  /// Installs (or, with an empty function, removes) the observer.
  void set_layer_observer(LayerObserver observer) { observer_ = std::move(observer); }

  /// Which path every matmul took so far, and the bytes it read.
  const MatmulTally& tally() const { return tally_; }
  /// The weights.
  const LlamaWeights& weights() const { return weights_; }
  /// The engine.
  const MatmulEngine& engine() const { return engine_; }

 private:
  /// \cond PRIVATE
  // One layer's matrices, bound to the engine (hidden from the API pages: an implementation detail).
  struct BoundLayer {
    BoundLinear wq, wk, wv, wo, w1, w2, w3;
  };
  /// \endcond

  // out (n, M) f32 = W in (n, K) f32, through BF16 at the engine's boundary.
  void linear(const BoundLinear& w, const float* in, int64_t n, float* out);
  void attention(int layer, int64_t n, int64_t pos);
  void ensure_capacity(int64_t n);

  const LlamaWeights& weights_;
  const MatmulEngine& engine_;
  int64_t max_positions_;
  std::vector<BoundLayer> layers_;
  BoundLinear classifier_;
  LayerObserver observer_;
  MatmulTally tally_;

  std::vector<float> key_cache_;    // (layer, position, kv_dim) f32
  std::vector<float> value_cache_;  // (layer, position, kv_dim) f32
  std::vector<float> x_, xb_, xb2_, q_, k_, v_, hb_, hb2_;  // (n, width) f32 scratch
  std::vector<float> att_;          // (positions) f32 attention scores of one head
  std::vector<uint16_t> x_bf16_;    // (n, K) bf16 matmul input
  std::vector<uint16_t> y_bf16_;    // (M, n) bf16 matmul output
  std::vector<float> logits_;       // (vocab) f32
  int64_t capacity_ = 0;            // n the scratch buffers hold
};

/// \}

}  // namespace zipserv::llama
