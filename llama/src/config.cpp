// LlamaConfig from a safetensors file's metadata pairs (see config.h).
#include "zipserv/llama/config.h"

#include <cerrno>
#include <cstdlib>

namespace zipserv::llama {
namespace {

int positive_int(const std::map<std::string, std::string>& metadata, const char* key) {
  const auto it = metadata.find(key);
  if (it == metadata.end())
    throw LlamaError(std::string("model metadata has no \"") + key +
                     "\": generate needs dim, hidden_dim, n_layers, n_heads, n_kv_heads and vocab_size "
                     "(the llama2.c configuration)");
  const std::string& text = it->second;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 1 || value > (1L << 24))
    throw LlamaError(std::string("model metadata \"") + key + "\" is \"" + text +
                     "\", not a whole number from 1 to 16777216");
  return static_cast<int>(value);
}

}  // namespace

LlamaConfig config_from_metadata(const std::map<std::string, std::string>& metadata) {
  if (const auto it = metadata.find("architecture"); it != metadata.end() && it->second != "llama")
    throw LlamaError("model metadata says architecture \"" + it->second + "\"; generate runs \"llama\" only");
  LlamaConfig c;
  c.dim = positive_int(metadata, "dim");
  c.hidden_dim = positive_int(metadata, "hidden_dim");
  c.n_layers = positive_int(metadata, "n_layers");
  c.n_heads = positive_int(metadata, "n_heads");
  c.n_kv_heads = positive_int(metadata, "n_kv_heads");
  c.vocab_size = positive_int(metadata, "vocab_size");
  if (c.dim % c.n_heads != 0)
    throw LlamaError("model metadata: dim " + std::to_string(c.dim) + " is not a multiple of n_heads " +
                     std::to_string(c.n_heads));
  if (c.n_heads % c.n_kv_heads != 0)
    throw LlamaError("model metadata: n_heads " + std::to_string(c.n_heads) + " is not a multiple of n_kv_heads " +
                     std::to_string(c.n_kv_heads));
  if (c.head_size() % 2 != 0)  // RoPE rotates pairs
    throw LlamaError("model metadata: head size dim / n_heads = " + std::to_string(c.head_size()) +
                     " is odd; RoPE rotates pairs");
  return c;
}

}  // namespace zipserv::llama
