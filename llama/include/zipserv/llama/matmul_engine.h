/*! \file matmul_engine.h
 *  \brief The matmul engine: the one interface through which the forward pass multiplies by a
 *         weight matrix, and the registry that names the engines (`--engine NAME`).
 *
 *  Every multiplication of the forward pass is Y = W X in the layouts of zipserv/reference/gemm.h:
 *
 *      W   M x K   the weight (compressed or dense BF16)
 *      X   n x K   row-major BF16: n tokens' activations
 *      Y   M x n   column-major BF16, i.e. n x M row-major: each token's M outputs contiguous
 *
 *  An engine provides three multiplications and the crossover of the stage rule (stage_rule.h
 *  decides which one runs). A complete engine, registered under the name "mine":
 *
 *  \code
 *  #include "zipserv/llama/matmul_engine.h"
 *
 *  namespace {
 *  struct MyWeights final : zipserv::llama::EngineWeights {   // e.g. device buffers
 *    explicit MyWeights(const zipserv::CompressedMatrix& w) : w(&w) {}
 *    const zipserv::CompressedMatrix* w;
 *  };
 *  class MineEngine final : public zipserv::llama::MatmulEngine {
 *   public:
 *    std::string name() const override { return "mine"; }
 *    std::unique_ptr<zipserv::llama::EngineWeights> prepare(const zipserv::CompressedMatrix& w) const override;
 *    std::unique_ptr<zipserv::llama::EngineWeights> prepare_dense(const uint16_t* w, int64_t m, int64_t k) const override;
 *    void zipgemm(const zipserv::llama::EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override;
 *    void decompress_gemm(const zipserv::llama::EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override;
 *    void gemm_dense(const zipserv::llama::EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const override;
 *    int64_t decompress_from_n() const override { return 64; }  // measured: docs/results/llama.md
 *  };
 *  const bool registered = zipserv::llama::register_engine(
 *      "mine", "my kernel", [](const zipserv::llama::EngineOptions&) { return std::make_unique<MineEngine>(); });
 *  }  // namespace
 *  \endcode
 *
 *  Add the file to `_zipserv_llama_engine_plugins` in llama/CMakeLists.txt (an OBJECT library:
 *  a static library would let the linker drop an object nothing refers to, and its registration
 *  with it); `zipserv generate --engine mine`, the tests and the benchmark then see it.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/llama/config.h"

namespace zipserv::llama {

/// \addtogroup llama
/// \{

/// One weight matrix as an engine keeps it ready, prepared once at load: the CPU emulation
/// holds a validated reference; a GPU engine would hold the uploaded device buffers.
class EngineWeights {
 public:
  virtual ~EngineWeights() = default;
};

/// A way to compute Y = W X (see the file comment for the layouts).
class MatmulEngine {
 public:
  virtual ~MatmulEngine() = default;
  /// The registry name ("emulation").
  virtual std::string name() const = 0;
  /// A one-line description for reports, e.g. the SIMD target it runs on.
  virtual std::string description() const { return name(); }

  /// Prepares a compressed weight (already validated by the loader). `w` outlives the result.
  virtual std::unique_ptr<EngineWeights> prepare(const CompressedMatrix& w) const = 0;
  /// Prepares dense weights, (m, k) bf16 row-major. `w` outlives the result.
  virtual std::unique_ptr<EngineWeights> prepare_dense(const uint16_t* w, int64_t m, int64_t k) const = 0;

  /// Y = W X straight from the compressed weights (the fused ZipGEMM: no decompressed copy).
  virtual void zipgemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const = 0;
  /// Y = W X by decompressing W into a dense scratch matrix, then a dense GEMM.
  virtual void decompress_gemm(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const = 0;
  /// Y = W X on weights from prepare_dense().
  virtual void gemm_dense(const EngineWeights& w, const uint16_t* x, int64_t n, uint16_t* y) const = 0;

  /// The stage rule's crossover: a compressed multiplication of n >= decompress_from_n() tokens
  /// runs decompress_gemm(), a smaller one zipgemm(). Measured per engine (bench/llama).
  virtual int64_t decompress_from_n() const = 0;
};

/// How an engine is built.
struct EngineOptions {
  int threads = 0;  ///< worker threads of a CPU engine; 0 = all hardware threads
};

/// Thrown by an engine's factory when it cannot run on this machine (e.g. a GPU engine without a
/// device); tests that run every registered engine skip it, visibly.
class EngineUnavailable : public LlamaError {
 public:
  using LlamaError::LlamaError;
};

/// Makes a fresh engine.
using EngineFactory = std::function<std::unique_ptr<MatmulEngine>(const EngineOptions&)>;

/// Adds (or replaces) an engine under `name`, with a one-line `summary` for `--help`. Returns
/// true, so that it can initialise a namespace-scope constant (the idiom above).
bool register_engine(const std::string& name, const std::string& summary, EngineFactory factory);

/// The registered engine names: the built-in ones first ("reference", "emulation"), then the
/// others in registration order.
std::vector<std::string> engine_names();

/// The summary an engine was registered with ("" for an unknown name).
std::string engine_summary(const std::string& name);

/// The engine every command uses unless told otherwise.
inline constexpr const char* kDefaultEngine = "emulation";

/// A fresh engine; throws LlamaError "unknown engine \"x\" (available: reference, emulation)"
/// for a name nobody registered.
std::unique_ptr<MatmulEngine> make_engine(const std::string& name, const EngineOptions& options = {});

/// \}

}  // namespace zipserv::llama
