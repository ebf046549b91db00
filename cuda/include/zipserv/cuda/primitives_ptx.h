/*! \file primitives_ptx.h
 *  \brief The GPU implementation of the device primitives (see primitives.h): inline PTX and
 *         plain loads and stores, exactly the instructions the kernels used before the
 *         primitives existed. All need sm_80 or newer (the format's minimum).
 */
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "zipserv/reference/host_device.h"

namespace zipserv::cuda {
inline namespace ZIPSERV_CUDA_TARGET {
namespace dev {

/// Copies 16 bytes global -> shared without passing through registers (L1 bypassed: `.cg`).
/// `src_bytes` (0 or 16 here) bytes are read; the rest of the 16 are zero-filled, so
/// src_bytes = 0 writes 16 zero bytes and reads nothing.
/// REFERENCE: equals memcpy(dst, src, src_bytes); memset(dst + src_bytes, 0, 16 - src_bytes),
/// completed only after cp_async_wait_group().
/// Both addresses must be 16-B aligned (`.cg` exists only for 16-B copies). The operands are the
/// state-space addresses the instruction names: `.shared` (32-bit, __cvta_generic_to_shared) and
/// `.global` (__cvta_generic_to_global; the same bits as the generic address on every current GPU,
/// converted anyway so that the asm states exactly what PTX asks for).
__device__ __forceinline__ void cp_async_16(void* dst_smem, const void* src_global, int src_bytes = 16) {
  const uint32_t dst = static_cast<uint32_t>(__cvta_generic_to_shared(dst_smem));
  const uint64_t src = static_cast<uint64_t>(__cvta_generic_to_global(src_global));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
}

/// The copy16 the staging functions (block_tile_staging.h) use in the kernels.
struct CpAsyncCopy16 {
  /// One 16-B cp.async (see cp_async_16).
  __device__ __forceinline__ void operator()(void* dst_smem, const void* src_global, int src_bytes) const {
    cp_async_16(dst_smem, src_global, src_bytes);
  }
};

/// Closes the group of cp.async issued by this thread since the last commit (may be empty).
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/// Waits until at most `kPending` of this thread's committed groups are still in flight.
/// Other threads' copies become visible only after a __syncthreads() that follows.
template <int kPending>
__device__ __forceinline__ void cp_async_wait_group() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

/// D = A B + C on one 16x16 (A) by 16x8 (B) BF16 tile with FP32 accumulators, in place on c.
/// a: (T32, V8) bf16 in 4 regs (fragment_layout.h a_frag_coord), b: (T32, V4) in 2 regs
/// (b_frag_coord), c: (T32, V4) fp32 (c_frag_coord).
/// REFERENCE: c[m][n] += sum_k A[m][k] * B[k][n] (the tensor core's internal summation order).
__device__ __forceinline__ void mma_m16n8k16_bf16_f32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/// The kernel's dynamic shared memory (the size given at launch), 128-B aligned.
__device__ __forceinline__ unsigned char* dynamic_shared_memory() {
  extern __shared__ __align__(128) unsigned char smem[];
  return smem;
}

/// A shared-memory load of a T at p (p aligned for T). Reading a uint32 pair of bf16 this way is
/// what the GPU does; the host implementation uses memcpy instead.
template <typename T>
ZIPSERV_HD __forceinline__ T ld_shared(const void* p) {
  return *static_cast<const T*>(p);
}
/// A shared-memory store of v at p.
template <typename T>
ZIPSERV_HD __forceinline__ void st_shared(void* p, T v) {
  *static_cast<T*>(p) = v;
}
/// A global-memory load.
template <typename T>
ZIPSERV_HD __forceinline__ T ld_global(const T* p) {
  return *p;
}
/// A global-memory store.
template <typename T>
ZIPSERV_HD __forceinline__ void st_global(T* p, T v) {
  *p = v;
}

/// 16 bytes moved by one vector load or store.
using Vec16 = uint4;

/// Stops the kernel: a condition the host could not check was violated. The launch then fails
/// with cudaErrorLaunchFailure (`trap`); cuda-sim reports `what`.
ZIPSERV_HD __forceinline__ void fail(const char* what) {
  (void)what;
#if defined(__CUDA_ARCH__)
  __trap();
#endif
}

/// FP32 -> BF16 bits, round to nearest even (`cvt.rn.bf16.f32`).
/// REFERENCE: zipserv::float_to_bf16_rne for every non-NaN value.
__device__ __forceinline__ uint16_t float_to_bf16_rn(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }

/// Number of set bits of a 64-bit word (`popc.b64`).
ZIPSERV_HD __forceinline__ int popc64(uint64_t word) {
#if defined(__CUDA_ARCH__)
  return __popcll(word);
#else
  return __builtin_popcountll(word);  // nvcc's host pass: never run, but must compile
#endif
}

}  // namespace dev
}  // namespace ZIPSERV_CUDA_TARGET
}  // namespace zipserv::cuda
