// Shared by the llama/ tests: the bundled model and tokenizer, a compressed copy of the model made
// once per test program, and a way to write variants of the model (other metadata, tensors
// removed or reshaped) for the bad-input tests.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "container_test_util.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/llama/tokenizer.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/container/safetensors_writer.h"

namespace zipserv::test {

inline std::string model_path() { return fixture("stories260K.safetensors"); }
inline std::string tokenizer_path() { return fixture("tok512.bin"); }

inline const llama::Tokenizer& tokenizer() {
  static const llama::Tokenizer t = llama::Tokenizer::load(tokenizer_path(), 512);
  return t;
}

/// The bundled model compressed by `zipserv compress`'s library, once per program.
inline const std::string& compressed_model_path() {
  static ScratchDir dir;
  static const std::string path = [] {
    const std::string p = dir.file("stories260K.zipserv.safetensors");
    st::compress_file(model_path(), p);
    return p;
  }();
  return path;
}

/// Writes a copy of the bundled model to `path`: `edit_metadata` may change the metadata pairs,
/// `edit_tensors` the list of tensors (names, shapes, bytes).
inline void write_variant(const std::string& path,
                          const std::function<void(std::map<std::string, std::string>&)>& edit_metadata,
                          const std::function<void(std::vector<st::TensorData>&)>& edit_tensors = {}) {
  const st::SafetensorsFile file = st::SafetensorsFile::open(model_path());
  std::vector<st::TensorData> tensors;
  for (const st::TensorInfo& t : file.tensors()) {
    const auto b = file.bytes(t);
    tensors.push_back({{t.name, t.dtype, t.shape}, {b.begin(), b.end()}});
  }
  std::map<std::string, std::string> metadata = file.metadata();
  if (edit_metadata) edit_metadata(metadata);
  if (edit_tensors) edit_tensors(tensors);
  st::write_safetensors(path, tensors, metadata);
}

}  // namespace zipserv::test
