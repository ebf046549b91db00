/*! \file device_calls.h
 *  \brief The calls through which a kernel compiled for cuda-sim reaches the simulator: the
 *         CPU side of every device primitive (barrier, cp.async, mma.sync, checked shared and
 *         global accesses, the thread and block indices).
 *
 *  Kernels never call these directly: they call the primitives of zipserv/cuda/primitives.h,
 *  which are PTX under nvcc and these functions under a host compiler. Outside a launch (a host
 *  test calling a ZIPSERV_HD step directly) the access checks do nothing.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <source_location>

#include "zipserv/cuda/sim/simulator.h"

namespace zipserv::cuda::sim {

namespace detail {
struct ThreadState;
/// The simulated thread running on this CPU thread, or nullptr outside a launch.
inline thread_local ThreadState* current_thread = nullptr;
}  // namespace detail

/// True while a simulated thread runs on this CPU thread.
inline bool in_launch() { return detail::current_thread != nullptr; }

/// __syncthreads(): waits until every thread of the block reaches this same call site.
void block_barrier(const std::source_location& where);

/// cp.async.cg.shared.global of 16 bytes: `src_bytes` (0..16) read from `src`, the rest zero.
void cp_async_16(void* dst_shared, const void* src_global, int src_bytes, const std::source_location& where);
/// cp.async.commit_group: closes this thread's open group (possibly empty).
void cp_async_commit();
/// cp.async.wait_group N: lands all of this thread's committed groups but the newest `pending`.
void cp_async_wait_group(int pending, const std::source_location& where);

/// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, a warp collective: c += A B with A, B
/// gathered from the 32 lanes' registers (PTX ISA fragment layouts), under Options::numerics.
void mma_m16n8k16_bf16_f32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                           const std::source_location& where);

/// The launch's dynamic shared memory of this thread's block (nullptr outside a launch).
unsigned char* dynamic_shared_memory();

/// Checks a `bytes`-byte shared-memory read at `p` by this thread (race check).
void check_shared_read(const void* p, size_t bytes, const std::source_location& where);
/// Checks a `bytes`-byte shared-memory write at `p` by this thread (race check).
void check_shared_write(const void* p, size_t bytes, const std::source_location& where);
/// Checks a global-memory access lies inside a registered allocation.
void check_global_access(const void* p, size_t bytes, bool write, const std::source_location& where);

}  // namespace zipserv::cuda::sim

// CUDA's built-in index variables, one set per CPU thread; the simulator sets them before it
// resumes each simulated thread.
inline thread_local zipserv::cuda::sim::Dim3 threadIdx;  ///< CUDA's threadIdx under cuda-sim
inline thread_local zipserv::cuda::sim::Dim3 blockIdx;   ///< CUDA's blockIdx under cuda-sim
inline thread_local zipserv::cuda::sim::Dim3 blockDim;   ///< CUDA's blockDim under cuda-sim
inline thread_local zipserv::cuda::sim::Dim3 gridDim;    ///< CUDA's gridDim under cuda-sim
