// The CUDA kernels as matmul engines of the forward pass: "cuda-sim" runs them on the cuda-sim
// CPU simulator (every machine), "cuda" on the GPU (unavailable without one). Weights are uploaded
// once at prepare(); each multiplication uploads X, launches, and downloads Y.
//
// Both use one split (split_k = 1): the compressed kernel and its dense twin then feed the MMAs
// identical operands in the same order, so compressed and original weights give the same bits;
// on cuda-sim with ieee_sequential numerics that order is also the reference's.
#include <memory>
#include <string>
#include <vector>

#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/device_matrix.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/llama/matmul_engine.h"

namespace zipserv::llama {
namespace {

// A weight on the engine's device: the compressed arrays, or the zero-padded dense matrix.
struct DeviceWeights final : EngineWeights {
  int64_t rows = 0, cols = 0;
  std::unique_ptr<cuda::DeviceCompressedMatrix> compressed;
  std::unique_ptr<cuda::DeviceDenseMatrix> dense;
};

class CudaEngine final : public MatmulEngine {
 public:
  CudaEngine(std::string name, cuda::Backend backend) : name_(std::move(name)), backend_(backend) {
    const cuda::BackendScope scope(backend_);
    if (!cuda::device_available()) throw EngineUnavailable("engine " + name_ + ": no CUDA device available");
  }
  std::string name() const override { return name_; }
  std::string description() const override {
    const cuda::BackendScope scope(backend_);
    return name_ + " (" + cuda::current_backend().describe() + ")";
  }
  std::unique_ptr<EngineWeights> prepare(const CompressedMatrix& w) const override {
    const cuda::BackendScope scope(backend_);
    auto d = std::make_unique<DeviceWeights>();
    d->rows = w.rows;
    d->cols = w.cols;
    d->compressed = std::make_unique<cuda::DeviceCompressedMatrix>(cuda::DeviceCompressedMatrix::upload(w));
    return d;
  }
  std::unique_ptr<EngineWeights> prepare_dense(const uint16_t* w, int64_t m, int64_t k) const override {
    const cuda::BackendScope scope(backend_);
    auto d = std::make_unique<DeviceWeights>();
    d->rows = m;
    d->cols = k;
    d->dense = std::make_unique<cuda::DeviceDenseMatrix>(cuda::DeviceDenseMatrix::upload(w, m, k));
    return d;
  }
  void zipgemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& d = static_cast<const DeviceWeights&>(w);
    run(d, x, n, y, [&](const uint16_t* xd, uint16_t* yd) {
      cuda::launch_zipgemm(d.compressed->view(), xd, n, yd, nullptr, 0, 1, nullptr);
    });
  }
  // The prefill path: the decode kernel on the weights already on the device, then the
  // dense twin on the decompressed weights (re-laid out zero-padded to whole block tiles).
  void decompress_gemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& d = static_cast<const DeviceWeights&>(w);
    const cuda::BackendScope scope(backend_);
    std::vector<uint16_t> dense(static_cast<size_t>(d.rows * d.cols));
    {
      cuda::DeviceAllocation out(dense.size() * 2);
      cuda::launch_decode(d.compressed->view(), static_cast<uint16_t*>(out.get()), nullptr);
      cuda::synchronize();
      cuda::copy_to_host(dense.data(), out.get(), out.bytes());
    }
    const cuda::DeviceDenseMatrix padded = cuda::DeviceDenseMatrix::upload(dense.data(), d.rows, d.cols);
    run(d, x, n, y, [&](const uint16_t* xd, uint16_t* yd) {
      cuda::launch_gemm_dense(padded.view(), xd, n, yd, nullptr, 0, 1, nullptr);
    });
  }
  void gemm_dense(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override {
    const auto& d = static_cast<const DeviceWeights&>(w);
    run(d, x, n, y, [&](const uint16_t* xd, uint16_t* yd) {
      cuda::launch_gemm_dense(d.dense->view(), xd, n, yd, nullptr, 0, 1, nullptr);
    });
  }
  // The fused kernel at every n: cuda-sim's time says nothing about where a GPU's crossover lies,
  // and no GPU has measured it yet (docs/results/llama.md).
  int64_t decompress_from_n() const override { return int64_t{1} << 40; }

 private:
  template <typename Launch>
  void run(const DeviceWeights& d, const uint16_t* x, int64_t n, uint16_t* y, Launch launch) const {
    const cuda::BackendScope scope(backend_);
    cuda::DeviceAllocation xd(static_cast<size_t>(n * d.cols) * 2), yd(static_cast<size_t>(n * d.rows) * 2);
    cuda::copy_to_device(xd.get(), x, xd.bytes());
    launch(static_cast<const uint16_t*>(xd.get()), static_cast<uint16_t*>(yd.get()));
    cuda::synchronize();
    cuda::copy_to_host(y, yd.get(), yd.bytes());
  }

  std::string name_;
  cuda::Backend backend_;
};

const bool registered_sim = register_engine(
    "cuda-sim", "the CUDA kernels on the cuda-sim CPU simulator (every machine; slow, checked)",
    [](const EngineOptions& options) {
      cuda::sim::Options sim;
      sim.workers = options.threads;
      return std::make_unique<CudaEngine>("cuda-sim", cuda::Backend::cuda_sim(sim));
    });
const bool registered_gpu = register_engine("cuda", "the CUDA kernels on the GPU", [](const EngineOptions&) {
  return std::make_unique<CudaEngine>("cuda", cuda::Backend::gpu());
});

}  // namespace
}  // namespace zipserv::llama
