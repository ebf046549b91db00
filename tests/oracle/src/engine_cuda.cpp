// The CUDA engines: the fused ZipGEMM and decode kernels behind the Engine interface, on
// the GPU ("cuda", "cublas": skipped with the reason when the build or the machine has none) and
// on the cuda-sim CPU simulator ("cuda-sim", "cuda-sim-split-k": every machine).
#include <algorithm>
#include <memory>
#include <string>

#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/decode.h"
#include "zipserv/oracle/builtin_engines.h"

namespace zipserv::oracle {
namespace {

// Every stage of the CUDA host API, run on one backend.
class KernelEngine : public Engine {
 public:
  KernelEngine(std::string name, cuda::Backend backend, int split_k)
      : name_(std::move(name)), backend_(backend), split_k_(split_k) {}
  std::string name() const override { return name_; }
  std::string unavailable_reason() const override {
    const cuda::BackendScope scope(backend_);
    return cuda::unavailable_reason();
  }
  std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& w) const override {
    const cuda::BackendScope scope(backend_);
    return cuda::trace_lane_fragments(w);
  }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override {
    const cuda::BackendScope scope(backend_);
    return cuda::decode(w);
  }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    const cuda::BackendScope scope(backend_);
    GemmOptions options;
    options.split_k = split_k_ == 0 ? 0 : std::min<int>(split_k_, static_cast<int>(w.block_cols()));
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    cuda::zipgemm(w, x, n, y.data(), options);
    return y;
  }
  GemmContract gemm_contract() const override {
    // On cuda-sim with ieee_sequential numerics and one split, every mma adds its 16 products one
    // by one onto the running accumulator, K steps in order: exactly the reference's order, so
    // the output must equal the reference on any input. Otherwise (a GPU's tensor cores, a
    // tensor-core model, split-K) the order is another: bit for bit only on exact inputs.
    const bool reference_order = backend_.kind == cuda::BackendKind::simulator && split_k_ == 1 &&
                                 backend_.simulator.numerics == MmaNumerics::ieee_sequential;
    // The epilogue's cvt.rn.bf16.f32 (cuda-sim models it) writes every NaN as 0x7FFF.
    return {reference_order ? SummationOrder::reference : SummationOrder::other, 0, true};
  }
  std::string numerics() const override {
    if (backend_.kind == cuda::BackendKind::gpu) return "tensor cores of this GPU";
    return std::string(numerics_name(backend_.simulator.numerics)) +
           (split_k_ == 1 ? "" : ", split-K in FP32");
  }

 private:
  std::string name_;
  cuda::Backend backend_;
  int split_k_;
};

// cuBLAS GemmEx on the reference's decode of W: the GEMM every serving stack already trusts,
// checked by the same rule as the fused kernel (its tensor-core order is its own).
class CublasEngine final : public Engine {
 public:
  std::string name() const override { return "cublas"; }
  std::string unavailable_reason() const override {
    const cuda::BackendScope scope(cuda::Backend::gpu());
    return cuda::unavailable_reason();
  }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    const cuda::BackendScope scope(cuda::Backend::gpu());
    const std::vector<uint16_t> dense = zipserv::decode(w);
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    cuda::cublas_gemm(dense.data(), w.rows, w.cols, x, n, y.data());
    return y;
  }
  GemmContract gemm_contract() const override { return {SummationOrder::other, 0, true}; }
  std::string numerics() const override { return "tensor cores of this GPU"; }
};

}  // namespace

bool cuda_built() { return cuda::gpu_built(); }
std::unique_ptr<Engine> make_cuda_engine() { return std::make_unique<KernelEngine>("cuda", cuda::Backend::gpu(), 0); }
std::unique_ptr<Engine> make_cublas_engine() { return std::make_unique<CublasEngine>(); }
std::unique_ptr<Engine> make_cuda_sim_engine(int split_k, MmaNumerics numerics) {
  cuda::sim::Options options;
  options.numerics = numerics;
  const std::string name = split_k == 1 ? "cuda-sim" : "cuda-sim-split-k";
  return std::make_unique<KernelEngine>(name, cuda::Backend::cuda_sim(options), split_k);
}

}  // namespace zipserv::oracle
