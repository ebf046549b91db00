// Loading a Llama's weights from a plain or compressed safetensors file, in either form (see weights.h).
#include "zipserv/llama/weights.h"

#include <cstring>
#include <optional>

#include "zipserv/reference/bf16.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::llama {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The tensors of either kind of file, by original name: dtype, shape, original bytes, and the
// stored TCA-TBE form when there is one.
class TensorSource {
 public:
  explicit TensorSource(const std::string& path) : path_(path) {
    st::SafetensorsFile file = st::SafetensorsFile::open(path);
    if (st::is_compressed_model(file)) {
      model_.emplace(st::CompressedModel::open(path));
    } else {
      plain_.emplace(std::move(file));
    }
  }

  const std::map<std::string, std::string>& metadata() const {
    return plain_ ? plain_->metadata() : model_->file().metadata();
  }

  bool has(const std::string& name) const { return plain_ ? plain_->find(name) != nullptr : model_->find(name) != nullptr; }

  // dtype and shape, or a "non-Llama layout" error naming the missing tensor.
  std::pair<std::string, std::vector<int64_t>> info(const std::string& name) const {
    if (plain_) {
      if (const st::TensorInfo* t = plain_->find(name)) return {t->dtype, t->shape};
    } else if (const st::ModelEntry* e = model_->find(name)) {
      return {e->dtype, e->shape};
    }
    throw LlamaError("not a Llama layout: " + path_ + " has no tensor \"" + name + "\"");
  }

  std::vector<uint8_t> original_bytes(const std::string& name) const {
    if (plain_) {
      const std::span<const uint8_t> b = plain_->bytes(*plain_->find(name));
      std::vector<uint8_t> copy(b.begin(), b.end());
      plain_->check_intact();  // the copy is the file's bytes, not zeros read past a shrunken end
      return copy;
    }
    return model_->decode_entry(*model_->find(name));
  }

  // The stored TCA-TBE matrix (validated, checksum checked), or null for a raw entry or a plain file.
  std::unique_ptr<CompressedMatrix> stored_matrix(const std::string& name) const {
    if (!model_) return nullptr;
    const st::ModelEntry* e = model_->find(name);
    if (e->storage != st::Storage::tca_tbe) return nullptr;
    return std::make_unique<CompressedMatrix>(model_->read_matrix(*e));
  }

  bool compressed_file() const { return model_.has_value(); }

 private:
  std::string path_;
  std::optional<st::SafetensorsFile> plain_;
  std::optional<st::CompressedModel> model_;
};

std::vector<uint16_t> as_bf16(const std::vector<uint8_t>& bytes) {
  std::vector<uint16_t> v(bytes.size() / 2);
  std::memcpy(v.data(), bytes.data(), v.size() * 2);
  return v;
}

LinearWeight load_linear(const TensorSource& src, const std::string& name, int64_t rows, int64_t cols,
                         WeightForm form) {
  const auto [dtype, shape] = src.info(name);
  if (shape != std::vector<int64_t>{rows, cols})
    throw LlamaError("not a Llama layout: tensor \"" + name + "\" has shape " + shape_text(shape) +
                     ", the config says " + shape_text({rows, cols}));
  if (dtype != "BF16")
    throw LlamaError("tensor \"" + name + "\" is " + dtype + "; generate multiplies BF16 weights");
  if (form == WeightForm::compressed && src.compressed_file()) {
    LinearWeight w;
    w.name = name;
    w.rows = rows;
    w.cols = cols;
    w.compressed = src.stored_matrix(name);
    if (!w.compressed) w.dense = as_bf16(src.original_bytes(name));  // kept raw: it would not shrink
    return w;
  }
  return make_linear(name, rows, cols, as_bf16(src.original_bytes(name)), form);
}

std::vector<float> load_vector(const TensorSource& src, const std::string& name, int64_t size) {
  const auto [dtype, shape] = src.info(name);
  if (shape != std::vector<int64_t>{size})
    throw LlamaError("not a Llama layout: tensor \"" + name + "\" has shape " + shape_text(shape) +
                     ", the config says " + shape_text({size}));
  const std::vector<uint8_t> bytes = src.original_bytes(name);
  std::vector<float> v(static_cast<size_t>(size));
  if (dtype == "BF16") {
    for (int64_t i = 0; i < size; ++i) {
      uint16_t b;
      std::memcpy(&b, bytes.data() + 2 * i, 2);
      v[static_cast<size_t>(i)] = bf16_to_float(b);
    }
  } else if (dtype == "F32") {
    std::memcpy(v.data(), bytes.data(), bytes.size());
  } else {
    throw LlamaError("tensor \"" + name + "\" is " + dtype + "; a norm gain must be BF16 or F32");
  }
  return v;
}

}  // namespace

void LinearWeight::row_to_float(int64_t row, float* out) const {
  for (int64_t c = 0; c < cols; ++c)
    out[c] = bf16_to_float(compressed ? decode_element(*compressed, row, c) : dense[static_cast<size_t>(row * cols + c)]);
}

LinearWeight make_linear(std::string name, int64_t rows, int64_t cols, std::vector<uint16_t> values, WeightForm form) {
  LinearWeight w;
  w.name = std::move(name);
  w.rows = rows;
  w.cols = cols;
  if (form == WeightForm::compressed) {
    auto m = std::make_unique<CompressedMatrix>(encode(values.data(), rows, cols, EncodeOptions{0}));
    // The container's rule: a matrix whose TCA-TBE payload would not be smaller stays BF16.
    if (m->payload_bytes() < rows * cols * 2) {
      w.compressed = std::move(m);
      return w;
    }
  }
  w.dense = std::move(values);
  return w;
}

std::vector<const LinearWeight*> LlamaWeights::matmul_weights() const {
  std::vector<const LinearWeight*> all;
  for (const LayerWeights& l : layers)
    for (const LinearWeight* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w3, &l.w2}) all.push_back(w);
  all.push_back(&classifier());
  return all;
}

LlamaWeights load_weights(const std::string& path, WeightForm form) {
  const TensorSource src(path);
  LlamaWeights w;
  w.config = config_from_metadata(src.metadata());
  w.form = form;
  const LlamaConfig& c = w.config;
  w.tok_embeddings = load_linear(src, "tok_embeddings.weight", c.vocab_size, c.dim, form);
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LayerWeights layer;
    layer.attention_norm = load_vector(src, p + "attention_norm.weight", c.dim);
    layer.wq = load_linear(src, p + "attention.wq.weight", c.dim, c.dim, form);
    layer.wk = load_linear(src, p + "attention.wk.weight", c.kv_dim(), c.dim, form);
    layer.wv = load_linear(src, p + "attention.wv.weight", c.kv_dim(), c.dim, form);
    layer.wo = load_linear(src, p + "attention.wo.weight", c.dim, c.dim, form);
    layer.ffn_norm = load_vector(src, p + "ffn_norm.weight", c.dim);
    layer.w1 = load_linear(src, p + "feed_forward.w1.weight", c.hidden_dim, c.dim, form);
    layer.w2 = load_linear(src, p + "feed_forward.w2.weight", c.dim, c.hidden_dim, form);
    layer.w3 = load_linear(src, p + "feed_forward.w3.weight", c.hidden_dim, c.dim, form);
    w.layers.push_back(std::move(layer));
  }
  if (src.has("layers." + std::to_string(c.n_layers) + ".attention_norm.weight"))
    throw LlamaError("not a Llama layout: " + path + " has more layers than n_layers = " + std::to_string(c.n_layers));
  w.norm = load_vector(src, "norm.weight", c.dim);
  if (src.has("output.weight")) w.output = load_linear(src, "output.weight", c.vocab_size, c.dim, form);
  return w;
}

}  // namespace zipserv::llama
