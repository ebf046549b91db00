/*! \file cuda_check.h
 *  \brief Turns a failed CUDA runtime call into a std::runtime_error that names the call and
 *         CUDA's message (internal to the CUDA library; plain C++ over cuda_runtime_api.h).
 */
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace zipserv::cuda::detail {

/// Throws std::runtime_error("zipserv::cuda: <what>: <CUDA error name>: <message>") unless ok.
inline void check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();  // clear the sticky-free error state so a later call starts clean
  throw std::runtime_error(std::string("zipserv::cuda: ") + what + ": " + cudaGetErrorName(status) + ": " +
                           cudaGetErrorString(status));
}

}  // namespace zipserv::cuda::detail
