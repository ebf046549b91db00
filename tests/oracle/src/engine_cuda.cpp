// The "cuda" engine: the fused ZipGEMM and decompression kernels behind the Engine interface.
// Compiled to a stub returning nullptr when CUDA is not built; reports itself unavailable (and
// is listed as skipped) when the build has CUDA but the machine has no device.
#include <memory>
#include <string>

#include "unavailable_engine.h"
#include "zipserv/decode.h"
#include "zipserv/oracle/builtin_engines.h"

#if ZIPSERV_ORACLE_HAS_CUDA
#include "zipserv/cuda/zipgemm.h"
#endif

namespace zipserv::oracle {

#if ZIPSERV_ORACLE_HAS_CUDA
namespace {

class CudaEngine final : public Engine {
 public:
  std::string name() const override { return "cuda"; }
  std::string unavailable_reason() const override {
    return cuda::device_available() ? std::string() : std::string("no CUDA device available");
  }
  std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& w) const override {
    return cuda::trace_lane_fragments(w);
  }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override {
    return cuda::decompress(w);
  }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    return cuda::zipgemm(w, x, n);
  }
  // mma.sync adds the products of each k16 step inside the tensor core in its own order (and
  // the kernel may split K): bit for bit only on exact inputs, the derived bound elsewhere.
  GemmContract gemm_contract() const override { return {SummationOrder::other, 0}; }
};

// cuBLAS GemmEx on the reference's decode of W: the GEMM every serving stack already trusts,
// checked by the same rule as the fused kernel (its tensor-core order is its own).
class CublasEngine final : public Engine {
 public:
  std::string name() const override { return "cublas"; }
  std::string unavailable_reason() const override {
    return cuda::device_available() ? std::string() : std::string("no CUDA device available");
  }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    const std::vector<uint16_t> dense = zipserv::decode(w);
    return cuda::cublas_gemm(dense.data(), w.rows, w.cols, x, n);
  }
  GemmContract gemm_contract() const override { return {SummationOrder::other, 0}; }
};

}  // namespace

bool cuda_built() { return true; }
std::unique_ptr<Engine> make_cuda_engine() { return std::make_unique<CudaEngine>(); }
std::unique_ptr<Engine> make_cublas_engine() { return std::make_unique<CublasEngine>(); }
#else
bool cuda_built() { return false; }
std::unique_ptr<Engine> make_cuda_engine() {
  return std::make_unique<detail::UnavailableEngine>("cuda", "not built: configure with -DZIPSERV_ENABLE_CUDA=ON");
}
std::unique_ptr<Engine> make_cublas_engine() {
  return std::make_unique<detail::UnavailableEngine>("cublas", "not built: configure with -DZIPSERV_ENABLE_CUDA=ON");
}
#endif

}  // namespace zipserv::oracle
