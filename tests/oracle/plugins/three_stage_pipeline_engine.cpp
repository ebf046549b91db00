// A kernel variant plugged into the oracle: the fused ZipGEMM with a three-stage cp.async
// pipeline (two K steps in flight while one computes; GemmOptions::pipeline_stages = 3),
// registered twice: "cuda-sim-3stage" runs it on the cuda-sim CPU simulator on every machine,
// "cuda-3stage" on the GPU (skipped with the reason where there is none). This is the route of
// docs/architecture.md for a new kernel: write it with the primitives of zipserv/cuda/primitives.h,
// launch it from the host API, register an engine, then `zipserv check --engine cuda-sim-3stage`.
#include <algorithm>
#include <memory>
#include <string>

#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/oracle/engine.h"

namespace {

class ThreeStagePipelineEngine final : public zipserv::oracle::Engine {
 public:
  ThreeStagePipelineEngine(std::string name, zipserv::cuda::Backend backend)
      : name_(std::move(name)), backend_(backend) {}
  std::string name() const override { return name_; }
  std::string unavailable_reason() const override {
    const zipserv::cuda::BackendScope scope(backend_);
    return zipserv::cuda::unavailable_reason();
  }
  std::optional<std::vector<uint16_t>> gemm(const zipserv::CompressedMatrix& w, const uint16_t* x,
                                            int64_t n) const override {
    const zipserv::cuda::BackendScope scope(backend_);
    zipserv::GemmOptions options;
    options.split_k = 1;
    options.pipeline_stages = 3;
    std::vector<uint16_t> y(static_cast<size_t>(w.rows * n));
    zipserv::cuda::zipgemm(w, x, n, y.data(), options);
    return y;
  }
  // On cuda-sim (ieee_sequential, one split) the MMAs add in the reference's order; on a GPU the
  // tensor cores add in their own.
  zipserv::oracle::GemmContract gemm_contract() const override {
    return {backend_.kind == zipserv::cuda::BackendKind::simulator ? zipserv::oracle::SummationOrder::reference
                                                                   : zipserv::oracle::SummationOrder::other,
            0, true};  // the epilogue's cvt.rn.bf16.f32 writes every NaN as 0x7FFF
  }
  std::string numerics() const override {
    return backend_.kind == zipserv::cuda::BackendKind::simulator ? "ieee_sequential" : "tensor cores of this GPU";
  }

 private:
  std::string name_;
  zipserv::cuda::Backend backend_;
};

const bool registered_sim = zipserv::oracle::register_engine("cuda-sim-3stage", [] {
  return std::make_unique<ThreeStagePipelineEngine>("cuda-sim-3stage", zipserv::cuda::Backend::cuda_sim());
});
const bool registered_gpu = zipserv::oracle::register_engine("cuda-3stage", [] {
  return std::make_unique<ThreeStagePipelineEngine>("cuda-3stage", zipserv::cuda::Backend::gpu());
});

}  // namespace
