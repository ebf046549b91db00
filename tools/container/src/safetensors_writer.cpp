// The safetensors writer: header layout first, bytes afterwards (see safetensors_writer.h).
#include "zipserv/container/safetensors_writer.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "zipserv/container/safetensors.h"

namespace zipserv::st {

SafetensorsLayout layout_safetensors(const std::vector<TensorDecl>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps the declaration order, so the header reads in file order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  SafetensorsLayout layout;
  std::set<std::string> names;
  uint64_t cursor = 0;
  for (const TensorDecl& t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      throw ContainerError("cannot write tensor name \"" + t.name + "\" twice or as __metadata__");
    uint64_t bytes = dtype_size(t.dtype);
    if (bytes == 0) throw ContainerError("cannot write tensor \"" + t.name + "\": unknown dtype " + t.dtype);
    for (int64_t d : t.shape) {
      if (d < 0) throw ContainerError("cannot write tensor \"" + t.name + "\": negative dimension");
      bytes *= static_cast<uint64_t>(d);
    }
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {cursor, cursor + bytes}}};
    layout.byte_sizes.push_back(bytes);
    layout.file_offsets.push_back(cursor);
    cursor += bytes;
  }
  std::string json = header.dump();
  // Readers that map the file like the data section to start 8-byte aligned; spaces are valid
  // trailing JSON whitespace, which is how the safetensors project pads too.
  json.resize((json.size() + 7) / 8 * 8, ' ');
  const uint64_t n = json.size();
  layout.prefix.resize(8);
  std::memcpy(layout.prefix.data(), &n, 8);
  layout.prefix += json;
  for (uint64_t& off : layout.file_offsets) off += layout.prefix.size();
  layout.file_size = layout.prefix.size() + cursor;
  return layout;
}

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorDecl> decls;
  for (const TensorData& t : tensors) decls.push_back(t.decl);
  const SafetensorsLayout layout = layout_safetensors(decls, metadata);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].bytes.size() != layout.byte_sizes[i])
      throw ContainerError("tensor \"" + tensors[i].decl.name + "\" holds " + std::to_string(tensors[i].bytes.size()) +
                           " bytes but its shape needs " + std::to_string(layout.byte_sizes[i]));
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) throw ContainerError(path + ": cannot create: " + std::strerror(errno));
  bool ok = std::fwrite(layout.prefix.data(), 1, layout.prefix.size(), f.get()) == layout.prefix.size();
  for (const TensorData& t : tensors)
    ok = ok && (t.bytes.empty() || std::fwrite(t.bytes.data(), 1, t.bytes.size(), f.get()) == t.bytes.size());
  if (!ok || std::fclose(f.release()) != 0) throw ContainerError(path + ": write failed");
}

}  // namespace zipserv::st
