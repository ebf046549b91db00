// Step 07: one tensor-core instruction, emulated -- mma.sync m16n8k16 on real weights.
//
// What this step adds
//   What the registers of step 06 are for. One `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32`
//   computes D = A B + C for a 16x16 BF16 tile of weights A, a 16x8 BF16 tile of activations B
//   and 16x8 FP32 accumulators C, all three spread over the warp's 32 lanes (fragment_layout.h):
//       A: lane l holds a0..a3 (step 06)         a_frag_coord(l, reg, half) -> (m, k)
//       B: lane l holds b0, b1 (two BF16 each)   b_frag_coord(l, reg, half) -> (k, n)
//       C: lane l holds c0..c3 (FP32)            c_frag_coord(l, v)         -> (m, n)
//   The activations here are real too: 8 token embeddings of the same model (the input of its
//   first layer, before RMSNorm), so Y = W1 x is what layer 0's FFN computes for 8 tokens.
//   A strip is 4 slices wide (K = 64), so 4 mma in a row finish the K loop of this layer; the
//   accumulators rounded to BF16 are then rows 0..15 of the GEMM's output for the 8 tokens.
//
// How to run
//   build/walkthrough/07_one_mma_emulated
//
// What to look for
//   - The B registers: lane l holds column n = l / 4 (one token), rows k = 2(l%4) .. +1 and +8.
//   - The C registers after one mma: lane l holds rows g and g + 8, columns 2t and 2t+1.
//   - CHECK: each accumulator equals the dot product summed by hand from the original weights,
//     and after 4 mma the BF16-rounded accumulators equal the reference GEMM bit for bit.
#include <cstdio>
#include <vector>

#include "walkthrough.h"
#include "zipserv/bf16.h"
#include "zipserv/decode.h"
#include "zipserv/emulation.h"
#include "zipserv/encode.h"
#include "zipserv/gemm.h"
#include "zipserv/mma_emulation.h"

using namespace zipserv;

int main() {
  const auto w = walkthrough::load_layer("layers.0.feed_forward.w1.weight");  // 172 x 64
  const auto emb = walkthrough::load_layer("tok_embeddings.weight");           // 512 x 64
  const CompressedMatrix cm = encode(w.values.data(), w.rows, w.cols);
  const int64_t n = 8, k = w.cols;
  const std::vector<uint16_t> x = walkthrough::token_activations(emb);  // (N=8, K=64) row-major
  std::printf("W = layers.0.feed_forward.w1.weight (%lld x %lld, TCA-TBE), X = embeddings of 8 tokens (8 x 64)\n",
              static_cast<long long>(w.rows), static_cast<long long>(w.cols));
  std::printf("one warp = strip 0 of block tile 0 = output rows 0..15; one mma = one 16-wide slice of K\n");

  // The A fragments come from the emulation's decode of the compressed weights (step 06).
  const std::vector<uint32_t> regs = emu::lane_fragments(cm);
  //! [mma]
  emu::CFragment acc{};  // (T32, V4) f32, starts at +0.0
  for (int q = 0; q < 4; ++q) {  // the 4 slices of the strip: K = 16q .. 16q + 15
    emu::AFragment a;
    for (int lane = 0; lane < kWarpLanes; ++lane)
      for (int reg = 0; reg < kARegsPerLane; ++reg) a[lane][reg] = regs[lane_fragment_index(0, 0, q, lane, reg)];
    const emu::BFragment b = emu::b_fragment_from_rows(x.data(), n, k, /*n0=*/0, /*k0=*/16 * q);
    emu::mma_m16n8k16(a, b, acc);  // acc = A B + acc, per lane through the fragment maps
  //! [mma]
    if (q != 0) continue;
    walkthrough::heading("the first mma (slice 0, K = 0..15): operands and result per lane");
    std::printf("  lane   A: a0       a1       a2       a3    | B: b0       b1    | C: c0 (m,n)      c1         c2         c3\n");
    for (int lane = 0; lane < kWarpLanes; ++lane) {
      std::printf("  %4d  %08x %08x %08x %08x | %08x %08x |", lane, a[lane][0], a[lane][1], a[lane][2], a[lane][3],
                  b[lane][0], b[lane][1]);
      for (int v = 0; v < kCValuesPerLane; ++v) {
        const FragCoord mn = c_frag_coord(lane, v);
        std::printf(" %+.5f(%2d,%d)", acc[lane][v], mn.row, mn.col);
      }
      std::printf("\n");
    }
    // The claim of one mma: each accumulator is a 16-term dot product of original weights.
    bool dot_products = true;
    for (int lane = 0; lane < kWarpLanes; ++lane)
      for (int v = 0; v < kCValuesPerLane; ++v) {
        const FragCoord mn = c_frag_coord(lane, v);
        float sum = 0.0f;
        for (int kk = 0; kk < 16; ++kk)
          sum += bf16_to_float(w.values[mn.row * k + kk]) * bf16_to_float(x[mn.col * k + kk]);
        dot_products = dot_products && sum == acc[lane][v];
      }
    if (!walkthrough::check(dot_products, "c[lane][v] == sum over k < 16 of W[m][k] X[n][k] at (m, n) = c_frag_coord"))
      return 1;
  }

  walkthrough::heading("after 4 mma (K = 64, the whole layer): rows 0..15 of Y for the 8 tokens, BF16");
  std::vector<uint16_t> y_ref(w.rows * n);
  gemm(cm, x.data(), n, y_ref.data());  // the reference: decode, then the fixed-order triple loop
  bool equals_gemm = true;
  std::printf("  m \\ token:");
  for (int j = 0; j < n; ++j) std::printf(" %9d", walkthrough::kTokens[j]);
  std::printf("\n");
  float table[16][8];
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int v = 0; v < kCValuesPerLane; ++v) {
      const FragCoord mn = c_frag_coord(lane, v);
      table[mn.row][mn.col] = acc[lane][v];
      equals_gemm = equals_gemm && float_to_bf16_rne(acc[lane][v]) == y_ref[mn.col * w.rows + mn.row];
    }
  for (int m = 0; m < 16; ++m) {
    std::printf("  %9d:", m);
    for (int j = 0; j < n; ++j) std::printf(" %+9.5f", bf16_to_float(float_to_bf16_rne(table[m][j])));
    std::printf("\n");
  }
  return walkthrough::check(equals_gemm, "round_bf16(accumulators) == zipserv::gemm rows 0..15, bit for bit") ? 0 : 1;
}
