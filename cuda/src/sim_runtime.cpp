// The cuda-sim runtime: "device" memory is host memory registered with the simulator (so a
// kernel's access outside it is reported), copies are memcpy, launches run the kernels compiled
// for the CPU (launch_sim.cpp) to completion.
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "runtime.h"
#include "zipserv/cuda/sim/simulator.h"

namespace zipserv::cuda::detail {
namespace {

/// The SM count cuda-sim reports to the split-K choice: an A100's 108, so that the simulator
/// chooses the split counts of the smallest GPU the kernels are built for.
constexpr int kSimulatedSmCount = 108;

class SimRuntime final : public Runtime {
 public:
  std::string unavailable_reason() const override { return {}; }
  void* allocate(size_t bytes) override {
    const size_t rounded = (bytes + 255) / 256 * 256;
    void* p = std::aligned_alloc(256, rounded == 0 ? 256 : rounded);
    if (p == nullptr) throw std::bad_alloc();
    std::memset(p, 0xCD, rounded == 0 ? 256 : rounded);  // like fresh device memory: not zero
    sim::register_global(p, bytes);  // only the bytes asked for: the rounding is out of bounds
    return p;
  }
  void release(void* p) noexcept override {
    if (p == nullptr) return;
    sim::unregister_global(p);
    std::free(p);
  }
  void copy_to_device(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy_to_host(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void fill(void* dst, int byte, size_t bytes) override { std::memset(dst, byte, bytes); }
  void synchronize(const char*) override {}
  int sm_count() override { return kSimulatedSmCount; }
  int compute_capability() override { return 0; }
  void launch_fused_compressed(const CompressedView& w, const GemmBuffers& b, CUstream_st* stream) override {
    on_sim::launch_fused_compressed(w, b, stream);
  }
  void launch_fused_dense(const DenseView& w, const GemmBuffers& b, CUstream_st* stream) override {
    on_sim::launch_fused_dense(w, b, stream);
  }
  void launch_decode(const CompressedView& w, uint16_t* out, CUstream_st* stream) override {
    on_sim::launch_decode(w, out, stream);
  }
  void launch_mma_probe(const uint16_t* a, const uint16_t* b, const float* c, float* d, int64_t problems) override {
    on_sim::launch_mma_probe(a, b, c, d, problems, nullptr);
  }
  void cublas_gemm(cublasContext*, const uint16_t*, int64_t, int64_t, const uint16_t*, int64_t, uint16_t*) override {
    throw std::runtime_error("zipserv::cuda: cuBLAS needs a GPU (cuda-sim runs only this project's kernels)");
  }
  cublasContext* create_cublas() override {
    throw std::runtime_error("zipserv::cuda: cuBLAS needs a GPU (cuda-sim runs only this project's kernels)");
  }
  void destroy_cublas(cublasContext*) noexcept override {}
};

}  // namespace

Runtime& sim_runtime() {
  static SimRuntime runtime;
  return runtime;
}

}  // namespace zipserv::cuda::detail
