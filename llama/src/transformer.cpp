// The Llama-2 forward pass, llama2.c's run.c restated for n tokens at a time (see transformer.h).
#include "zipserv/llama/transformer.h"

#include <algorithm>
#include <cmath>

#include "zipserv/reference/bf16.h"

namespace zipserv::llama {
namespace {

// out = weight * x / sqrt(mean(x^2) + eps), as llama2.c's rmsnorm().
void rmsnorm(float* out, const float* x, const float* weight, int size, float eps) {
  float ss = 0.0f;
  for (int j = 0; j < size; ++j) ss += x[j] * x[j];
  ss /= static_cast<float>(size);
  ss += eps;
  ss = 1.0f / std::sqrt(ss);
  for (int j = 0; j < size; ++j) out[j] = weight[j] * (ss * x[j]);
}

// In-place softmax, as llama2.c's softmax().
void softmax(float* x, int64_t size) {
  float max_val = x[0];
  for (int64_t i = 1; i < size; ++i) max_val = std::max(max_val, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < size; ++i) {
    x[i] = std::exp(x[i] - max_val);
    sum += x[i];
  }
  for (int64_t i = 0; i < size; ++i) x[i] /= sum;
}

// RoPE at position `pos`: rotates each pair (2i, 2i+1) of every head of q (width dim) and of k
// (width kv_dim) by pos * theta^(-2i / head_size), as llama2.c does.
void rope(float* q, float* k, const LlamaConfig& c, int64_t pos) {
  const int head_size = c.head_size();
  for (int i = 0; i < c.dim; i += 2) {
    const int head_dim = i % head_size;
    const float freq = 1.0f / std::pow(c.rope_theta, static_cast<float>(head_dim) / static_cast<float>(head_size));
    const float val = static_cast<float>(pos) * freq;
    const float fcr = std::cos(val);
    const float fci = std::sin(val);
    const int rotations = i < c.kv_dim() ? 2 : 1;  // k is narrower than q under GQA
    for (int r = 0; r < rotations; ++r) {
      float* vec = r == 0 ? q : k;
      const float v0 = vec[i];
      const float v1 = vec[i + 1];
      vec[i] = v0 * fcr - v1 * fci;
      vec[i + 1] = v0 * fci + v1 * fcr;
    }
  }
}

}  // namespace

Transformer::Transformer(const LlamaWeights& weights, const MatmulEngine& engine, int64_t max_positions)
    : weights_(weights), engine_(engine), max_positions_(max_positions) {
  const LlamaConfig& c = weights.config;
  if (max_positions < 1) throw LlamaError("the KV cache needs room for at least one position");
  for (const LayerWeights& l : weights.layers)
    layers_.push_back({bind(engine, l.wq), bind(engine, l.wk), bind(engine, l.wv), bind(engine, l.wo),
                       bind(engine, l.w1), bind(engine, l.w2), bind(engine, l.w3)});
  classifier_ = bind(engine, weights.classifier());
  const size_t cache = static_cast<size_t>(c.n_layers) * static_cast<size_t>(max_positions) * static_cast<size_t>(c.kv_dim());
  key_cache_.assign(cache, 0.0f);
  value_cache_.assign(cache, 0.0f);
  att_.resize(static_cast<size_t>(max_positions));
  logits_.resize(static_cast<size_t>(c.vocab_size));
}

void Transformer::ensure_capacity(int64_t n) {
  if (n <= capacity_) return;
  const LlamaConfig& c = weights_.config;
  const auto rows = static_cast<size_t>(n);
  for (auto* b : {&x_, &xb_, &xb2_, &q_}) b->resize(rows * static_cast<size_t>(c.dim));
  for (auto* b : {&k_, &v_}) b->resize(rows * static_cast<size_t>(c.kv_dim()));
  for (auto* b : {&hb_, &hb2_}) b->resize(rows * static_cast<size_t>(c.hidden_dim));
  const size_t widest = static_cast<size_t>(std::max({c.dim, c.hidden_dim, c.vocab_size}));
  x_bf16_.resize(rows * widest);
  y_bf16_.resize(rows * widest);
  capacity_ = n;
}

void Transformer::linear(const BoundLinear& w, const float* in, int64_t n, float* out) {
  const int64_t m = w.weight->rows;
  const int64_t k = w.weight->cols;
  for (int64_t i = 0; i < n * k; ++i) x_bf16_[static_cast<size_t>(i)] = float_to_bf16_rne(in[i]);  // X (n, K) bf16
  //! [matmul call site]
  run_linear(engine_, w, x_bf16_.data(), n, y_bf16_.data(), &tally_);  // Y (M, n) col-major bf16
  //! [matmul call site]
  // Y column-major (M, n) is row-major (n, M): token j's outputs are contiguous.
  for (int64_t i = 0; i < n * m; ++i) out[i] = bf16_to_float(y_bf16_[static_cast<size_t>(i)]);
}

void Transformer::attention(int layer, int64_t n, int64_t pos) {
  const LlamaConfig& c = weights_.config;
  const int head_size = c.head_size();
  const int kv_dim = c.kv_dim();
  const int group = c.n_heads / c.n_kv_heads;  // query heads per KV head
  const float scale = std::sqrt(static_cast<float>(head_size));
  const size_t layer_base = static_cast<size_t>(layer) * static_cast<size_t>(max_positions_) * static_cast<size_t>(kv_dim);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t p = pos + r;  // token r attends to positions 0..p
    for (int h = 0; h < c.n_heads; ++h) {
      const float* q = q_.data() + r * c.dim + h * head_size;
      const size_t kv_offset = static_cast<size_t>((h / group) * head_size);
      for (int64_t t = 0; t <= p; ++t) {
        const float* k = key_cache_.data() + layer_base + static_cast<size_t>(t) * kv_dim + kv_offset;
        float score = 0.0f;
        for (int i = 0; i < head_size; ++i) score += q[i] * k[i];
        att_[static_cast<size_t>(t)] = score / scale;
      }
      softmax(att_.data(), p + 1);
      float* out = xb_.data() + r * c.dim + h * head_size;
      std::fill(out, out + head_size, 0.0f);
      for (int64_t t = 0; t <= p; ++t) {
        const float* v = value_cache_.data() + layer_base + static_cast<size_t>(t) * kv_dim + kv_offset;
        const float a = att_[static_cast<size_t>(t)];
        for (int i = 0; i < head_size; ++i) out[i] += a * v[i];
      }
    }
  }
}

const std::vector<float>& Transformer::forward(const int* tokens, int64_t n, int64_t pos) {
  const LlamaConfig& c = weights_.config;
  if (n < 1) throw LlamaError("forward() needs at least one token");
  if (pos < 0 || pos + n > max_positions_)
    throw LlamaError("position " + std::to_string(pos + n - 1) + " is past the KV cache of " +
                     std::to_string(max_positions_) + " positions");
  ensure_capacity(n);
  const int dim = c.dim;
  const int kv_dim = c.kv_dim();
  const int hidden = c.hidden_dim;

  for (int64_t r = 0; r < n; ++r) {
    if (tokens[r] < 0 || tokens[r] >= c.vocab_size)
      throw LlamaError("token " + std::to_string(tokens[r]) + " is outside the vocabulary of " +
                       std::to_string(c.vocab_size));
    weights_.tok_embeddings.row_to_float(tokens[r], x_.data() + r * dim);  // x (n, dim)
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = weights_.layers[static_cast<size_t>(l)];
    const BoundLayer& bl = layers_[static_cast<size_t>(l)];

    // Attention: q, k, v for all n tokens in one GEMM each, RoPE, then the cache and the heads.
    for (int64_t r = 0; r < n; ++r)
      rmsnorm(xb_.data() + r * dim, x_.data() + r * dim, lw.attention_norm.data(), dim, c.norm_eps);
    linear(bl.wq, xb_.data(), n, q_.data());  // (n, dim)
    linear(bl.wk, xb_.data(), n, k_.data());  // (n, kv_dim)
    linear(bl.wv, xb_.data(), n, v_.data());  // (n, kv_dim)
    const size_t layer_base = static_cast<size_t>(l) * static_cast<size_t>(max_positions_) * static_cast<size_t>(kv_dim);
    for (int64_t r = 0; r < n; ++r) {
      rope(q_.data() + r * dim, k_.data() + r * kv_dim, c, pos + r);
      const size_t at = layer_base + static_cast<size_t>(pos + r) * kv_dim;
      std::copy_n(k_.data() + r * kv_dim, kv_dim, key_cache_.data() + at);
      std::copy_n(v_.data() + r * kv_dim, kv_dim, value_cache_.data() + at);
    }
    attention(l, n, pos);                      // xb (n, dim)
    linear(bl.wo, xb_.data(), n, xb2_.data());  // (n, dim)
    for (int64_t i = 0; i < n * dim; ++i) x_[static_cast<size_t>(i)] += xb2_[static_cast<size_t>(i)];

    // SwiGLU feed-forward: w2(silu(w1 x) * w3 x).
    for (int64_t r = 0; r < n; ++r)
      rmsnorm(xb_.data() + r * dim, x_.data() + r * dim, lw.ffn_norm.data(), dim, c.norm_eps);
    linear(bl.w1, xb_.data(), n, hb_.data());   // (n, hidden)
    linear(bl.w3, xb_.data(), n, hb2_.data());  // (n, hidden)
    for (int64_t i = 0; i < n * hidden; ++i) {
      float val = hb_[static_cast<size_t>(i)];
      val *= 1.0f / (1.0f + std::exp(-val));  // silu
      hb_[static_cast<size_t>(i)] = val * hb2_[static_cast<size_t>(i)];
    }
    linear(bl.w2, hb_.data(), n, xb_.data());  // (n, dim)
    for (int64_t i = 0; i < n * dim; ++i) x_[static_cast<size_t>(i)] += xb_[static_cast<size_t>(i)];

    if (observer_) observer_(l, n, x_.data());
  }

  // Only the last token's logits are needed: the final norm and the classifier run on it alone.
  rmsnorm(xb_.data(), x_.data() + (n - 1) * dim, weights_.norm.data(), dim, c.norm_eps);
  linear(classifier_, xb_.data(), 1, logits_.data());  // (vocab)
  return logits_;
}

}  // namespace zipserv::llama
