/*! \file primitives.h
 *  \brief Every device-specific operation the kernels use, each under one name, with two
 *         implementations: PTX for the GPU (primitives_ptx.h, chosen under nvcc) and the cuda-sim
 *         CPU simulator (primitives_sim.h, chosen under a host C++ compiler).
 *
 *  The kernels (zipgemm_kernel.cuh, decode_kernel.cuh, split_k_reduction.cuh) and their
 *  ZIPSERV_HD steps use only these, CUDA's index variables and `__syncthreads()`, so the same
 *  source compiles with nvcc for sm_80 / sm_90 and with g++ or clang++ into a CPU build, with no
 *  `#ifdef` inside a kernel body. Namespace zipserv::cuda::dev:
 *
 *  | primitive | GPU | cuda-sim |
 *  | --- | --- | --- |
 *  | `cp_async_16(dst, src, src_bytes)`, `CpAsyncCopy16` | `cp.async.cg.shared.global` 16 B, zero fill | checked copy, lands at the wait (or at issue) |
 *  | `cp_async_commit()`, `cp_async_wait_group<N>()` | `cp.async.commit_group` / `wait_group N` | per-thread groups |
 *  | `mma_m16n8k16_bf16_f32(c, a, b)` | `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32` | warp collective, PTX-table layouts, named numerics |
 *  | `dynamic_shared_memory()` | `extern __shared__` array | the block's simulated shared memory |
 *  | `ld_shared<T>(p)`, `st_shared<T>(p, v)` | plain shared load / store | race-checked, memcpy (no type punning) |
 *  | `ld_global<T>(p)`, `st_global<T>(p, v)` | plain global load / store | bounds-checked against allocations |
 *  | `float_to_bf16_rn(f)` | `cvt.rn.bf16.f32` | RNE, NaN -> canonical 0x7FFF |
 *  | `popc64(w)` | `popc.b64` | `__builtin_popcountll` |
 */
#pragma once

// The namespace every header that uses the primitives puts its code in: `on_gpu` under nvcc,
// `on_sim` under a host compiler. A program may hold both builds of the same kernel and step
// (the CUDA library's host pass and the simulator build); distinct names keep the linker from
// merging an inline function of one with the other's. A build of a modified kernel (the mutants
// of tests/cuda/mutants/) defines a name of its own on the command line.
#if defined(__CUDACC__)
#ifndef ZIPSERV_CUDA_TARGET
/// The namespace of this build's kernels and steps: `on_gpu` (nvcc) or `on_sim` (host compiler).
#define ZIPSERV_CUDA_TARGET on_gpu
#endif
#include "zipserv/cuda/primitives_ptx.h"
#else
#ifndef ZIPSERV_CUDA_TARGET
/// The namespace of this build's kernels and steps: `on_gpu` (nvcc) or `on_sim` (host compiler).
#define ZIPSERV_CUDA_TARGET on_sim
#endif
#include "zipserv/cuda/primitives_sim.h"
#endif
