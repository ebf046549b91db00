/*! \file builtin_engines.h
 *  \brief The engines the project itself provides: the reference (the definition every other
 *         engine is compared with), the CPU emulation, and the CUDA kernels.
 *
 *  The reference, the emulation and the kernels on cuda-sim run on every machine. The GPU engines
 *  ("cuda", "cublas") need a build with ZIPSERV_ENABLE_CUDA and a device; the registry (engine.h)
 *  always lists them, and without either they report why through unavailable_reason() and are
 *  listed as skipped, never passed.
 */
#pragma once

#include <memory>

#include "zipserv/reference/mma_numerics.h"
#include "zipserv/oracle/engine.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// "reference": zipserv::encode / encode_with_start_exp, lane_fragments, decode and gemm.
/// Checked against itself it must pass everything (the oracle's self-test).
std::unique_ptr<Engine> make_reference_engine();

/// "emulation" (split_k = 1: the reference summation order, compared bit for bit on any input)
/// or, for split_k > 1, "emulation-split-k<split_k>" (another order, compared by the
/// exact-input rule).
std::unique_ptr<Engine> make_emulation_engine(int split_k = 1);

/// True when this build contains the CUDA kernels (zipserv::cuda).
bool cuda_built();

/// "cuda": zipserv::cuda::decode, trace_lane_fragments and zipgemm (tensor cores: another
/// summation order). Unavailable when CUDA is not built or no device is present.
std::unique_ptr<Engine> make_cuda_engine();

/// "cublas": cuBLAS GemmEx on the reference's decode (gemm_output only; another order).
/// Unavailable when CUDA is not built or no device is present.
std::unique_ptr<Engine> make_cublas_engine();

/// The CUDA kernels' own source on the cuda-sim CPU simulator (zipserv/cuda/backend.h), under
/// `numerics`: lane fragments from the trace build, decoded weights from the decompression
/// kernel, GEMM output with `split_k` splits (0 = the automatic choice for an A100's 108 SMs).
/// Available on every machine; a hazard the simulator finds is that checkpoint's divergence.
std::unique_ptr<Engine> make_cuda_sim_engine(int split_k, MmaNumerics numerics = MmaNumerics::ieee_sequential);

/// \}

}  // namespace zipserv::oracle
