// The oracle band by band (band_check.h): the whole matrix's GEMM facts gathered first, then each
// band's report moved to whole-matrix coordinates and the first divergence in the whole arrays'
// comparison order kept.
#include "zipserv/oracle/band_check.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <utility>

#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/tile_layout.h"
#include "zipserv/oracle/gemm_rule.h"

namespace zipserv::oracle {

WholeGemmFacts::WholeGemmFacts(const std::vector<GemmInput>& inputs)
    : inputs_(inputs), finite_(inputs.size(), true), granularity_exp_(inputs.size()), max_abs_sum_(inputs.size(), 0.0) {}

void WholeGemmFacts::add(const std::vector<uint16_t>& weights, int64_t rows, int64_t cols) {
  // A band of zeros has no product to set g by (expect_gemm then says g = 1): it must not
  // coarsen the whole matrix's g, which is the minimum over the bands that have products.
  const bool has_nonzero = std::any_of(weights.begin(), weights.end(), [](uint16_t v) { return (v & 0x7FFFu) != 0; });
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const GemmExpectation e = expect_gemm(inputs_[i].name, weights, rows, cols, inputs_[i].x, inputs_[i].n);
    finite_[i] = finite_[i] && e.finite;
    max_abs_sum_[i] = std::max(max_abs_sum_[i], e.max_abs_sum);
    if (has_nonzero) granularity_exp_[i] = std::min(granularity_exp_[i].value_or(e.granularity_exp), e.granularity_exp);
  }
}

void WholeGemmFacts::apply(Expected& band) const {
  assert(band.gemm.size() == inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    band.gemm[i].finite = finite_[i];
    band.gemm[i].granularity_exp = granularity_exp_[i].value_or(0);  // all zeros: g = 1, as expect_gemm
    band.gemm[i].max_abs_sum = max_abs_sum_[i];
  }
}

namespace {

constexpr int64_t kRegsPerBlockTile = lane_fragment_index(1, 0, 0, 0, 0);  // 4 strips x 4 slices x 32 lanes x 4

size_t checkpoint_index(Checkpoint c) {
  return static_cast<size_t>(std::find(kCheckpoints.begin(), kCheckpoints.end(), c) - kCheckpoints.begin());
}

// Where a band sits in the whole matrix.
struct BandOrigin {
  int64_t first_row, rows, cols, whole_rows;
  int64_t block_row;   // g0 = first_row / 64
  int64_t block_tile;  // t0 = g0 * KB
  int64_t hf_base, fb_base;  // the band's first entry in the whole sign_mantissa / full streams
};

// The stream arrays in the order compare_streams() checks them (an exception first: the whole
// matrix's call would have thrown before any comparison).
int64_t stream_rank(const std::string& array) {
  if (array == "sign_mantissa") return 0;
  if (array == "full") return 1;
  if (array == "median_offsets") return 2;
  if (array == "global_offsets") return 3;
  return -1;
}

// Moves `d`, found in the band, to whole-matrix coordinates; returns its key in the order in which
// the whole matrix's comparison would meet it. A divergence without an index (an exception, an
// array of the wrong length) is placed at the band's start.
std::array<int64_t, 3> to_whole(Divergence& d, const BandOrigin& o, const Expected& band) {
  const bool gemm = d.checkpoint == Checkpoint::gemm_output;
  Place& p = d.place;
  if (p.block_tile >= 0) p.block_tile += gemm ? o.block_row : o.block_tile;
  if (p.fragtile >= 0) p.fragtile += o.block_tile * kFragTilesPerBlockTile;
  if (p.row >= 0) p.row += o.first_row;
  if (p.row2 >= 0) p.row2 += o.first_row;
  const int64_t unset = -1;
  if (d.index < 0)
    d.note = "in the band of rows [" + std::to_string(o.first_row) + ", " + std::to_string(o.first_row + o.rows) +
             ")" + (d.note.empty() ? "" : ": " + d.note);
  if (d.array == "exception") return {-1, o.first_row, 0};
  switch (d.checkpoint) {
    case Checkpoint::window:
      return {0, o.first_row, 0};
    case Checkpoint::bitmaps: {
      const int64_t first = o.block_tile * kFragTilesPerBlockTile;
      if (d.index >= 0) d.index += first;
      return {0, d.index >= 0 ? d.index : first, 0};
    }
    case Checkpoint::streams: {
      const int64_t rank = stream_rank(d.array);
      int64_t first = 0;
      if (rank == 0) first = o.hf_base;
      if (rank == 1) first = o.fb_base;
      if (rank == 2) first = 2 * kStripsPerBlockTile * o.block_tile;
      if (rank == 3) first = 2 * o.block_tile;
      if (d.index >= 0) {
        if (rank == 3) {
          // Offsets count from the band's start: the whole matrix's count from its own.
          const int64_t base = d.index % 2 ? o.fb_base : o.hf_base;
          d.expected = static_cast<uint32_t>(static_cast<int32_t>(d.expected) + base);
          d.actual = static_cast<uint32_t>(static_cast<int32_t>(d.actual) + base);
        }
        d.index += first;
      }
      return {rank, d.index >= 0 ? d.index : first, 0};
    }
    case Checkpoint::lane_fragments: {
      const int64_t first = o.block_tile * kRegsPerBlockTile;
      if (d.index >= 0) d.index += first;
      return {0, d.index >= 0 ? d.index : first, 0};
    }
    case Checkpoint::decoded: {
      const int64_t first = o.first_row * o.cols;
      if (d.index >= 0) d.index += first;
      return {0, d.index >= 0 ? d.index : first, 0};
    }
    case Checkpoint::gemm_output: {
      // Y is column-major and the inputs are compared in turn: (input, column, row) is the order.
      int64_t input = 0;
      while (input < static_cast<int64_t>(band.gemm.size()) && d.array != "Y(" + band.gemm[input].input + ")") ++input;
      if (d.index < 0) return {input, 0, o.first_row};
      const int64_t row = d.index % o.rows, col = d.index / o.rows;
      d.index = col * o.whole_rows + row + o.first_row;
      return {input, col, row + o.first_row};
    }
  }
  return {unset, unset, unset};
}

}  // namespace

BandedReport::BandedReport(std::string engine, std::string case_name, int64_t rows, int64_t cols, const Options& options)
    : engine_(std::move(engine)), case_name_(std::move(case_name)), rows_(rows), cols_(cols), options_(options) {}

void BandedReport::add(const Expected& band, int64_t first_row, const Report& report) {
  assert(first_row == next_row_ && first_row % kBlockTileDim == 0 && band.input.cols == cols_);
  BandOrigin o;
  o.first_row = first_row;
  o.rows = band.input.rows;
  o.cols = cols_;
  o.whole_rows = rows_;
  o.block_row = first_row / kBlockTileDim;
  o.block_tile = o.block_row * band.compressed.block_cols();
  o.hf_base = hf_base_;
  o.fb_base = fb_base_;
  for (const CheckpointResult& r : report.results) {
    const size_t c = checkpoint_index(r.checkpoint);
    if (detail_[c].empty()) detail_[c] = r.detail;
    if (r.status == Status::pass || r.status == Status::fail) applicable_[c] = true;
    if (r.status != Status::fail) continue;
    CheckpointResult candidate = r;
    candidate.after_first_divergence = false;
    candidate.detail.clear();
    std::array<int64_t, 3> key{};
    if (candidate.divergence) key = to_whole(*candidate.divergence, o, band);
    if (!failed_[c] || key < failed_key_[c]) {
      failed_[c] = std::move(candidate);
      failed_key_[c] = key;
    }
  }
  ++bands_;
  next_row_ = first_row + band.input.rows;
  hf_base_ += static_cast<int64_t>(band.compressed.sign_mantissa.size());
  fb_base_ += static_cast<int64_t>(band.compressed.full.size());
}

Report BandedReport::report() const {
  Report out{engine_, case_name_, {}};
  std::optional<size_t> first_failure;
  for (size_t c = 0; c < kCheckpoints.size(); ++c)
    if (failed_[c] && !first_failure) first_failure = c;
  for (size_t c = 0; c < kCheckpoints.size(); ++c) {
    CheckpointResult r;
    r.checkpoint = kCheckpoints[c];
    const bool after = first_failure && c > *first_failure;
    if (after && options_.stop_at_first_divergence) {
      r.status = Status::not_reached;
    } else if (failed_[c]) {
      r = *failed_[c];
      r.after_first_divergence = after;
    } else {
      r.status = applicable_[c] ? Status::pass : Status::not_applicable;
    }
    if (!detail_[c].empty())
      r.detail = std::to_string(bands_) + " band" + (bands_ == 1 ? "" : "s") + "; the first: " + detail_[c];
    out.results.push_back(std::move(r));
  }
  return out;
}

}  // namespace zipserv::oracle
