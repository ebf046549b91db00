/*! \file oracle.h
 *  \brief The oracle: the reference's checkpoints for one weight matrix, computed once, and the
 *         bit-for-bit comparison of any Engine with them, stopping at the first divergence.
 *
 *  Usage (the whole flow of a test or of `zipserv check`):
 *
 *  \code
 *  using namespace zipserv::oracle;
 *  const Case c = ...;                                   // a named weight matrix (corpus.h)
 *  const Expected e = expect(c, standard_gemm_inputs(c.cols, 7));
 *  for (const std::string& name : registered_engines()) {
 *    auto engine = make_engine(name);
 *    if (!engine->unavailable_reason().empty()) continue;  // report as skipped
 *    const Report r = check(*engine, e);
 *    if (!r.passed()) std::puts(r.first_divergence()->describe().c_str());
 *  }
 *  \endcode
 *
 *  The expectations come straight from the reference functions (zipserv::encode, lane_fragments,
 *  decode, gemm_dense), not from the "reference" Engine, so a broken engine can never change
 *  what it is compared with.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/oracle/checkpoint.h"
#include "zipserv/oracle/engine.h"
#include "zipserv/oracle/gemm_rule.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// One named weight matrix to check.
struct Case {
  std::string name;                ///< XNNPACK-style, e.g. "m_lt_64_k_gt_64" or a tensor name
  int64_t rows = 0;                ///< M
  int64_t cols = 0;                ///< K
  std::vector<uint16_t> weights;   ///< (rows, cols) row-major BF16 patterns
  std::optional<uint8_t> start_exp;///< forced window (encode_with_start_exp); unset: the best one
};

/// One activation matrix X for the GEMM checkpoint.
struct GemmInput {
  std::string name;              ///< "small_integer", "random_real", ...
  int64_t n = 0;                 ///< tokens
  std::vector<uint16_t> x;       ///< (n, k) row-major BF16
};

/// The oracle's two standard inputs for a K-column weight matrix (seeded, so reproducible):
/// "small_integer": n = 8 (the kernel's N8 path), integers in [-8, 8], exact with exact weights;
/// "random_real": n = 13 (a partial N tile), N(0, 1) rounded to BF16.
std::vector<GemmInput> standard_gemm_inputs(int64_t k, uint64_t seed);

/// The reference's value at every checkpoint for one case.
struct Expected {
  Case input;                              ///< the weights (for engines that encode)
  CompressedMatrix compressed;             ///< window, bitmaps, streams
  std::vector<uint32_t> lane_fragments;    ///< lane_fragments(compressed)
  std::vector<uint16_t> decoded;           ///< decode(compressed)
  std::vector<GemmInput> gemm_inputs;      ///< the activations
  std::vector<GemmExpectation> gemm;       ///< one per gemm_inputs entry
};

/// Encodes `c` with the reference (its forced window if any) and computes every checkpoint.
Expected expect(const Case& c, std::vector<GemmInput> inputs);

/// For a matrix that arrives compressed (a compressed model file): the stored bytes ARE the
/// expected window/bitmaps/streams, the weights are their reference decode. An encoding engine
/// is then checked on whether re-encoding the decoded weights gives the stored bytes back.
Expected expect_stored(const std::string& name, CompressedMatrix stored, std::vector<GemmInput> inputs);

/// How the oracle proceeds after a failure.
struct Options {
  /// true: checkpoints after the first failure are "not reached" (not run). false: they are
  /// still compared and marked after_first_divergence (useful to see how far damage spreads).
  bool stop_at_first_divergence = true;
};

/// Runs `engine` through every checkpoint and compares each with `expected` bit for bit (GEMM:
/// by gemm_rule.h). An engine that does not encode is given expected.compressed.
Report check(const Engine& engine, const Expected& expected, const Options& options = {});

/// \}

}  // namespace zipserv::oracle
