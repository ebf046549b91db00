/*! \file engine.h
 *  \brief The one interface through which every implementation (reference, CPU emulation, CUDA,
 *         yours) reports its checkpoints to the oracle, and the registry that names them.
 *
 *  An Engine overrides the stages it has; every stage it leaves alone answers std::nullopt and
 *  is reported as "n/a". An engine that does not encode is handed the reference's
 *  CompressedMatrix, so decoders and GEMMs are checked on exactly the bytes the reference wrote.
 *
 *  A complete engine, registered under the name "mine" (this is all it takes):
 *
 *  \code
 *  #include "zipserv/oracle/engine.h"
 *  #include "my_kernel.h"  // std::vector<uint16_t> my_decode(const zipserv::CompressedMatrix&), ...
 *
 *  namespace {
 *  class MineEngine final : public zipserv::oracle::Engine {
 *   public:
 *    std::string name() const override { return "mine"; }
 *    std::optional<std::vector<uint16_t>> decode(const zipserv::CompressedMatrix& w) const override {
 *      return my_decode(w);                     // rows x cols, row-major
 *    }
 *    std::optional<std::vector<uint16_t>> gemm(const zipserv::CompressedMatrix& w,
 *                                              const uint16_t* x, int64_t n) const override {
 *      return my_zipgemm(w, x, n);              // Y: rows x n, column-major
 *    }
 *    // Tensor cores add in their own order: say so, and the oracle applies the exact-input rule.
 *    zipserv::oracle::GemmContract gemm_contract() const override {
 *      return {zipserv::oracle::SummationOrder::other, 0};
 *    }
 *  };
 *  // Registered at start-up; `zipserv check model.safetensors --engine mine` now runs it.
 *  const bool registered = zipserv::oracle::register_engine(
 *      "mine", [] { return std::make_unique<MineEngine>(); });
 *  }  // namespace
 *  \endcode
 *
 *  In this repository, add the file to `_zipserv_oracle_plugin_sources` in
 *  tests/oracle/CMakeLists.txt (an OBJECT library linked into the oracle tests and the `zipserv`
 *  command): a static library would let the linker drop an object nothing refers to, and the
 *  registration with it. tests/oracle/plugins/random_access_engine.cpp is a real engine written
 *  this way. In another repository, compile the file into your own program, which links the
 *  installed package's zipserv::oracle: tests/downstream is such a project.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// How an engine's GEMM adds its products, which decides how the oracle compares its output.
enum class SummationOrder {
  /// The reference order of gemm.h (k = 0, 1, ..., K-1 into one FP32 accumulator, one
  /// BF16 rounding): the output must equal the reference bit for bit on ANY input.
  reference,
  /// Any other order (tensor-core mma, split-K, blocked SIMD, cuBLAS): bit for bit only where
  /// the inputs make every partial sum exact, a stated error bound elsewhere (gemm_rule.h).
  other,
};

/// What the oracle may assume about an engine's GEMM arithmetic.
struct GemmContract {
  SummationOrder order = SummationOrder::reference;  ///< see SummationOrder
  /// 0 when partial sums stay FP32 until the final rounding; otherwise the number of partial
  /// sums that are rounded to BF16 before a final FP32 reduction (the official split-K, spec
  /// section G.4), which loosens both the exactness condition and the error bound.
  int bf16_partial_sums = 0;
  /// The final FP32 -> BF16 rounding writes every NaN as the canonical 0x7FFF, as the GPU's
  /// `cvt.rn.bf16.f32` does (the reference keeps the FP32 NaN's sign and payload). A NaN output
  /// is then compared by NaN-ness even under SummationOrder::reference; every other value still
  /// bit for bit.
  bool canonical_nan = false;
  /// When W and X together carry more than one NaN bit pattern, which of them a NaN output
  /// carries is the FP unit's choice: an x86 add returns its first NaN operand, and a compiler
  /// may swap the operands of an addition (IEEE addition commutes), differently in each build.
  /// Declared, NaN outputs of such inputs are compared by NaN-ness under SummationOrder::reference;
  /// with at most one NaN pattern in the inputs, and for every other value, still bit for bit.
  bool nan_payload_of_fp_unit = false;
};

/// One implementation as the oracle sees it. Every stage is optional: the default answers
/// std::nullopt ("this engine has no such stage"). Stages may throw; the oracle reports the
/// exception text as that checkpoint's divergence.
class Engine {
 public:
  virtual ~Engine() = default;

  /// The name used by the registry and in every report.
  virtual std::string name() const = 0;

  /// Empty when the engine can run here; otherwise why not (e.g. "no CUDA device"). An
  /// unavailable engine is listed as skipped, never as passed.
  virtual std::string unavailable_reason() const { return {}; }

  /// Encodes a row-major rows x cols BF16 matrix; with `start_exp` set, with that window
  /// (checkpoints window, bitmaps, streams). Engines that do not encode keep the default.
  virtual std::optional<CompressedMatrix> encode(const uint16_t* /*bf16*/, int64_t /*rows*/,
                                                 int64_t /*cols*/,
                                                 std::optional<uint8_t> /*start_exp*/) const {
    return std::nullopt;
  }

  /// Every lane's A-fragment registers, indexed by lane_fragment_index() (checkpoint
  /// lane_fragments).
  virtual std::optional<std::vector<uint32_t>> lane_fragments(const CompressedMatrix& /*w*/) const {
    return std::nullopt;
  }

  /// The logical rows x cols matrix, row-major (checkpoint decoded).
  virtual std::optional<std::vector<uint16_t>> decode(const CompressedMatrix& /*w*/) const {
    return std::nullopt;
  }

  /// Y = W X with X n x cols row-major; Y rows x n column-major (checkpoint gemm_output).
  virtual std::optional<std::vector<uint16_t>> gemm(const CompressedMatrix& /*w*/, const uint16_t* /*x*/,
                                                    int64_t /*n*/) const {
    return std::nullopt;
  }

  /// How gemm() adds (decides the comparison rule; see SummationOrder).
  virtual GemmContract gemm_contract() const { return {}; }

  /// The arithmetic of gemm() in words, printed by `zipserv check` (e.g. "ieee_sequential",
  /// "tensor cores of this GPU"); empty for an engine without a GEMM.
  virtual std::string numerics() const { return "ieee_sequential"; }
};

/// Makes a fresh engine.
using EngineFactory = std::function<std::unique_ptr<Engine>()>;

/// Adds (or replaces) an engine under `name`. Returns true, so that it can initialise a
/// namespace-scope constant (the registration idiom in the example above).
bool register_engine(const std::string& name, EngineFactory factory);

/// Removes an engine (tests use it to clean up a deliberately broken one). Returns whether it
/// was there.
bool unregister_engine(const std::string& name);

/// The registered engine names: the built-in ones first ("reference", "emulation" and its
/// split-K variant, "cuda", the cuda-sim variants, "cublas"), then the others in registration
/// order.
std::vector<std::string> registered_engines();

/// A fresh engine by name, or nullptr if no engine has that name.
std::unique_ptr<Engine> make_engine(const std::string& name);

/// \}

}  // namespace zipserv::oracle
