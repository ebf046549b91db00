/*! \file tensor_core_validation.h
 *  \brief Reads the real GPU results of data/tensor-core-validation/ (d = c + sum a_k b_k with BF16
 *         a, b and FP32 c, d, measured on an A100, an L40S and an H100), the ground truth the
 *         tensor-core models (tensor_core_model.h) are tested against.
 *
 *  Format (data/tensor-core-validation/PROVENANCE.md), one line per case in each of four files
 *  of `<dir>/<GPU>/`: `a_<GPU>_bf16.txt` and `b_<GPU>_bf16.txt` hold K hexadecimal FP32 patterns
 *  of BF16 values (low 16 bits zero), `c_<GPU>_fp32.txt` and `d_<GPU>_fp32.txt` one FP32 pattern
 *  as 32 binary digits.
 */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zipserv/reference/mma_numerics.h"

namespace zipserv {

/// \addtogroup stage_gemm
/// \{

/// One measured dot product.
struct TensorCoreCase {
  std::vector<uint16_t> a;  ///< K BF16 patterns
  std::vector<uint16_t> b;  ///< K BF16 patterns
  float c = 0.0f;           ///< the accumulator
  float d = 0.0f;           ///< the GPU's result, c + sum_k a[k] b[k]
};

/// All cases measured on the GPU of one architecture.
struct TensorCoreValidation {
  std::string gpu;                   ///< folder name: "A100", "L40S" or "H100"
  int k = 0;                         ///< products per case (8 on A100 and L40S, 16 on H100)
  std::vector<TensorCoreCase> cases;  ///< in file order (case i is line i + 1)
};

/// returns the cases of `numerics`'s GPU (tensor_core_params(numerics).gpu) from `dir`
/// (normally ZIPSERV_DATA_DIR "/tensor-core-validation"). Throws std::runtime_error with a
/// one-line message naming the file and line when a file is missing or malformed, and
/// std::invalid_argument for ieee_sequential.
TensorCoreValidation load_tensor_core_validation(const std::string& dir, MmaNumerics numerics);

/// \}

}  // namespace zipserv
