// Step 08: the whole ZipGEMM on the CPU -- and why the fused design can beat a dense GEMM.
//
// What this step adds
//   Steps 06 and 07 for every warp, every block tile and every token: emu::zipgemm() computes
//   Y = W X reading only the compressed weights (it never builds a decompressed copy of W: each
//   worker decodes one strip's registers, runs its mma, moves on), exactly as the GPU kernel's
//   thread blocks do. It runs on two real layers of the model with real token embeddings as X:
//       the FFN up-projection layers.0.feed_forward.w1 (172 x 64) and
//       the output head (llama2.c ties it to tok_embeddings: 512 x 64, logits for 512 tokens).
//   Then it counts bytes. A decode step multiplies each weight by only N activations (N = tokens
//   in the batch, 1..32), so the GEMM does about 2N flops per weight it reads: far fewer than
//   the flops a GPU can do in the time it reads one byte. Such a GEMM is memory-bound: its time
//   is the time to read W. TCA-TBE reads ~11.3 bits per weight instead of 16; decoding them costs
//   integer instructions (popcount, shift, and, or) that a memory-bound kernel has idle, and it
//   happens in registers, with no extra trip through memory. That is the whole argument for why
//   ZipGEMM can be faster than cuBLAS on the uncompressed weights (paper sections 3.3 and 6.1).
//
// How to run
//   build/walkthrough/08_cpu_zipgemm
//
// What to look for
//   - The SIMD target the emulation picked (AVX2, AVX3, ... or EMU128).
//   - "bit for bit": the compressed-weight GEMM equals the reference GEMM on the decoded weights.
//   - The byte table: at N = 8 the weights are almost all the bytes a GEMM reads, so the bytes
//     saved are the time saved, until decode work or compute becomes the limit (large N).
#include <cstdio>
#include <vector>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"

using namespace zipserv;

namespace {

// Runs the CPU ZipGEMM and the reference on one layer; returns true if they agree bit for bit.
bool run_layer(const st::Bf16Matrix& w, const std::vector<uint16_t>& x, int64_t n) {
  //! [zipgemm]
  const CompressedMatrix cw = encode(w.values.data(), w.rows, w.cols);  // offline, once per model
  std::vector<uint16_t> y(w.rows * n), y_ref(w.rows * n);             // (N, M) = M x N column-major
  emu::zipgemm(cw, x.data(), n, y.data(), {.split_k = 1, .threads = 2});  // reads only cw
  gemm_dense(w.values.data(), w.rows, w.cols, x.data(), n, y_ref.data());  // the reference on W itself
  //! [zipgemm]
  int64_t same = 0;
  for (size_t i = 0; i < y.size(); ++i) same += y[i] == y_ref[i];
  std::printf("  %-32s %4lld x %3lld, N = %lld: %5.2f bits/weight; Y[0..3] of token 0:", w.name.c_str(),
              static_cast<long long>(w.rows), static_cast<long long>(w.cols), static_cast<long long>(n),
              cw.bits_per_weight());
  for (int m = 0; m < 4; ++m) std::printf(" %+.5f", bf16_to_float(y[m]));
  std::printf("\n  %-32s %lld of %zu outputs equal the reference bit for bit\n", "", static_cast<long long>(same),
              y.size());
  return same == static_cast<int64_t>(y.size());
}

}  // namespace

int main() {
  const auto emb = walkthrough::load_layer("tok_embeddings.weight");
  const auto w1 = walkthrough::load_layer("layers.0.feed_forward.w1.weight");
  const int64_t n = 8;
  const std::vector<uint16_t> x = walkthrough::token_activations(emb);  // (N=8, K=64), as in step 07
  std::printf("CPU ZipGEMM, SIMD target %s\n", emu::active_target());

  walkthrough::heading("Y = W X from the compressed weights, against the reference");
  const bool ffn = run_layer(w1, x, n);
  const bool head = run_layer(emb, x, n);  // the output head: logits of all 512 tokens

  walkthrough::heading("bytes a decode-time GEMM reads, per weight matrix of a 4096 x 4096 layer");
  // The model's own layers are tiny; the byte count is a property of the shape, so it is shown
  // for the shape of a real 8B-class model layer, at this model's measured bits per weight.
  const CompressedMatrix cw = encode(w1.values.data(), w1.rows, w1.cols);
  const CompressedMatrix chead = encode(emb.values.data(), emb.rows, emb.cols);
  const double bits = chead.bits_per_weight();  // 512 x 64: no padding, so the format's true cost
  //! [bytes]
  const double m_big = 4096, k_big = 4096;
  std::printf("  (%.2f bits per weight, as measured on tok_embeddings; w1 pays %.2f because of padding)\n", bits,
              cw.bits_per_weight());
  std::printf("  %5s %14s %14s %14s %12s %10s\n", "N", "flops", "bytes BF16", "bytes TCA-TBE", "flops/byte", "saved");
  for (const double nn : {1.0, 8.0, 32.0, 128.0, 1024.0}) {
    const double flops = 2 * m_big * k_big * nn;
    const double act_out = 2 * (k_big * nn + m_big * nn);            // X in, Y out, BF16
    const double dense = 2 * m_big * k_big + act_out;                // W as BF16
    const double packed = bits / 8 * m_big * k_big + act_out;        // W as TCA-TBE
    std::printf("  %5.0f %14.3g %14.3g %14.3g %12.1f %9.1f%%\n", nn, flops, dense, packed, flops / dense,
                100 * (1 - packed / dense));
  }
  //! [bytes]
  std::printf("  A GPU does on the order of 100 or more BF16 tensor-core flops per byte of DRAM traffic,\n"
              "  so at small N the GEMM waits on memory and the saved bytes are saved time.\n");

  return walkthrough::check(ffn, "emu::zipgemm == reference GEMM on layers.0.feed_forward.w1 (all 172 x 8)") &&
                 walkthrough::check(head, "emu::zipgemm == reference GEMM on the output head (all 512 x 8)") &&
                 walkthrough::check(bits < 12.0, "the unpadded layer costs under 12 bits per weight")
             ? 0
             : 1;
}
