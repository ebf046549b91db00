/*! \file primitives_sim.h
 *  \brief The cuda-sim implementation of the device primitives (see primitives.h), for the
 *         kernels compiled by a host C++ compiler; plus what CUDA's compiler provides and a host
 *         compiler does not: `__global__` and friends, `__syncthreads()`, the index variables.
 *
 *  Every primitive takes a defaulted std::source_location, so a hazard report names the line of
 *  the kernel (or of its ZIPSERV_HD step) that made the access. Outside a launch (a host test
 *  calling a step directly) the accesses are plain memcpy and cp.async is a synchronous copy.
 */
#pragma once

#include <cstdint>
#include <cstring>
#include <source_location>
#include <stdexcept>

#include "zipserv/reference/bf16.h"
#include "zipserv/cuda/sim/device_calls.h"

/// \cond HOST_STAND_INS
// CUDA's function and variable qualifiers mean nothing to the host compiler.
#ifndef __global__
#define __global__
#endif
#ifndef __device__
#define __device__
#endif
#ifndef __host__
#define __host__
#endif
#ifndef __forceinline__
#define __forceinline__ inline
#endif
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
/// \endcond

/// __syncthreads(): a block barrier, checked (see zipserv::cuda::sim::block_barrier).
inline void __syncthreads(std::source_location at = std::source_location::current()) {
  zipserv::cuda::sim::block_barrier(at);
}

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {
namespace dev {

/// cp.async of 16 bytes: src_bytes read, the rest zero (see primitives_ptx.h).
inline void cp_async_16(void* dst_smem, const void* src_global, int src_bytes = 16,
                        std::source_location at = std::source_location::current()) {
  sim::cp_async_16(dst_smem, src_global, src_bytes, at);
}

/// The copy16 the staging functions use in the kernels.
struct CpAsyncCopy16 {
  /// One 16-B cp.async (see cp_async_16).
  void operator()(void* dst_smem, const void* src_global, int src_bytes,
                  std::source_location at = std::source_location::current()) const {
    sim::cp_async_16(dst_smem, src_global, src_bytes, at);
  }
};

/// cp.async.commit_group.
inline void cp_async_commit() { sim::cp_async_commit(); }

/// cp.async.wait_group kPending.
template <int kPending>
inline void cp_async_wait_group(std::source_location at = std::source_location::current()) {
  sim::cp_async_wait_group(kPending, at);
}

/// mma.sync m16n8k16 BF16 -> FP32, a warp collective.
inline void mma_m16n8k16_bf16_f32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                  std::source_location at = std::source_location::current()) {
  sim::mma_m16n8k16_bf16_f32(c, a, b, at);
}

/// The block's dynamic shared memory.
inline unsigned char* dynamic_shared_memory() { return sim::dynamic_shared_memory(); }

/// A checked shared load of a T at p (memcpy: well-defined for any T over any bytes).
template <typename T>
inline T ld_shared(const void* p, std::source_location at = std::source_location::current()) {
  if (sim::in_launch()) sim::check_shared_read(p, sizeof(T), at);
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
/// A checked shared store.
template <typename T>
inline void st_shared(void* p, T v, std::source_location at = std::source_location::current()) {
  if (sim::in_launch()) sim::check_shared_write(p, sizeof(T), at);
  std::memcpy(p, &v, sizeof(T));
}
/// A bounds-checked global load.
template <typename T>
inline T ld_global(const T* p, std::source_location at = std::source_location::current()) {
  if (sim::in_launch()) sim::check_global_access(p, sizeof(T), false, at);
  return *p;
}
/// A bounds-checked global store.
template <typename T>
inline void st_global(T* p, T v, std::source_location at = std::source_location::current()) {
  if (sim::in_launch()) sim::check_global_access(p, sizeof(T), true, at);
  *p = v;
}

/// 16 bytes moved by one vector load or store.
struct alignas(16) Vec16 {
  uint32_t x;  ///< bytes 0..3
  uint32_t y;  ///< bytes 4..7
  uint32_t z;  ///< bytes 8..11
  uint32_t w;  ///< bytes 12..15
};

/// Stops the kernel: reported by cuda-sim as a kernel_exception with `what`.
[[noreturn]] inline void fail(const char* what) { throw std::runtime_error(what); }

/// FP32 -> BF16 bits, round to nearest even; a NaN becomes the canonical 0x7FFF, as
/// cvt.rn.bf16.f32 gives it.
inline uint16_t float_to_bf16_rn(float f) {
  return f != f ? uint16_t{0x7FFF} : zipserv::float_to_bf16_rne(f);
}

/// Number of set bits of a 64-bit word.
inline int popc64(uint64_t word) { return __builtin_popcountll(word); }

}  // namespace dev
}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
