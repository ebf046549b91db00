/*! \file backend.h
 *  \brief Where the CUDA implementation runs: on a GPU, or on the cuda-sim CPU simulator of
 *         blocks and warps. The same kernels, launch code and host API serve both.
 *
 *  The backend is chosen per CPU thread, like CUDA's current device: every call of the host API
 *  (zipgemm.h, device_matrix.h) made on this thread while a BackendScope lives runs on that
 *  backend, and memory it allocates belongs to it.
 *
 *  \code
 *  zipserv::cuda::BackendScope on_cpu(zipserv::cuda::Backend::cuda_sim());
 *  std::vector<uint16_t> y = zipserv::cuda::zipgemm(w, x.data(), n);  // the real kernel, on the CPU
 *  \endcode
 */
#pragma once

#include <string>

#include "zipserv/cuda/sim/simulator.h"

namespace zipserv::cuda {

/// \addtogroup cuda_sim
/// \{

/// The two places the kernels can run.
enum class BackendKind {
  gpu,        ///< a CUDA device (needs a build with nvcc and a GPU of compute capability >= 8.0)
  simulator,  ///< cuda-sim: the same kernel source compiled for the CPU, every thread a fiber
};

/// A backend and, for the simulator, how it simulates.
struct Backend {
  BackendKind kind = BackendKind::gpu;  ///< where the kernels run
  sim::Options simulator;               ///< how cuda-sim simulates (used when kind == simulator)

  /// The GPU backend.
  static Backend gpu() { return Backend{}; }
  /// The cuda-sim backend; default options: seed 1, cp.async landing at the wait,
  /// ieee_sequential numerics, all cores.
  static Backend cuda_sim(const sim::Options& options = {}) { return Backend{BackendKind::simulator, options}; }
  /// "gpu", or "cuda-sim (numerics ieee_sequential, seed 1)".
  std::string describe() const;
};

/// The backend of this CPU thread (the GPU unless a BackendScope says otherwise).
const Backend& current_backend();

/// Makes `backend` this thread's backend until the scope ends (scopes nest).
class BackendScope {
 public:
  /// Makes `backend` current; the previous one comes back when the scope ends.
  explicit BackendScope(const Backend& backend);
  ~BackendScope();
  BackendScope(const BackendScope&) = delete;
  BackendScope& operator=(const BackendScope&) = delete;

 private:
  Backend previous_;
};

/// True when this build contains the GPU kernels (configured with nvcc).
bool gpu_built();

/// \}

}  // namespace zipserv::cuda
