// Step 09: the real kernel -- the same registers, the same Y, from the CUDA source itself.
//
// What this step adds
//   The CUDA ZipGEMM (cuda/), called through its plain C++ host API. It stages each 64x64 block
//   tile's bitmaps and streams into shared memory with cp.async, has each warp decode its strip
//   slice by slice with the per-lane popcount of step 06 into the registers of step 07, and feeds
//   them to mma.sync while the next block tile is already loading. On a GPU it runs there; on a
//   machine without one, the same kernel source runs on cuda-sim, the project's CPU simulator of
//   blocks and warps, which also checks every barrier, cp.async and shared-memory access. It runs:
//       1. the standalone decode kernel     == zipserv::decode (bit for bit)
//       2. the fused kernel's register trace       == zipserv::lane_fragments (bit for bit)
//       3. the fused ZipGEMM on real weights       == the same kernel on dense BF16 weights
//                                                     (lossless means identical outputs)
//       4. the oracle over every engine, naming the first checkpoint that differs.
//
// How to run
//   build/walkthrough/09_cuda_kernel [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight; on cuda-sim a
//   large tensor takes a while: the simulator checks every shared-memory byte of the launch)
//
// What to look for
//   - The backend line: "gpu", or cuda-sim with its numerics and seed.
//   - One warp's registers after decode: lane l holds rows l/4 and l/4 + 8 (steps 06 and 07).
//   - The simulator's summary: barriers, mma.sync and cp.async it checked, and 0 hazards.
//   - Every CHECK line. The GPU's tensor cores add an mma's 16 products in their own order, so its
//     Y is compared exactly with its own dense twin; cuda-sim with ieee_sequential numerics adds
//     them in the reference's order and so also equals the reference GEMM.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "walkthrough.h"
#include "zipserv/cuda/backend.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/oracle/oracle.h"

using namespace zipserv;

int run(const walkthrough::Args& args) {
  bool on_gpu = false;  // the GPU when this build and machine have one, else cuda-sim
  {
    const cuda::BackendScope probe(cuda::Backend::gpu());
    on_gpu = cuda::device_available();
    const char* required = std::getenv("ZIPSERV_REQUIRE_GPU");  // a GPU check run: no falling back
    if (!on_gpu && required != nullptr && std::string(required) == "1") {
      std::printf("ZIPSERV_REQUIRE_GPU=1 but no CUDA device answers (%s): step 09 FAILED\n",
                  cuda::unavailable_reason().c_str());
      return 1;
    }
  }
  const cuda::BackendScope backend(on_gpu ? cuda::Backend::gpu() : cuda::Backend::cuda_sim());
  std::printf("backend: %s\n", cuda::current_backend().describe().c_str());
  const std::string& tensor = args.tensor;
  const auto w = walkthrough::load_layer(args);
  const CompressedMatrix cm = encode(w.values.data(), w.rows, w.cols);
  const int64_t n = 8;
  const walkthrough::Activations act = walkthrough::activations(args.model, w.cols);  // as in steps 07, 08
  const std::vector<uint16_t>& x = act.x;
  std::printf("W = %s (%lld x %lld)\nX = %s\n", args.tensor_label(60).c_str(), static_cast<long long>(w.rows),
              static_cast<long long>(w.cols), act.what.c_str());

  //! [cuda]
  const std::vector<uint16_t> decoded = cuda::decode(cm);                 // 1. decode kernel
  const std::vector<uint32_t> regs = cuda::trace_lane_fragments(cm);          // 2. what each lane held
  std::vector<uint16_t> y(static_cast<size_t>(w.rows * n)), y_dense(y.size());  // (N, M) bf16
  cuda::zipgemm(cm, x.data(), n, y.data(), {.split_k = 1});                       // 3. fused ZipGEMM
  const cuda::sim::LaunchStats gemm_stats = cuda::sim::last_launch_stats();
  cuda::gemm_dense(w.values.data(), w.rows, w.cols, x.data(), n, y_dense.data(), {.split_k = 1});
  //! [cuda]
  std::printf("Y[0..3] of column 0 =");
  for (int m = 0; m < std::min<int>(4, static_cast<int>(w.rows)); ++m) std::printf(" %+.5f", bf16_to_float(y[m]));
  std::printf("\n\nwarp 0 after decoding slice 0 of block tile 0 (registers a0..a3, two bf16 each):\n");
  for (int lane = 0; lane < kWarpLanes; lane += 2) {
    for (int l = lane; l < lane + 2; ++l) {
      std::printf("   lane %2d:", l);
      for (int reg = 0; reg < kARegsPerLane; ++reg) std::printf(" %08x", regs[lane_fragment_index(0, 0, 0, l, reg)]);
    }
    std::printf("\n");
  }
  if (!on_gpu) {
    std::printf("\ncuda-sim checked the fused kernel's launch: %lld blocks, %lld threads, %lld barriers, "
                "%lld mma.sync,\n  %lld cp.async, %lld shared bytes race-checked: %zu hazards\n",
                static_cast<long long>(gemm_stats.blocks), static_cast<long long>(gemm_stats.threads),
                static_cast<long long>(gemm_stats.barriers), static_cast<long long>(gemm_stats.mma),
                static_cast<long long>(gemm_stats.cp_async), static_cast<long long>(gemm_stats.shared_bytes_checked),
                gemm_stats.hazards.size());
  }
  std::printf("\n");
  bool ok = walkthrough::check(decoded == w.values, "the decode kernel == the original weights") &&
            walkthrough::check(regs == lane_fragments(cm), "every lane's registers in the fused kernel == the reference") &&
            walkthrough::check(y == y_dense, "ZipGEMM == the same kernel on dense BF16 weights, bit for bit");
  if (!on_gpu) {
    std::vector<uint16_t> ref(static_cast<size_t>(w.rows * n));
    zipserv::zipgemm(cm, x.data(), n, ref.data());
    ok = walkthrough::check(y == ref, "on cuda-sim (ieee_sequential, one split) ZipGEMM == the reference GEMM") && ok;
  }
  //! [oracle]
  oracle::Case c{tensor, w.rows, w.cols, w.values, std::nullopt};
  const oracle::Expected e = oracle::expect(c, oracle::standard_gemm_inputs(w.cols, 7));
  for (const std::string& name : oracle::registered_engines()) {
    auto engine = oracle::make_engine(name);
    if (!engine->unavailable_reason().empty()) continue;  // e.g. the GPU engines on a machine without one
    const oracle::Report r = oracle::check(*engine, e);
    std::printf("oracle: engine %-18s %s\n", name.c_str(), r.passed() ? "all checkpoints equal" : "DIVERGES");
    if (!r.passed()) std::printf("  %s\n", r.first_divergence()->describe().c_str());
    ok = walkthrough::check(r.passed(), "the oracle finds no divergence for this engine") && ok;
  }
  //! [oracle]
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
