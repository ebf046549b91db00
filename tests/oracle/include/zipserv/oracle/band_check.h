/*! \file band_check.h
 *  \brief The oracle on a matrix too large to hold whole: its bands of block-tile rows checked one
 *         at a time, and their reports merged into the report the whole-matrix check() would give.
 *
 *  Why bands give the whole matrix's answer (block_tile_band.h):
 *
 *  - Encoded with the whole matrix's window, a band of whole block-tile rows is exactly those rows'
 *    part of every array (block tiles never share a byte; only global_offsets restart at (0, 0)).
 *    So every weight checkpoint of a band is the whole checkpoint's slice, and the whole matrix's
 *    first divergence is the first band divergence in the whole arrays' order.
 *  - Rows of Y = W X depend only on the same rows of W and on all of X; X has K columns and every
 *    band has all K, so each band gets the same X and its Y is rows of the whole Y. GEMM rule 2 of
 *    gemm_rule.h is the exception: its condition (S < 2^p g) is about the whole matrix, so the
 *    whole matrix's S and g are gathered first (WholeGemmFacts) and given to every band.
 *
 *  Usage, one engine (`zipserv check` does this for every weight, tools/zipserv/cmd_check.cpp):
 *
 *  \code
 *  WholeGemmFacts facts(inputs);                           // first pass, band by band
 *  for (band ...) facts.add(band_weights, band_rows, cols);
 *  BandedReport merged(engine.name(), tensor_name, rows, cols);
 *  for (band ...) {                                        // second pass
 *    Expected e = expect(Case{..., band_weights, whole_window}, inputs);  // forced window
 *    facts.apply(e);
 *    merged.add(e, first_row, check(engine, e));
 *  }
 *  const Report r = merged.report();                       // as check() on the whole matrix
 *  \endcode
 *
 *  What bands cannot reproduce: an engine's own choice of window (each band is encoded with the
 *  window chosen from the whole matrix's histogram, so an encoding engine is given it, as for a
 *  compressed file), and an array of the wrong length, which is reported at the end of the band
 *  where it happens (the whole matrix would show the shifted entries after it instead). An
 *  engine's exception is about the matrix it was given, the band: its text keeps the band's
 *  places, and the band's rows are named before it.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zipserv/oracle/oracle.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// What GEMM rule 2 (gemm_rule.h) needs about a whole matrix, gathered band by band: per
/// activation input, whether W and X are finite, the granularity g of the products and the
/// largest S of any output.
class WholeGemmFacts {
 public:
  /// For these activation inputs (the ones every band is checked with).
  explicit WholeGemmFacts(const std::vector<GemmInput>& inputs);
  /// Adds the rows of one band: `weights` is (rows, cols) row-major BF16.
  void add(const std::vector<uint16_t>& weights, int64_t rows, int64_t cols);
  /// Gives `band`'s GEMM expectations the whole matrix's finite, granularity_exp and max_abs_sum.
  void apply(Expected& band) const;

 private:
  std::vector<GemmInput> inputs_;  // a copy: n x K each, small
  // Per input:
  std::vector<bool> finite_;
  std::vector<std::optional<int64_t>> granularity_exp_;  // unset while every band had all-zero weights
  std::vector<double> max_abs_sum_;
};

/// One engine's reports on consecutive bands of a matrix, merged into its whole-matrix report:
/// divergences are moved to whole-matrix coordinates (rows, block tiles, FragTiles, stream and
/// array indices, global offsets) and the first one in the whole arrays' order is kept.
class BandedReport {
 public:
  /// For `engine` on the matrix `case_name` of `rows` x `cols`, with check()'s `options`.
  BandedReport(std::string engine, std::string case_name, int64_t rows, int64_t cols, const Options& options = {});
  /// Adds the report of the band of rows [first_row, first_row + band.input.rows) (first_row a
  /// multiple of 64; bands added top to bottom, none left out): `band` its expectations.
  void add(const Expected& band, int64_t first_row, const Report& report);
  /// The merged report; a matrix of zero bands has every checkpoint n/a.
  Report report() const;
  /// The number of bands added.
  int64_t bands() const { return bands_; }

 private:
  std::string engine_, case_name_;
  int64_t rows_, cols_;
  Options options_;
  int64_t bands_ = 0, next_row_ = 0, hf_base_ = 0, fb_base_ = 0;
  // Per checkpoint: the first failure so far in the whole matrix's comparison order, and its key
  // in that order.
  std::array<std::optional<CheckpointResult>, kCheckpoints.size()> failed_;
  std::array<std::array<int64_t, 3>, kCheckpoints.size()> failed_key_{};
  std::array<bool, kCheckpoints.size()> applicable_{};             // some band ran it
  std::array<std::string, kCheckpoints.size()> detail_;            // the first band's
};

/// \}

}  // namespace zipserv::oracle
