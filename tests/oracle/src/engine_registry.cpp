// The engine registry: built-in engines are added on first use (not by static initialisers,
// which a static library's linker may drop), others by register_engine().
#include <algorithm>
#include <mutex>
#include <utility>

#include "zipserv/oracle/builtin_engines.h"
#include "zipserv/oracle/engine.h"

namespace zipserv::oracle {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::pair<std::string, EngineFactory>> entries;  // in registration order
};

Registry& registry() {
  static Registry* r = [] {
    auto* fresh = new Registry;  // never destroyed: engines may be made during static teardown
    fresh->entries.emplace_back("reference", [] { return make_reference_engine(); });
    fresh->entries.emplace_back("emulation", [] { return make_emulation_engine(1); });
    fresh->entries.emplace_back("emulation-split-k4", [] { return make_emulation_engine(4); });
    // "cuda" is always listed: built without CUDA, or without a device, it says why and is skipped.
    fresh->entries.emplace_back("cuda", [] { return make_cuda_engine(); });
    // The same kernels on cuda-sim, on every machine: split-K off, and the GPU's automatic choice.
    fresh->entries.emplace_back("cuda-sim", [] { return make_cuda_sim_engine(1); });
    fresh->entries.emplace_back("cuda-sim-split-k", [] { return make_cuda_sim_engine(0); });
    fresh->entries.emplace_back("cublas", [] { return make_cublas_engine(); });
    return fresh;
  }();
  return *r;
}

}  // namespace

bool register_engine(const std::string& name, EngineFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = std::find_if(r.entries.begin(), r.entries.end(), [&](const auto& e) { return e.first == name; });
  if (it != r.entries.end())
    it->second = std::move(factory);
  else
    r.entries.emplace_back(name, std::move(factory));
  return true;
}

bool unregister_engine(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = std::find_if(r.entries.begin(), r.entries.end(), [&](const auto& e) { return e.first == name; });
  if (it == r.entries.end()) return false;
  r.entries.erase(it);
  return true;
}

std::vector<std::string> registered_engines() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& e : r.entries) names.push_back(e.first);
  return names;
}

std::unique_ptr<Engine> make_engine(const std::string& name) {
  Registry& r = registry();
  EngineFactory factory;
  {
    std::lock_guard lock(r.mutex);
    auto it = std::find_if(r.entries.begin(), r.entries.end(), [&](const auto& e) { return e.first == name; });
    if (it == r.entries.end()) return nullptr;
    factory = it->second;
  }
  return factory();
}

}  // namespace zipserv::oracle
