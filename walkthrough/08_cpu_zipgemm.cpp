// Step 08: the whole ZipGEMM on the CPU -- exact, timed, and why the fused design can win.
//
// What this step adds
//   Steps 06 and 07 for every warp, every block tile and every token: emu::zipgemm() computes
//   Y = W X reading only the compressed weights (it never builds a decompressed copy of W: each
//   worker decodes one block tile's registers, runs its mma, moves on), as the GPU kernel's
//   thread blocks do. It runs on a real layer (by default the FFN up-projection
//   layers.0.feed_forward.w1, 172 x 64) with real token embeddings as X, against the reference.
//   Then it counts bytes. A decode step multiplies each weight by only N activations (N = tokens
//   in the batch, 1..32), so the GEMM does about 2N flops per weight it reads: far fewer than
//   the flops a GPU can do in the time it reads one byte. Such a GEMM is memory-bound: its time
//   is the time to read W. TCA-TBE reads ~11.3 bits per weight instead of 16; decoding them costs
//   integer instructions (popcount, shift, and, or) that a memory-bound kernel has idle, and it
//   happens in registers, with no extra trip through memory. That is the whole argument for why
//   ZipGEMM can be faster than cuBLAS on the uncompressed weights (paper sections 3.3 and 6.1).
//   Finally it times that argument on this CPU: a GEMV (N = 1) on a synthetic Gaussian BF16
//   matrix too large for the caches, fused ZipGEMM against the same Highway code reading the
//   uncompressed weights (emu::gemm_dense), one thread, median CPU time of several runs.
//
// How to run
//   build/walkthrough/08_cpu_zipgemm [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.feed_forward.w1.weight)
//   The per-target comparison (every SIMD target of one machine, side by side) is the
//   benchmark's job: docs/results/emulation.md says how its figures were taken.
//
// What to look for
//   - The SIMD target the emulation picked (AVX2, AVX3, ... or EMU128).
//   - "bit for bit": the compressed-weight GEMM equals the reference GEMM on the decoded weights.
//   - The timing: whether the fused GEMV beats the dense one here depends on how cheap the
//     decode is on this SIMD target relative to the memory bandwidth it saves. The step prints
//     the ratio and asserts nothing about it (speed belongs in benchmarks, not in tests).
//   - The byte table: at N = 8 the weights are almost all the bytes a GEMM reads, so the bytes
//     saved are the time saved, until decode work or compute becomes the limit (large N).
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/emulation/emulation.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/gemm.h"

using namespace zipserv;

namespace {

// Runs the CPU ZipGEMM and the reference on one layer; returns true if they agree bit for bit.
bool run_layer(const walkthrough::Args& args, const st::Bf16Matrix& w, const std::vector<uint16_t>& x, int64_t n) {
  //! [zipgemm]
  const CompressedMatrix cw = encode(w.values.data(), w.rows, w.cols);  // offline, once per model
  std::vector<uint16_t> y(w.rows * n), y_ref(w.rows * n);             // (N, M) = M x N column-major
  emu::zipgemm(cw, x.data(), n, y.data(), {.split_k = 1, .threads = 2});  // reads only cw
  gemm_dense(w.values.data(), w.rows, w.cols, x.data(), n, y_ref.data());  // the reference on W itself
  //! [zipgemm]
  int64_t same = 0;
  for (size_t i = 0; i < y.size(); ++i) same += y[i] == y_ref[i];
  std::printf("  %s: %lld x %lld, N = %lld, %.2f bits/weight\n", args.tensor_label(48).c_str(),
              static_cast<long long>(w.rows), static_cast<long long>(w.cols), static_cast<long long>(n),
              cw.bits_per_weight());
  std::printf("  Y[0..3] of column 0:");
  for (int m = 0; m < std::min<int>(4, static_cast<int>(w.rows)); ++m) std::printf(" %+.5f", bf16_to_float(y[m]));
  std::printf("\n  %lld of %zu outputs equal the reference bit for bit\n", static_cast<long long>(same), y.size());
  return same == static_cast<int64_t>(y.size());
}

// Median of `times` (copied: the caller keeps its order).
double median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int run(const walkthrough::Args& args) {
  const auto w = walkthrough::load_layer(args);
  const int64_t n = 8;
  const walkthrough::Activations act = walkthrough::activations(args.model, w.cols);  // (N=8, K), as in step 07
  std::printf("CPU ZipGEMM, SIMD target %s; X = %s\n", emu::active_target(), act.what.c_str());

  walkthrough::heading("Y = W X from the compressed weights, against the reference");
  const bool exact = run_layer(args, w, act.x, n);

  // The timed GEMV. 8192 x 4096 BF16 is 64 MiB, and its compressed form about 45 MiB: both
  // larger than the last-level caches of the machines this runs on (32 MiB here), so every run
  // streams W from memory, as a decode step of a large model does.
  constexpr int64_t kM = 8192, kK = 4096, kRuns = 7;
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss(0.0f, 0.02f);  // the spread of a trained LLM layer
  std::vector<uint16_t> big(static_cast<size_t>(kM * kK)), xv(kK);
  for (uint16_t& v : big) v = float_to_bf16_rne(gauss(rng));
  for (uint16_t& v : xv) v = float_to_bf16_rne(gauss(rng) * 50);
  const CompressedMatrix cbig = encode(big.data(), kM, kK);
  const emu::ValidatedWeights validated(cbig);  // validated once, as a server does at load time
  std::vector<uint16_t> y_fused(kM), y_dense(kM);
  std::vector<double> fused_ms, dense_ms;
  const GemmOptions one_thread{.split_k = 1, .threads = 1};
  //! [timed]
  // CPU time of the process (std::clock), not wall time: on a shared machine the wall clock also
  // counts the time spent waiting for a core. One thread, so CPU time is the GEMV's own time.
  const auto cpu_ms = [] { return 1000.0 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; };
  for (int r = 0; r <= kRuns; ++r) {  // run 0 warms up; fused and dense alternate, so neither
    const double t0 = cpu_ms();       // finds the other's bytes in the caches
    emu::zipgemm(validated, xv.data(), 1, y_fused.data(), one_thread);
    const double t1 = cpu_ms();
    emu::gemm_dense(big.data(), kM, kK, xv.data(), 1, y_dense.data(), one_thread);
    const double t2 = cpu_ms();
    if (r == 0) continue;
    fused_ms.push_back(t1 - t0);
    dense_ms.push_back(t2 - t1);
  }
  //! [timed]
  const double fused = median(fused_ms), dense = median(dense_ms);
  const double mib = 1024.0 * 1024.0, packed_bytes = static_cast<double>(cbig.payload_bytes());
  walkthrough::heading("timed: GEMV (N = 1), " + std::to_string(kM) + " x " + std::to_string(kK) +
                       " synthetic Gaussian BF16, one thread");
  std::printf("  W: %.1f MiB as BF16, %.1f MiB compressed (%.2f bits/weight)\n", 2.0 * kM * kK / mib,
              packed_bytes / mib, cbig.bits_per_weight());
  std::printf("  median CPU time of %lld runs: fused ZipGEMM %.2f ms (%.1f GB/s of compressed weights)\n",
              static_cast<long long>(kRuns), fused, packed_bytes / fused / 1e6);
  std::printf("                                dense GEMM   %.2f ms (%.1f GB/s of BF16 weights)\n", dense,
              2.0 * kM * kK / dense / 1e6);
  std::printf("  fused runs at %.2fx the dense speed on %s (measured, not asserted: it depends on the\n"
              "  SIMD target and the machine; docs/results/emulation.md has the table per target)\n",
              dense / fused, emu::active_target());

  walkthrough::heading("bytes a decode-time GEMM reads, per weight matrix of a 4096 x 4096 layer");
  // The byte count is a property of the shape and of the bits per weight, measured above on
  // a matrix with no padding, so the format's true cost on Gaussian weights.
  const double bits = cbig.bits_per_weight();
  //! [bytes]
  const double m_big = 4096, k_big = 4096;
  std::printf("  (%.2f bits per weight, as measured on the Gaussian matrix above)\n", bits);
  std::printf("  %5s %14s %14s %14s %12s %10s\n", "N", "flops", "bytes BF16", "bytes TCA-TBE", "flops/byte", "saved");
  for (const double nn : {1.0, 8.0, 32.0, 128.0, 1024.0}) {
    const double flops = 2 * m_big * k_big * nn;
    const double act_out = 2 * (k_big * nn + m_big * nn);            // X in, Y out, BF16
    const double dense_bytes = 2 * m_big * k_big + act_out;          // W as BF16
    const double packed = bits / 8 * m_big * k_big + act_out;        // W as TCA-TBE
    std::printf("  %5.0f %14.3g %14.3g %14.3g %12.1f %9.1f%%\n", nn, flops, dense_bytes, packed, flops / dense_bytes,
                100 * (1 - packed / dense_bytes));
  }
  //! [bytes]
  std::printf("  A GPU does on the order of 100 or more BF16 tensor-core flops per byte of DRAM traffic,\n"
              "  so at small N the GEMM waits on memory and the saved bytes are saved time.\n");

  return walkthrough::check(exact, "emu::zipgemm == reference GEMM on " + args.tensor_label(40) + " (all outputs)") &&
                 walkthrough::check(y_fused == y_dense, "the timed fused GEMV == the dense GEMV, bit for bit") &&
                 walkthrough::check(bits < 12.0, "the unpadded Gaussian matrix costs under 12 bits per weight")
             ? 0
             : 1;
}

int main(int argc, char** argv) {
  return walkthrough::run_step(argc, argv, "layers.0.feed_forward.w1.weight", run);
}
