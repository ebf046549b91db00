// The registry of matmul engines (see matmul_engine.h). The built-in engines are listed here by
// hand, so a static library cannot drop them; plug-ins register themselves at start-up.
#include <mutex>
#include <utility>

#include "builtin_engines.h"
#include "zipserv/llama/config.h"
#include "zipserv/llama/matmul_engine.h"

namespace zipserv::llama {
namespace {

struct Entry {
  std::string name;
  std::string summary;
  EngineFactory factory;
};

struct Registry {
  std::mutex mutex;
  std::vector<Entry> entries;
  Registry() {
    entries.push_back({"reference", "zipserv::zipgemm: the scalar definition (decodes W, then the reference GEMM)",
                       make_reference_engine});
    entries.push_back({"emulation", "the Highway CPU ZipGEMM (zipserv::emu::zipgemm), bit-exact with the reference",
                       make_emulation_engine});
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

bool register_engine(const std::string& name, const std::string& summary, EngineFactory factory) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  for (Entry& e : r.entries)
    if (e.name == name) {
      e = {name, summary, std::move(factory)};
      return true;
    }
  r.entries.push_back({name, summary, std::move(factory)});
  return true;
}

std::vector<std::string> engine_names() {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const Entry& e : r.entries) names.push_back(e.name);
  return names;
}

std::string engine_summary(const std::string& name) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  for (const Entry& e : r.entries)
    if (e.name == name) return e.summary;
  return "";
}

std::unique_ptr<MatmulEngine> make_engine(const std::string& name, const EngineOptions& options) {
  EngineFactory factory;
  {
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    for (const Entry& e : r.entries)
      if (e.name == name) factory = e.factory;
  }
  if (!factory) {
    std::string list;
    for (const std::string& n : engine_names()) list += (list.empty() ? "" : ", ") + n;
    throw LlamaError("unknown engine \"" + name + "\" (available: " + list + ")");
  }
  return factory(options);
}

}  // namespace zipserv::llama
