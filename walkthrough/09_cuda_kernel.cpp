// Step 09: the real kernel on a GPU -- the same registers, the same Y, now on tensor cores.
//
// What this step adds
//   The CUDA ZipGEMM (cuda/), called through its plain C++ host API. It stages each 64x64 block
//   tile's bitmaps and streams into shared memory with cp.async, has each warp decode its strip
//   slice by slice with the per-lane popcount of step 06 into the registers of step 07, and feeds
//   them to the hardware mma.sync while the next block tile is already loading. This program runs:
//       1. the standalone decompression kernel     == zipserv::decode (bit for bit)
//       2. the fused kernel's register trace       == zipserv::lane_fragments (bit for bit)
//       3. the fused ZipGEMM on real weights       == the same kernel on dense BF16 weights
//                                                     (lossless means identical outputs)
//       4. the oracle over every engine, when built, naming the first checkpoint that differs.
//   Only built when CUDA is enabled; on a machine without a GPU it says so and exits with 77,
//   which ctest reports as "skipped", never as "passed".
//
// How to run
//   cmake -S . -B build -DZIPSERV_ENABLE_CUDA=ON && cmake --build build --target 09_cuda_kernel
//   build/walkthrough/09_cuda_kernel
//
// What to look for
//   - Every CHECK line: the GPU's registers and outputs are those of the reference.
//   - The hardware adds an mma's 16 products in an order PTX does not specify, so the GPU's Y is
//     compared exactly with its own dense twin (same order); the oracle's GEMM rule says how it
//     is compared with the reference (tests/oracle/gemm_rule.h).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "walkthrough.h"
#include "zipserv/cuda/zipgemm.h"
#include "zipserv/decode.h"
#include "zipserv/encode.h"
#ifdef ZIPSERV_HAVE_ORACLE
#include "zipserv/oracle/oracle.h"
#endif

using namespace zipserv;

int main() {
  if (!cuda::device_available()) {
    if (const char* required = std::getenv("ZIPSERV_REQUIRE_GPU"); required && std::string(required) == "1") {
      std::printf("ZIPSERV_REQUIRE_GPU=1 but no CUDA device answers: step 09 FAILED\n");
      return 1;
    }
    std::printf("no CUDA device on this machine: step 09 skipped (exit 77 = ctest 'skipped')\n");
    return 77;
  }
  const auto w = walkthrough::load_layer("layers.0.feed_forward.w1.weight");
  const auto emb = walkthrough::load_layer("tok_embeddings.weight");
  const CompressedMatrix cm = encode(w.values.data(), w.rows, w.cols);
  const int64_t n = 8;
  const std::vector<uint16_t> x = walkthrough::token_activations(emb);  // as in steps 07 and 08

  //! [cuda]
  const std::vector<uint16_t> decoded = cuda::decompress(cm);                 // 1. decompression kernel
  const std::vector<uint32_t> regs = cuda::trace_lane_fragments(cm);          // 2. what each lane held
  const std::vector<uint16_t> y = cuda::zipgemm(cm, x.data(), n, {.split_k = 1});  // 3. fused ZipGEMM
  const std::vector<uint16_t> y_dense =
      cuda::gemm_uncompressed(w.values.data(), w.rows, w.cols, x.data(), n, {.split_k = 1});
  //! [cuda]
  std::printf("layers.0.feed_forward.w1 on the GPU: Y[0..3] of token 0 =");
  for (int m = 0; m < 4; ++m) std::printf(" %+.5f", bf16_to_float(y[m]));
  std::printf("\nlane 5 of warp 0, slice 0: a0..a3 = %08x %08x %08x %08x\n", regs[lane_fragment_index(0, 0, 0, 5, 0)],
              regs[lane_fragment_index(0, 0, 0, 5, 1)], regs[lane_fragment_index(0, 0, 0, 5, 2)],
              regs[lane_fragment_index(0, 0, 0, 5, 3)]);
  bool ok = walkthrough::check(decoded == w.values, "the GPU decompression kernel == the original weights") &&
            walkthrough::check(regs == lane_fragments(cm), "every lane's registers in the fused kernel == the reference") &&
            walkthrough::check(y == y_dense, "ZipGEMM == the same kernel on dense BF16 weights, bit for bit");
#ifdef ZIPSERV_HAVE_ORACLE
  //! [oracle]
  oracle::Case c{"layers.0.feed_forward.w1.weight", w.rows, w.cols, w.values, std::nullopt};
  const oracle::Expected e = oracle::expect(c, oracle::standard_gemm_inputs(w.cols, 7));
  for (const std::string& name : oracle::registered_engines()) {
    auto engine = oracle::make_engine(name);
    if (!engine->unavailable_reason().empty()) continue;  // e.g. a part this build lacks
    const oracle::Report r = oracle::check(*engine, e);
    std::printf("oracle: engine %-12s %s\n", name.c_str(), r.passed() ? "all checkpoints equal" : "DIVERGES");
    if (!r.passed()) std::printf("  %s\n", r.first_divergence()->describe().c_str());
    ok = walkthrough::check(r.passed(), "the oracle finds no divergence for this engine") && ok;
  }
  //! [oracle]
#endif
  return ok ? 0 : 1;
}
