/*! \file weights.h
 *  \brief The weights of a Llama decoder, loaded from a plain or a compressed safetensors file
 *         in either form: as TCA-TBE (what ZipGEMM reads) or as the original BF16.
 *
 *  Tensor names follow llama2.c / Meta: `tok_embeddings.weight`, `layers.N.attention_norm.weight`,
 *  `layers.N.attention.{wq,wk,wv,wo}.weight`, `layers.N.ffn_norm.weight`,
 *  `layers.N.feed_forward.{w1,w2,w3}.weight`, `norm.weight` and, optionally, `output.weight`
 *  (without it the classifier shares the embedding matrix, as stories260K does).
 *
 *  Either kind of file gives either form, so the same model can run both ways in one process:
 *
 *      file \ form     compressed                         original
 *      plain           encoded in memory at load          the file's BF16 values
 *      compressed      the stored TCA-TBE arrays           decoded at load, checksum checked
 *
 *  A matrix the container kept raw (it would not shrink) is used as BF16 in both forms.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/llama/config.h"

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// Which form of the weights the matmuls read.
enum class WeightForm {
  compressed,  ///< TCA-TBE: every matrix that compresses is multiplied straight from its arrays
  original,    ///< the original BF16 patterns
};

/// One weight matrix W (rows x cols = output features x input features) in one form.
struct LinearWeight {
  std::string name;  ///< tensor name in the model
  int64_t rows = 0;  ///< M
  int64_t cols = 0;  ///< K
  std::unique_ptr<CompressedMatrix> compressed;  ///< the TCA-TBE form (validated), or null
  std::vector<uint16_t> dense;                   ///< (M, K) bf16 row-major, when not compressed

  /// True if the matmuls read this weight compressed.
  bool is_compressed() const { return compressed != nullptr; }
  /// Bytes one multiplication reads: the TCA-TBE payload, or 2 per weight.
  int64_t bytes_read() const { return compressed ? compressed->payload_bytes() : rows * cols * 2; }
  /// Bytes the same multiplication would read uncompressed: 2 per weight.
  int64_t bf16_bytes() const { return rows * cols * 2; }
  /// Row `row` as FP32 (the embedding lookup): a compressed weight decodes only that row's
  /// elements by random access (zipserv::decode_element), never the whole matrix.
  void row_to_float(int64_t row, float* out) const;
};

/// Builds a LinearWeight from (rows, cols) BF16 values in the given form (encoding them for
/// WeightForm::compressed). Used by the loader and by programs that generate weights.
LinearWeight make_linear(std::string name, int64_t rows, int64_t cols, std::vector<uint16_t> values,
                         WeightForm form);

/// The weights of one decoder layer.
struct LayerWeights {
  std::vector<float> attention_norm;  ///< (dim) RMSNorm gain before attention
  LinearWeight wq;                    ///< (dim, dim)
  LinearWeight wk;                    ///< (kv_dim, dim)
  LinearWeight wv;                    ///< (kv_dim, dim)
  LinearWeight wo;                    ///< (dim, dim)
  std::vector<float> ffn_norm;        ///< (dim) RMSNorm gain before the feed-forward layer
  LinearWeight w1;                    ///< (hidden_dim, dim) gate
  LinearWeight w2;                    ///< (dim, hidden_dim) down
  LinearWeight w3;                    ///< (hidden_dim, dim) up
};

/// Every weight of the decoder.
struct LlamaWeights {
  LlamaConfig config;               ///< the shape
  WeightForm form = WeightForm::compressed;  ///< the form the matrices were loaded in
  LinearWeight tok_embeddings;      ///< (vocab_size, dim)
  std::vector<LayerWeights> layers; ///< n_layers of them
  std::vector<float> norm;          ///< (dim) final RMSNorm gain
  LinearWeight output;              ///< (vocab_size, dim), empty (rows = 0) when shared

  /// The classifier: `output.weight`, or the embeddings when the model shares them.
  const LinearWeight& classifier() const { return output.rows > 0 ? output : tok_embeddings; }
  /// Every matrix a decoded token multiplies, in the order the forward pass runs them.
  std::vector<const LinearWeight*> matmul_weights() const;
};

/// Loads `path` (plain or compressed safetensors) in `form`. Throws LlamaError for a model the
/// forward pass cannot run (missing config metadata, a missing tensor, a shape or dtype that does
/// not match the config: a non-Llama layout), and the container's errors for a damaged file.
LlamaWeights load_weights(const std::string& path, WeightForm form);

/// \}

}  // namespace zipserv::llama
