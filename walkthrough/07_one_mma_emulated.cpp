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
//   first layer, before RMSNorm), so Y = W1 x is what layer 0's FFN computes for 8 tokens. (On a
//   model without tok_embeddings.weight of the right width they are 8 synthetic N(0,1) rows.)
//   Then the arithmetic inside one output: the emulation's default (ieee_sequential, the
//   reference's order) against the model of the H100 tensor core (sm90, tensor_core_model.h),
//   first on a dot product measured on a real H100, then on this layer's first mma.
//   A strip is 4 slices wide (K = 64), so 4 mma in a row finish one block tile; K / 16 of them
//   (4 for this layer, K = 64) finish the K loop, and the accumulators rounded to BF16 are then
//   rows 0..15 of the GEMM's output for the 8 tokens.
//
// How to run
//   build/walkthrough/07_one_mma_emulated [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight)
//
// What to look for
//   - The B registers: lane l holds column n = l / 4 (one token), rows k = 2(l%4) .. +1 and +8.
//   - The C registers after one mma: lane l holds rows g and g + 8, columns 2t and 2t+1.
//   - CHECK: each accumulator equals the dot product summed by hand from the original weights,
//     and after the last mma the BF16-rounded accumulators equal the reference GEMM bit for bit.
//   - The measured H100 case: which product bits sm90 drops (below its last kept bit) and which
//     of ieee_sequential's 16 additions round; sm90 writes the H100's bits, ieee_sequential not.
//   - The same on real weights: an output of the first mma where the two numerics differ.
#include <bit>
#include <cmath>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/decode.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/emulation/mma_emulation.h"
#include "zipserv/reference/mma_numerics.h"
#include "zipserv/reference/tensor_core_model.h"
#include "zipserv/reference/tensor_core_validation.h"
#include "zipserv/reference/tile_layout.h"

using namespace zipserv;

namespace {

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }

// Prints why ieee_sequential and sm90 give different bits for d = c + sum a[k] b[k] (16 terms):
// the additions of the sequential order that round (and by how much), then the sm90 block:
// anchor, last kept bit, the products whose low bits it drops, and the truncation of the sum.
void explain_difference(const uint16_t (&a)[16], const uint16_t (&b)[16], float c) {
  std::printf("  ieee_sequential: acc = c, then acc = fl(acc + a[k] b[k]); the additions that round:\n");
  float acc = c;
  for (int k = 0; k < 16; ++k) {
    const float product = bf16_to_float(a[k]) * bf16_to_float(b[k]);  // exact: 8-bit x 8-bit significands
    const float next = acc + product;
    const double error = static_cast<double>(next) - (static_cast<double>(acc) + static_cast<double>(product));
    if (error != 0.0) std::printf("    k = %2d: %+.9g + %+.9g -> %+.9g (rounding error %+.3g)\n", k, acc, product, next, error);
    acc = next;
  }
  const AlignedBlock block = align_block(tensor_core_params(MmaNumerics::sm90), a, b, c);
  std::printf("  sm90: one block of 16 products and c; anchor E = %d, last kept bit 2^%d; the terms it truncates:\n",
              block.anchor_exponent, block.lsb_exponent);
  int truncated = 0;
  for (int i = 0; i < block.count; ++i) {
    const AlignedTerm& t = block.terms[i];
    if (!t.dropped_bits) continue;
    ++truncated;
    const double exact = std::ldexp(static_cast<double>(t.significand), t.exponent - t.fraction_bits);
    const double kept = std::ldexp(static_cast<double>(t.kept), block.lsb_exponent);
    std::printf("    %s %s%.9g keeps %s%.9g\n", t.is_c ? "c      " : "product", t.negative ? "-" : "+", exact,
                t.negative ? "-" : "+", kept);
  }
  if (truncated == 0) std::printf("    (none: every term is a multiple of the last kept bit)\n");
  const double sum = std::ldexp(static_cast<double>(block.sum), block.lsb_exponent);
  const float d = normalize_truncate_fp32(block.sum, block.lsb_exponent);
  std::printf("    fixed-point sum %+.12g, truncated to FP32: %+.9g (0x%08X)\n", sum, d, bits_of(d));
}

}  // namespace

int run(const walkthrough::Args& args) {
  const auto w = walkthrough::load_layer(args, kSliceDim, kSliceDim);  // one whole 16 x 16 slice
  const CompressedMatrix cm = encode(w.values.data(), w.rows, w.cols);
  const int64_t n = 8, k = w.cols;
  const walkthrough::Activations act = walkthrough::activations(args.model, k);
  const std::vector<uint16_t>& x = act.x;  // (N=8, K) row-major
  std::printf("W = %s (%lld x %lld, TCA-TBE)\nX = %s (8 x %lld)\n", args.tensor_label(60).c_str(),
              static_cast<long long>(w.rows), static_cast<long long>(w.cols), act.what.c_str(), static_cast<long long>(k));
  std::printf("one warp = strip 0 of block row 0 = output rows 0..15; one mma = one 16-wide slice of K\n");

  // The A fragments come from the emulation's decode of the compressed weights (step 06).
  const std::vector<uint32_t> regs = emu::lane_fragments(cm);
  const int64_t mma_count = cm.block_cols() * kSlicesPerStrip;  // K / 16, padded
  //! [mma]
  emu::CFragment acc{};  // (T32, V4) f32, starts at +0.0
  for (int64_t i = 0; i < mma_count; ++i) {  // block tile kb = i / 4 of block row 0, slice q = i % 4
    const int64_t kb = i / kSlicesPerStrip;
    const int q = static_cast<int>(i % kSlicesPerStrip);
    emu::AFragment a;
    for (int lane = 0; lane < kWarpLanes; ++lane)
      for (int reg = 0; reg < kARegsPerLane; ++reg) a[lane][reg] = regs[lane_fragment_index(kb, 0, q, lane, reg)];
    const emu::BFragment b = emu::b_fragment_from_rows(x.data(), n, k, /*n0=*/0, /*k0=*/16 * i);
    emu::mma_m16n8k16(a, b, acc);  // acc = A B + acc, per lane through the fragment maps
  //! [mma]
    if (i != 0) continue;
    walkthrough::heading("the first mma (slice 0, K = 0..15): operands and result per lane");
    std::printf("  C: c0 = (g, 2t), c1 = (g, 2t+1), c2 = (g+8, 2t), c3 = (g+8, 2t+1) with g = l/4, t = l%%4\n");
    std::printf("  lane  A: a0     a1       a2       a3      | B: b0     b1      | C: c0    c1      c2      c3\n");
    for (int lane = 0; lane < kWarpLanes; ++lane) {
      std::printf("  %4d  %08x %08x %08x %08x | %08x %08x |", lane, a[lane][0], a[lane][1], a[lane][2], a[lane][3],
                  b[lane][0], b[lane][1]);
      for (int v = 0; v < kCValuesPerLane; ++v) std::printf(" %+.4f", acc[lane][v]);
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

  walkthrough::heading("after " + std::to_string(mma_count) + " mma (K = " + std::to_string(k) +
                       ", the whole layer): rows 0..15 of Y, BF16");
  std::vector<uint16_t> y_ref(w.rows * n);
  zipserv::zipgemm(cm, x.data(), n, y_ref.data());  // the reference: decode, then the fixed-order triple loop
  bool equals_gemm = true;
  std::printf(act.tokens ? "  m \\ token:" : "  m \\ col:  ");
  for (int j = 0; j < n; ++j) std::printf(" %9d", act.tokens ? walkthrough::kTokens[j] : j);
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
  if (!walkthrough::check(equals_gemm, "round_bf16(accumulators) == zipserv::zipgemm rows 0..15, bit for bit")) return 1;

  // The arithmetic inside one output. A real H100 does not add the 16 products one at a time:
  // the sm90 model (proven on 5000 measured H100 results) aligns them to the largest exponent,
  // drops the bits below 2^(E-25), adds once and truncates. First a measured case.
  walkthrough::heading("a dot product measured on a real H100: ieee_sequential vs sm90");
  const TensorCoreValidation h100 =
      load_tensor_core_validation(std::string(ZIPSERV_DATA_DIR) + "/tensor-core-validation", MmaNumerics::sm90);
  size_t pick = 0;
  uint16_t ma[16], mb[16];
  float m_ieee = 0.0f, m_sm90 = 0.0f;
  for (; pick < h100.cases.size(); ++pick) {  // the first case where the two numerics differ
    std::copy(h100.cases[pick].a.begin(), h100.cases[pick].a.end(), ma);
    std::copy(h100.cases[pick].b.begin(), h100.cases[pick].b.end(), mb);
    m_ieee = mma_dot16(MmaNumerics::ieee_sequential, ma, mb, h100.cases[pick].c);
    m_sm90 = mma_dot16(MmaNumerics::sm90, ma, mb, h100.cases[pick].c);
    if (bits_of(m_ieee) != bits_of(m_sm90)) break;
  }
  const TensorCoreCase& measured = h100.cases[pick];
  std::printf("  case %zu of data/tensor-core-validation/H100: c = %+.9g\n", pick + 1, measured.c);
  for (const auto& [name, values] : {std::pair{"a =", &ma}, std::pair{"b =", &mb}}) {
    std::string line = name;
    char number[32];
    for (const uint16_t v : *values) std::snprintf(number, sizeof number, " %+.4g", bf16_to_float(v)), line += number;
    std::printf("%s", walkthrough::wrap(line, walkthrough::kMaxColumns, "  ").c_str());
  }
  std::printf("  H100 wrote 0x%08X; sm90 gives 0x%08X; ieee_sequential gives 0x%08X\n", bits_of(measured.d),
              bits_of(m_sm90), bits_of(m_ieee));
  explain_difference(ma, mb, measured.c);
  if (!walkthrough::check(bits_of(m_sm90) == bits_of(measured.d) && bits_of(m_ieee) != bits_of(measured.d),
                          "sm90 gives the H100's bits for this case; ieee_sequential does not"))
    return 1;

  // Now the first mma of this layer (slice 0, C = 0) under sm90: the emulated instruction with a
  // numerics argument. Where does it differ from the default?
  walkthrough::heading("this layer's first mma under sm90: an output where it differs from ieee_sequential");
  emu::CFragment first_ieee{}, first_sm90{};  // (T32, V4) f32, from +0.0
  emu::AFragment a0;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg) a0[lane][reg] = regs[lane_fragment_index(0, 0, 0, lane, reg)];
  const emu::BFragment b0 = emu::b_fragment_from_rows(x.data(), n, k, 0, 0);
  emu::mma_m16n8k16(a0, b0, first_ieee);                     // the default: MmaNumerics::ieee_sequential
  emu::mma_m16n8k16(a0, b0, first_sm90, MmaNumerics::sm90);  // the H100 tensor core's arithmetic
  int differing = 0, shown_lane = -1, shown_v = -1;
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int v = 0; v < kCValuesPerLane; ++v)
      if (bits_of(first_ieee[lane][v]) != bits_of(first_sm90[lane][v]) && differing++ == 0) shown_lane = lane, shown_v = v;
  std::printf("  %d of the %d outputs differ in their FP32 bits\n", differing, kWarpLanes * kCValuesPerLane);
  if (shown_lane < 0) return 0;  // nothing to explain: both numerics agree on this slice
  const FragCoord mn = c_frag_coord(shown_lane, shown_v);
  uint16_t wa[16], xb[16];
  for (int kk = 0; kk < 16; ++kk) wa[kk] = w.values[mn.row * k + kk], xb[kk] = x[mn.col * k + kk];
  const float d_ieee = first_ieee[shown_lane][shown_v], d_sm90 = first_sm90[shown_lane][shown_v];
  std::printf("  lane %d, c%d = output (m %d, %s %d):\n    ieee_sequential %+.9g (0x%08X), sm90 %+.9g (0x%08X)\n",
              shown_lane, shown_v, mn.row, act.tokens ? "token" : "column",
              act.tokens ? walkthrough::kTokens[mn.col] : mn.col, d_ieee, bits_of(d_ieee), d_sm90, bits_of(d_sm90));
  explain_difference(wa, xb, 0.0f);
  const float ulp = std::nextafter(std::fabs(d_ieee), INFINITY) - std::fabs(d_ieee);
  return walkthrough::check(bits_of(d_sm90) == bits_of(mma_dot16(MmaNumerics::sm90, wa, xb, 0.0f)) &&
                                std::fabs(d_sm90 - d_ieee) <= 2 * ulp,
                            "sm90 mma == mma_dot16(sm90) on W's row and X's column, "
                            "within 2 ulp of ieee_sequential")
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
