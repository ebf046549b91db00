/*! \file broken_engines.h
 *  \brief Deliberately broken engines: each wraps the reference and damages exactly one thing,
 *         so a test can assert that the oracle finds it and names its exact place.
 */
#pragma once

#include <memory>

#include "zipserv/reference/decode.h"
#include "zipserv/oracle/builtin_engines.h"
#include "zipserv/oracle/engine.h"
#include "zipserv/reference/tile_layout.h"

namespace zipserv::oracle::test {

/// Forwards every stage to the reference engine; the broken variants override one stage.
class ReferenceWrapper : public Engine {
 public:
  std::string name() const override { return "wrapped-reference"; }
  std::optional<CompressedMatrix> encode(const uint16_t* w, int64_t rows, int64_t cols,
                                         std::optional<uint8_t> start_exp) const override {
    return reference_->encode(w, rows, cols, start_exp);
  }
  std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& w) const override {
    return reference_->lane_fragments(w);
  }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override { return reference_->decode(w); }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    return reference_->gemm(w, x, n);
  }

 protected:
  std::unique_ptr<Engine> reference_ = make_reference_engine();
};

/// Flips bit `bit` of register a_reg of one lane, in one warp (strip) and slice of one block
/// tile: the smallest possible fault in a kernel's fragment decode.
class FlippedLaneBitEngine final : public ReferenceWrapper {
 public:
  FlippedLaneBitEngine(int64_t block_tile, int warp, int slice, int lane, int reg, int bit)
      : block_tile_(block_tile), warp_(warp), slice_(slice), lane_(lane), reg_(reg), bit_(bit) {}
  std::string name() const override { return "flipped-lane-bit"; }
  // Like a kernel that decodes for itself, it does not encode: it is handed the reference bytes.
  std::optional<CompressedMatrix> encode(const uint16_t*, int64_t, int64_t, std::optional<uint8_t>) const override {
    return std::nullopt;
  }
  std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& w) const override {
    std::vector<uint32_t> regs = *reference_->lane_fragments(w);
    regs[lane_fragment_index(block_tile_, warp_, slice_, lane_, reg_)] ^= uint32_t{1} << bit_;
    return regs;
  }

 private:
  int64_t block_tile_;
  int warp_, slice_, lane_, reg_, bit_;
};

/// Decodes one element (row, col) wrong: its lowest mantissa bit flipped.
class WrongElementDecodeEngine final : public ReferenceWrapper {
 public:
  WrongElementDecodeEngine(int64_t row, int64_t col) : row_(row), col_(col) {}
  std::string name() const override { return "wrong-element-decode"; }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override {
    std::vector<uint16_t> out = *reference_->decode(w);
    out[row_ * w.cols + col_] ^= 1u;
    return out;
  }

 private:
  int64_t row_, col_;
};

/// Produces one GEMM output (m, n) wrong (lowest bit flipped, or sign flipped), on every input.
class WrongOutputGemmEngine final : public ReferenceWrapper {
 public:
  WrongOutputGemmEngine(int64_t m, int64_t n, uint16_t flip, GemmContract contract)
      : m_(m), n_(n), flip_(flip), contract_(contract) {}
  std::string name() const override { return "wrong-output-gemm"; }
  std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& w, const uint16_t* x, int64_t n) const override {
    std::vector<uint16_t> y = *reference_->gemm(w, x, n);
    if (n_ < n) y[n_ * w.rows + m_] ^= flip_;
    return y;
  }
  GemmContract gemm_contract() const override { return contract_; }

 private:
  int64_t m_, n_;
  uint16_t flip_;
  GemmContract contract_;
};

/// Encodes correctly, then flips bit `bit` of word `fragtile` of bitmap 1, 2 or 3.
class FlippedBitmapEncoderEngine final : public ReferenceWrapper {
 public:
  FlippedBitmapEncoderEngine(int bitmap, int64_t fragtile, int bit) : bitmap_(bitmap), fragtile_(fragtile), bit_(bit) {}
  std::string name() const override { return "flipped-bitmap-encoder"; }
  std::optional<CompressedMatrix> encode(const uint16_t* w, int64_t rows, int64_t cols,
                                         std::optional<uint8_t> start_exp) const override {
    CompressedMatrix m = *reference_->encode(w, rows, cols, start_exp);
    std::vector<uint64_t>& words = bitmap_ == 1 ? m.bitmap1 : bitmap_ == 2 ? m.bitmap2 : m.bitmap3;
    words[fragtile_] ^= uint64_t{1} << bit_;
    return m;
  }

 private:
  int bitmap_;
  int64_t fragtile_;
  int bit_;
};

/// Chooses the window one exponent too high (an off-by-one in start_exp = lo - 1).
class OffByOneWindowEngine final : public ReferenceWrapper {
 public:
  std::string name() const override { return "off-by-one-window"; }
  std::optional<CompressedMatrix> encode(const uint16_t* w, int64_t rows, int64_t cols,
                                         std::optional<uint8_t> start_exp) const override {
    const uint8_t right = reference_->encode(w, rows, cols, start_exp)->start_exp;
    return reference_->encode(w, rows, cols, static_cast<uint8_t>(right + 1));
  }
};

/// The official kernels' decode (spec G.1): `(start_exp + code) << 7` in int, unmasked, so with
/// start_exp = 255 the carry lands in bit 15 and sets the sign of every high-frequency weight.
class OfficialSignBugEngine final : public ReferenceWrapper {
 public:
  std::string name() const override { return "official-sign-bug"; }
  std::optional<CompressedMatrix> encode(const uint16_t*, int64_t, int64_t, std::optional<uint8_t>) const override {
    return std::nullopt;
  }
  std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& w) const override {
    std::vector<uint16_t> out = *reference_->decode(w);
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c) {
        const ElementPlace p = place_element(r, c, w.block_cols());
        const uint32_t code = static_cast<uint32_t>(((w.bitmap3[p.fragtile] >> p.bit) & 1) << 2 |
                                                    ((w.bitmap2[p.fragtile] >> p.bit) & 1) << 1 |
                                                    ((w.bitmap1[p.fragtile] >> p.bit) & 1));
        const int unmasked = (static_cast<int>(w.start_exp) + static_cast<int>(code)) << 7;
        if (code != 0) out[r * w.cols + c] |= static_cast<uint16_t>(unmasked & 0x8000);
      }
    return out;
  }
};

}  // namespace zipserv::oracle::test
