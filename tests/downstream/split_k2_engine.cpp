// An engine of this project: decode with zipserv's SIMD emulation, then a dense GEMM of its own
// that splits K in two halves, sums each half in FP32, adds the halves and rounds to BF16 once.
// That is another summation order than the reference's, and the engine says so, so the oracle
// compares its GEMM by the exact-input rule and the error bound instead of bit for bit.
//
// Registered as "split-k2"; "split-k2-broken" is the same engine with one decoded bit flipped,
// which the oracle must report (the test runs it and expects a mismatch).
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "zipserv/emulation/emulation.h"
#include "zipserv/oracle/engine.h"
#include "zipserv/reference/bf16.h"

namespace {

class SplitK2Engine final : public zipserv::oracle::Engine {
 public:
  explicit SplitK2Engine(bool broken) : broken_(broken) {}

  std::string name() const override { return broken_ ? "split-k2-broken" : "split-k2"; }

  std::optional<std::vector<uint16_t>> decode(const zipserv::CompressedMatrix& w) const override {
    std::vector<uint16_t> out = zipserv::emu::decode(w);  // (rows, cols) row-major
    if (broken_ && !out.empty()) out[out.size() / 2] ^= 1;
    return out;
  }

  // Y = W X: X (n, cols) row-major, Y (rows, n) column-major.
  std::optional<std::vector<uint16_t>> gemm(const zipserv::CompressedMatrix& w, const uint16_t* x,
                                            int64_t n) const override {
    const std::vector<uint16_t> weights = *decode(w);  // (rows, cols) row-major
    const int64_t rows = w.rows, cols = w.cols, half = cols / 2;
    std::vector<uint16_t> y(static_cast<size_t>(rows * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t r = 0; r < rows; ++r) {
        float lo = 0.0f, hi = 0.0f;  // the two halves of K, each summed in order
        for (int64_t k = 0; k < half; ++k)
          lo += zipserv::bf16_to_float(weights[r * cols + k]) * zipserv::bf16_to_float(x[j * cols + k]);
        for (int64_t k = half; k < cols; ++k)
          hi += zipserv::bf16_to_float(weights[r * cols + k]) * zipserv::bf16_to_float(x[j * cols + k]);
        y[j * rows + r] = zipserv::float_to_bf16_rne(lo + hi);
      }
    return y;
  }

  zipserv::oracle::GemmContract gemm_contract() const override {
    return {zipserv::oracle::SummationOrder::other, 0};
  }

  std::string numerics() const override { return "ieee, K split in two halves"; }

 private:
  bool broken_;
};

// The registrations: they run before main(), and `make_engine("split-k2")` finds the engine.
const bool registered = zipserv::oracle::register_engine("split-k2", [] { return std::make_unique<SplitK2Engine>(false); });
const bool registered_broken =
    zipserv::oracle::register_engine("split-k2-broken", [] { return std::make_unique<SplitK2Engine>(true); });

}  // namespace
