/*! \file kernel_launcher.h
 *  \brief `launch_kernel(name, kernel, grid, threads, shared_bytes, stream, args...)`: the one
 *         place a kernel is started. Under nvcc it is `kernel<<<grid, threads, shared_bytes,
 *         stream>>>(args...)`; under a host compiler it runs the same kernel on cuda-sim with the
 *         current backend's simulator options.
 */
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "zipserv/cuda/launch_plan.h"
#include "zipserv/cuda/primitives.h"

#if defined(__CUDACC__)
#include <cuda_runtime.h>

#include "cuda_check.h"
#else
#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/sim/simulator.h"
#endif

struct CUstream_st;

namespace zipserv::cuda::detail::ZIPSERV_CUDA_TARGET {

#if defined(__CUDACC__)
/// Raises the kernel's dynamic shared-memory limit when `bytes` exceeds the 48 KB default,
/// after checking the device's opt-in maximum (the error names both numbers). Per launch: the
/// size is computed for each call's matrix, never cached (spec G.2).
inline void allow_dynamic_shared_memory(const void* kernel, size_t bytes) {
  if (bytes <= kDefaultDynamicSmemLimit) return;
  int device = 0, optin = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
             "reading the shared-memory opt-in limit");
  if (bytes > static_cast<size_t>(optin))
    throw std::runtime_error("zipserv::cuda: kernel needs " + std::to_string(bytes) +
                             " bytes of shared memory, the device allows " + std::to_string(optin));
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
             "raising the dynamic shared-memory limit");
}

template <typename... Params, typename... Args>
void launch_kernel(const char* name, void (*kernel)(Params...), GridShape grid, int threads, size_t shared_bytes,
                   CUstream_st* stream, const Args&... args) {
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), shared_bytes);
  kernel<<<dim3(static_cast<unsigned>(grid.x), static_cast<unsigned>(grid.y), static_cast<unsigned>(grid.z)),
           threads, shared_bytes, stream>>>(args...);
  check_cuda(cudaGetLastError(), (std::string("launching ") + name).c_str());
}
#else
/// The largest dynamic shared memory a block may use on cuda-sim: sm_80's opt-in maximum, the
/// smallest of the GPUs the kernels are built for, so a launch the simulator accepts fits them all.
inline constexpr size_t kSimulatedSharedLimit = 166912;

template <typename... Params, typename... Args>
void launch_kernel(const char* name, void (*kernel)(Params...), GridShape grid, int threads, size_t shared_bytes,
                   CUstream_st* /*stream*/, const Args&... args) {
  if (shared_bytes > kSimulatedSharedLimit)
    throw std::runtime_error("zipserv::cuda: kernel needs " + std::to_string(shared_bytes) +
                             " bytes of shared memory, sm_80 allows " + std::to_string(kSimulatedSharedLimit));
  const sim::Dim3 g{static_cast<unsigned>(grid.x), static_cast<unsigned>(grid.y), static_cast<unsigned>(grid.z)};
  sim::launch(name, g, sim::Dim3{static_cast<unsigned>(threads), 1, 1}, shared_bytes, current_backend().simulator,
              [&] { kernel(args...); });
}
#endif

}  // namespace zipserv::cuda::detail::ZIPSERV_CUDA_TARGET
