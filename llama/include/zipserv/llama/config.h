/*! \file config.h
 *  \brief The shape of a Llama-2 decoder (the llama2.c architecture), read from a safetensors
 *         file's "__metadata__", and the one error type of the forward pass.
 *
 *  Both bundled conventions carry the configuration as string pairs in the header metadata:
 *  `dim`, `hidden_dim`, `n_layers`, `n_heads`, `n_kv_heads`, `vocab_size` (and optionally
 *  `architecture`, which must then be "llama"). A compressed model copies the original pairs,
 *  so the same reader serves both kinds of file.
 */
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace zipserv::llama {

/// \defgroup llama Llama forward pass
/// \brief A Llama-2 decoder (llama2.c architecture) whose every linear layer runs through a
///        chosen matmul engine straight from the compressed weights (`zipserv generate`).
/// \{

/// Thrown for a model, tokenizer or option the forward pass cannot use; the message is one line
/// naming what is wrong.
class LlamaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The hyper-parameters of the decoder, as llama2.c's `Config`.
struct LlamaConfig {
  int dim = 0;          ///< width of the residual stream
  int hidden_dim = 0;   ///< width of the SwiGLU feed-forward layer
  int n_layers = 0;     ///< decoder layers
  int n_heads = 0;      ///< query heads
  int n_kv_heads = 0;   ///< key/value heads (grouped-query attention: n_heads / n_kv_heads queries share one)
  int vocab_size = 0;   ///< tokens of the vocabulary (rows of the embedding and the classifier)
  float rope_theta = 10000.0f;  ///< RoPE base, as llama2.c
  float norm_eps = 1e-5f;       ///< RMSNorm epsilon, as llama2.c

  int head_size() const { return dim / n_heads; }              ///< dim / n_heads
  int kv_dim() const { return head_size() * n_kv_heads; }      ///< width of K and V
};

/// The metadata keys a model must carry, in the order they are checked.
inline constexpr const char* kConfigKeys[6] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads",
                                               "vocab_size"};

/// Reads the configuration from a file's metadata pairs; throws LlamaError naming the first
/// missing or bad key, or an inconsistent combination (dim not a multiple of n_heads, n_heads
/// not a multiple of n_kv_heads, odd head size, architecture other than "llama").
LlamaConfig config_from_metadata(const std::map<std::string, std::string>& metadata);

/// \}

}  // namespace zipserv::llama
