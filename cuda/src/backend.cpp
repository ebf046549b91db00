// This thread's backend (backend.h) and the runtime that serves it (runtime.h).
#include "zipserv/cuda/backend.h"

#include <stdexcept>

#include "runtime.h"

namespace zipserv::cuda {

namespace {
thread_local Backend this_thread_backend;
}  // namespace

std::string Backend::describe() const {
  if (kind == BackendKind::gpu) return "gpu";
  return "cuda-sim (numerics " + std::string(numerics_name(simulator.numerics)) + ", seed " +
         std::to_string(simulator.seed) + ", cp.async lands " +
         (simulator.landing == sim::CpAsyncLanding::at_wait ? "at the wait" : "at issue") + ")";
}

const Backend& current_backend() { return this_thread_backend; }

BackendScope::BackendScope(const Backend& backend) : previous_(this_thread_backend) { this_thread_backend = backend; }
BackendScope::~BackendScope() { this_thread_backend = previous_; }

namespace detail {

void Runtime::require() const {
  const std::string why = unavailable_reason();
  if (!why.empty()) throw std::runtime_error("zipserv::cuda: " + why);
}

Runtime& runtime_for(const Backend& backend) {
  return backend.kind == BackendKind::simulator ? sim_runtime() : gpu_runtime();
}

void reject(const std::string& what) { throw std::invalid_argument("zipserv::cuda: " + what); }

}  // namespace detail
}  // namespace zipserv::cuda
