// The oracle band by band (band_check.h) against the oracle on the whole matrix: for working and
// for broken engines, the merged report must be the whole matrix's, checkpoint by checkpoint, and
// the first divergence the same in every word of its description (array, index, block tile, warp,
// lane, row, col, bits, note), also when it lies in a band other than the first.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "broken_engines.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/encode.h"
#include "zipserv/oracle/band_check.h"

namespace zipserv::oracle::test {
namespace {

// 200 x 130: four bands of 64 rows (the last one 8 rows), 3 block tiles per block-tile row (the
// third padded), so bands start at block tiles 0, 3, 6, 9.
constexpr int64_t kRows = 200, kCols = 130, kBandRows = 64;
// A value that occurs only where it is put: 3.0 lies far outside the window of N(0, 0.02) weights,
// so it is stored in the fallback stream.
constexpr uint16_t kPattern = 0x4040;

// N(0, 0.02) weights with 1 in 64 an N(0, 1) outlier (so every band has fallback values and the
// bands' streams start at non-zero places of the whole streams), kPattern at four places in the
// third band, (128, 64) being the first weight of block tile 7.
std::vector<uint16_t> weights() {
  std::mt19937_64 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> one_in(0, 63);
  std::vector<uint16_t> w(kRows * kCols);
  for (uint16_t& v : w) {
    v = float_to_bf16_rne(normal(rng) * (one_in(rng) == 0 ? 1.0f : 0.02f));
    if (v == kPattern) v ^= 1u;
  }
  for (auto [r, c] : {std::pair{128, 64}, {130, 0}, {150, 70}, {170, 5}}) w[r * kCols + c] = kPattern;
  return w;
}

// Band `first_row`'s rows of `w`.
std::vector<uint16_t> rows_of(const std::vector<uint16_t>& w, int64_t first_row, int64_t rows) {
  return {w.begin() + first_row * kCols, w.begin() + (first_row + rows) * kCols};
}

// How the bands' expectations are made: encoded by the reference (a plain file), or from stored
// arrays (a compressed file: each band's arrays as the band encoder writes them).
enum class Flow { plain, stored };

Expected whole_expectation(const std::vector<uint16_t>& w, const std::vector<GemmInput>& inputs, Flow flow) {
  if (flow == Flow::stored) return expect_stored("m", encode(w.data(), kRows, kCols), inputs);
  return expect(Case{"m", kRows, kCols, w, std::nullopt}, inputs);
}

// check() on every band, merged; `whole_facts` false leaves each band's own GEMM facts.
Report banded(const Engine& engine, const std::vector<uint16_t>& w, const std::vector<GemmInput>& inputs, Flow flow,
              const Options& options = {}, bool whole_facts = true) {
  const uint8_t window = encode(w.data(), kRows, kCols).start_exp;
  WholeGemmFacts facts(inputs);
  for (int64_t r0 = 0; r0 < kRows; r0 += kBandRows) {
    const int64_t n = std::min(kBandRows, kRows - r0);
    facts.add(rows_of(w, r0, n), n, kCols);
  }
  BandedReport merged(engine.name(), "m", kRows, kCols, options);
  for (int64_t r0 = 0; r0 < kRows; r0 += kBandRows) {
    const int64_t n = std::min(kBandRows, kRows - r0);
    const std::vector<uint16_t> band = rows_of(w, r0, n);
    Expected e = flow == Flow::stored
                     ? expect_stored("m", encode_with_start_exp(band.data(), n, kCols, window), inputs)
                     : expect(Case{"m", n, kCols, band, window}, inputs);
    if (whole_facts) facts.apply(e);
    merged.add(e, r0, check(engine, e, options));
  }
  EXPECT_EQ(merged.bands(), 4);
  return merged.report();
}

// The merged report says what the whole matrix's does: every status, and the first divergence
// word for word (an exception's own text excepted).
void expect_same_report(const Report& whole, const Report& bands) {
  ASSERT_EQ(whole.results.size(), bands.results.size());
  for (size_t c = 0; c < whole.results.size(); ++c) {
    EXPECT_EQ(status_name(bands.results[c].status), std::string(status_name(whole.results[c].status)))
        << whole.engine << " at " << checkpoint_name(whole.results[c].checkpoint);
    EXPECT_EQ(bands.results[c].after_first_divergence, whole.results[c].after_first_divergence);
    const auto& dw = whole.results[c].divergence;
    const auto& db = bands.results[c].divergence;
    ASSERT_EQ(dw.has_value(), db.has_value()) << whole.engine << " at " << checkpoint_name(whole.results[c].checkpoint);
    if (dw && dw->array == "exception") {
      // An engine's exception is about the matrix it was given: the band, named before its text.
      EXPECT_EQ(db->array, "exception") << db->describe();
      EXPECT_TRUE(db->note.starts_with("in the band of rows [")) << db->describe();
    } else if (dw) {
      EXPECT_EQ(db->describe(), dw->describe()) << whole.engine;
      EXPECT_EQ(db->index, dw->index);
      EXPECT_EQ(db->place.fragtile, dw->place.fragtile);
      EXPECT_EQ(db->place.row2, dw->place.row2);
    }
  }
}

class BandCheck : public ::testing::TestWithParam<Flow> {};

TEST_P(BandCheck, EveryRegisteredEngineGetsTheWholeMatrixReport) {
  const std::vector<uint16_t> w = weights();
  const std::vector<GemmInput> inputs = standard_gemm_inputs(kCols, 5);
  const Expected whole = whole_expectation(w, inputs, GetParam());
  int ran = 0;
  for (const std::string& name : registered_engines()) {
    const auto engine = make_engine(name);
    if (!engine->unavailable_reason().empty()) continue;
    ++ran;
    const Report r = check(*engine, whole);
    EXPECT_TRUE(r.passed()) << name;
    expect_same_report(r, banded(*engine, w, inputs, GetParam()));
  }
  EXPECT_GE(ran, 3);  // reference, emulation, cuda-sim at least
}

// Each broken engine's fault follows kPattern, whose first place is in the third band (rows
// 128..191): the merged report must name the same whole-matrix place as the whole check.
TEST_P(BandCheck, AFaultInALaterBandIsReportedAtItsWholeMatrixPlace) {
  const std::vector<uint16_t> w = weights();
  const std::vector<GemmInput> inputs = standard_gemm_inputs(kCols, 6);
  const Expected whole = whole_expectation(w, inputs, GetParam());
  const WrongValueDecodeEngine decode(kPattern);
  const WrongValueLaneEngine lane(kPattern);
  const WrongRowGemmEngine gemm(kPattern, 0x0001, GemmContract{});
  const WrongRowGemmEngine gemm_other(kPattern, 0x8000, GemmContract{SummationOrder::other, 0});
  const WrongValueCodeEncoderEngine code(kPattern);
  const WrongFallbackEncoderEngine fallback(kPattern);
  const ShiftedOffsetEncoderEngine global(kPattern, false), median(kPattern, true);
  const std::vector<std::pair<const Engine*, Checkpoint>> cases = {
      {&decode, Checkpoint::decoded},   {&lane, Checkpoint::lane_fragments}, {&gemm, Checkpoint::gemm_output},
      {&gemm_other, Checkpoint::gemm_output}, {&code, Checkpoint::bitmaps},  {&fallback, Checkpoint::streams},
      {&global, Checkpoint::streams},   {&median, Checkpoint::streams}};
  for (const auto& [engine, where] : cases) {
    const Report r = check(*engine, whole);
    const Divergence* d = r.first_divergence();
    ASSERT_NE(d, nullptr) << engine->name();
    EXPECT_EQ(d->checkpoint, where) << engine->name();
    // The fault is not in the first band: the test would not see a missing row offset otherwise.
    if (d->place.row >= 0) {
      EXPECT_GE(d->place.row, 128) << d->describe();
    }
    if (d->place.block_tile >= 0 && where != Checkpoint::gemm_output) {
      EXPECT_GE(d->place.block_tile, 6) << d->describe();
    }
    expect_same_report(r, banded(*engine, w, inputs, GetParam()));
    // Later checkpoints compared too: the same in bands as whole.
    const Options go_on{false};
    expect_same_report(check(*engine, whole, go_on), banded(*engine, w, inputs, GetParam(), go_on));
  }
  // The offsets are compared as the whole matrix's values, not the band's.
  const Report global_report = check(global, whole);  // the divergence points into it
  const Divergence* d = global_report.first_divergence();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->array, "global_offsets");
  EXPECT_EQ(d->index, 2 * 7);  // block tile 7 = (gm 2, gk 1)
  EXPECT_EQ(static_cast<int32_t>(d->expected), whole.compressed.global_offsets[2 * 7]);
}

INSTANTIATE_TEST_SUITE_P(Flows, BandCheck, ::testing::Values(Flow::plain, Flow::stored),
                         [](const auto& info) { return info.param == Flow::plain ? "plain" : "stored"; });

// GEMM rule 2 is decided by the whole matrix: here the first band alone holds small integers
// (every partial sum exact, so bit for bit), but a weight 2^-20 in the last band makes the whole
// matrix's products fine-grained, and the bound applies. A one-ulp error in the first band passes
// the whole check; so must it pass the band-wise one, which it would fail with the band's own facts.
TEST(BandCheckGemmRule, RuleTwoIsDecidedByTheWholeMatrix) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> integer(-8, 8);
  std::vector<uint16_t> w(kRows * kCols);
  for (uint16_t& v : w) v = float_to_bf16_rne(static_cast<float>(integer(rng)));
  w[(kRows - 1) * kCols + 3] = float_to_bf16_rne(std::ldexp(1.0f, -20));
  const std::vector<GemmInput> inputs = standard_gemm_inputs(kCols, 8);
  const Expected whole = expect(Case{"m", kRows, kCols, w, std::nullopt}, inputs);
  // Output (3, 0) of the small_integer input is away from zero (a flip of its lowest bit is one ulp).
  ASSERT_NE(whole.gemm[0].reference[3] & 0x7FFF, 0);
  const WrongOutputGemmEngine engine(3, 0, 0x0001, GemmContract{SummationOrder::other, 0});
  const Report r = check(engine, whole);
  EXPECT_TRUE(r.passed()) << r.first_divergence()->describe();
  expect_same_report(r, banded(engine, w, inputs, Flow::plain));
  const Report own_facts = banded(engine, w, inputs, Flow::plain, {}, /*whole_facts=*/false);
  ASSERT_FALSE(own_facts.passed());
  EXPECT_NE(own_facts.first_divergence()->note.find("every partial sum exact"), std::string::npos)
      << own_facts.first_divergence()->describe();
}

// A matrix of no band: every checkpoint n/a, nothing failed.
TEST(BandCheckMerge, NoBandIsNotAPass) {
  const BandedReport merged("reference", "empty", 0, 64);
  const Report r = merged.report();
  EXPECT_TRUE(r.passed());
  for (const CheckpointResult& c : r.results) EXPECT_EQ(c.status, Status::not_applicable);
}

}  // namespace
}  // namespace zipserv::oracle::test
