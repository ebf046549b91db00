// The oracle's comparison: the reference's checkpoints computed once per case, then each engine
// compared with them in pipeline order, bit for bit, stopping at the first divergence.
#include "zipserv/oracle/oracle.h"

#include <algorithm>
#include <bit>
#include <exception>
#include <functional>
#include <random>
#include <utility>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/decode.h"
#include "zipserv/reference/element_code.h"
#include "zipserv/reference/encode.h"
#include "zipserv/oracle/locate.h"

namespace zipserv::oracle {
namespace {

// First index where two arrays differ in their common prefix, or -1.
template <typename T>
int64_t first_difference(const std::vector<T>& expected, const std::vector<T>& actual) {
  const size_t n = std::min(expected.size(), actual.size());
  const auto mismatch = std::mismatch(expected.begin(), expected.begin() + n, actual.begin());
  return mismatch.first == expected.begin() + n ? -1 : mismatch.first - expected.begin();
}

// A divergence of one raw array; `locate` translates the index. Returns nullopt when equal.
template <typename T>
std::optional<Divergence> compare_array(Checkpoint c, const std::string& name, const std::vector<T>& expected,
                                        const std::vector<T>& actual, const std::function<Place(int64_t)>& locate) {
  Divergence d;
  d.checkpoint = c;
  d.array = name;
  d.bits = static_cast<int>(8 * sizeof(T));
  const int64_t i = first_difference(expected, actual);
  if (i >= 0) {
    d.index = i;
    d.expected = static_cast<std::make_unsigned_t<T>>(expected[i]);
    d.actual = static_cast<std::make_unsigned_t<T>>(actual[i]);
    d.place = locate(i);
    return d;
  }
  if (expected.size() == actual.size()) return std::nullopt;
  d.note = name + " holds " + std::to_string(actual.size()) + " entries, expected " + std::to_string(expected.size());
  return d;
}

std::optional<Divergence> compare_window(const CompressedMatrix& want, const CompressedMatrix& got) {
  Divergence d;
  d.checkpoint = Checkpoint::window;
  if (want.rows != got.rows || want.cols != got.cols) {
    d.array = "shape";
    d.note = "encoded as " + std::to_string(got.rows) + "x" + std::to_string(got.cols) + ", expected " +
             std::to_string(want.rows) + "x" + std::to_string(want.cols);
    return d;
  }
  if (want.start_exp == got.start_exp) return std::nullopt;
  d.array = "start_exp";
  d.index = 0;
  d.bits = 8;
  d.expected = want.start_exp;
  d.actual = got.start_exp;
  d.note = "window [" + std::to_string((want.start_exp + 1) & 0xFF) + ", " + std::to_string((want.start_exp + 7) & 0xFF) +
           "] expected";
  return d;
}

// The three words of each FragTile together: the first FragTile (in storage order) where any
// word differs, named by its lowest differing bit, i.e. the first element whose code differs.
std::optional<Divergence> compare_bitmaps(const CompressedMatrix& want, const CompressedMatrix& got) {
  const std::vector<uint64_t>* w[3] = {&want.bitmap1, &want.bitmap2, &want.bitmap3};
  const std::vector<uint64_t>* g[3] = {&got.bitmap1, &got.bitmap2, &got.bitmap3};
  for (int b = 0; b < 3; ++b)
    if (w[b]->size() != g[b]->size()) {
      Divergence d;
      d.checkpoint = Checkpoint::bitmaps;
      d.array = "bitmap" + std::to_string(b + 1);
      d.note = d.array + " holds " + std::to_string(g[b]->size()) + " words, expected " + std::to_string(w[b]->size());
      return d;
    }
  for (size_t f = 0; f < w[0]->size(); ++f)
    for (int b = 0; b < 3; ++b) {
      const uint64_t diff = (*w[b])[f] ^ (*g[b])[f];
      if (!diff) continue;
      // The element whose code changed first: lowest differing bit over all three words.
      uint64_t any = 0;
      for (int bb = 0; bb < 3; ++bb) any |= (*w[bb])[f] ^ (*g[bb])[f];
      const int bit = std::countr_zero(any);
      Divergence d;
      d.checkpoint = Checkpoint::bitmaps;
      d.array = "bitmap" + std::to_string(b + 1);
      d.index = static_cast<int64_t>(f);
      d.bits = 64;
      d.expected = (*w[b])[f];
      d.actual = (*g[b])[f];
      d.place = locate_fragtile_bit(want, static_cast<int64_t>(f), bit);
      d.note = "code of that element: expected " +
               std::to_string(code_from_bitmaps(want.bitmap1[f], want.bitmap2[f], want.bitmap3[f], bit)) + ", got " +
               std::to_string(code_from_bitmaps(got.bitmap1[f], got.bitmap2[f], got.bitmap3[f], bit));
      return d;
    }
  return std::nullopt;
}

// Streams in the order a decoder consumes them: the element bytes, then the offsets into them.
std::optional<Divergence> compare_streams(const CompressedMatrix& want, const CompressedMatrix& got) {
  auto stream_place = [&](bool hf) {
    return [&want, hf](int64_t i) {
      Place p;
      locate_stream_entry(want, hf, i, p);
      return p;
    };
  };
  // An entry that no element owns is a block tile's 16-byte alignment padding: say so.
  auto mark_padding = [&want](Divergence& d, bool hf) {
    Place p;
    if (d.index >= 0 && !locate_stream_entry(want, hf, d.index, p)) d.note = "alignment padding of the block tile";
  };
  if (auto d = compare_array(Checkpoint::streams, "sign_mantissa", want.sign_mantissa, got.sign_mantissa, stream_place(true))) {
    mark_padding(*d, true);
    return d;
  }
  if (auto d = compare_array(Checkpoint::streams, "full", want.full, got.full, stream_place(false))) {
    mark_padding(*d, false);
    return d;
  }
  auto median_place = [](int64_t i) {
    Place p;
    p.block_tile = i / 2 / kStripsPerBlockTile;
    p.warp = static_cast<int>(i / 2 % kStripsPerBlockTile);
    return p;
  };
  if (auto d = compare_array(Checkpoint::streams, "median_offsets", want.median_offsets, got.median_offsets, median_place)) {
    d->note += std::string(d->note.empty() ? "" : "; ") + (d->index % 2 ? "fallback count" : "high-frequency count");
    return d;
  }
  auto global_place = [](int64_t i) {
    Place p;
    p.block_tile = i / 2;
    return p;
  };
  if (auto d = compare_array(Checkpoint::streams, "global_offsets", want.global_offsets, got.global_offsets, global_place)) {
    d->note += std::string(d->note.empty() ? "" : "; ") + (d->index % 2 ? "fallback offset" : "high-frequency offset");
    return d;
  }
  return std::nullopt;
}

std::string count_detail(size_t n, const char* what) { return std::to_string(n) + " " + what; }

}  // namespace

std::vector<GemmInput> standard_gemm_inputs(int64_t k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  GemmInput small{"small_integer", 8, std::vector<uint16_t>(static_cast<size_t>(8 * k))};
  std::uniform_int_distribution<int> integer(-8, 8);
  for (auto& v : small.x) v = float_to_bf16_rne(static_cast<float>(integer(rng)));  // exact in BF16
  GemmInput real{"random_real", 13, std::vector<uint16_t>(static_cast<size_t>(13 * k))};
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : real.x) v = float_to_bf16_rne(normal(rng));
  return {std::move(small), std::move(real)};
}

namespace {

Expected finish_expectation(Expected e, std::vector<GemmInput> inputs) {
  e.lane_fragments = lane_fragments(e.compressed);
  e.decoded = decode(e.compressed);
  e.gemm_inputs = std::move(inputs);
  for (const GemmInput& in : e.gemm_inputs)
    e.gemm.push_back(expect_gemm(in.name, e.decoded, e.input.rows, e.input.cols, in.x, in.n));
  return e;
}

}  // namespace

Expected expect(const Case& c, std::vector<GemmInput> inputs) {
  Expected e;
  e.input = c;
  e.compressed = c.start_exp ? encode_with_start_exp(c.weights.data(), c.rows, c.cols, *c.start_exp)
                             : encode(c.weights.data(), c.rows, c.cols);
  return finish_expectation(std::move(e), std::move(inputs));
}

Expected expect_stored(const std::string& name, CompressedMatrix stored, std::vector<GemmInput> inputs) {
  Expected e;
  e.input.name = name;
  e.input.rows = stored.rows;
  e.input.cols = stored.cols;
  e.input.weights = decode(stored);  // validates first
  // Re-encoding uses the stored window: a file may legitimately carry a window other than the
  // best one; what must hold is that the bytes are the canonical encoding under that window.
  e.input.start_exp = stored.start_exp;
  e.compressed = std::move(stored);
  return finish_expectation(std::move(e), std::move(inputs));
}

Report check(const Engine& engine, const Expected& ex, const Options& options) {
  Report report{engine.name(), ex.input.name, {}};
  bool failed = false;
  // Runs one checkpoint: skipped after a failure (unless told to go on), exceptions become
  // that checkpoint's divergence, and the first failure switches `failed` on.
  auto run = [&](Checkpoint c, const std::function<void(CheckpointResult&)>& body) {
    CheckpointResult r;
    r.checkpoint = c;
    if (failed && options.stop_at_first_divergence) {
      r.status = Status::not_reached;
      report.results.push_back(std::move(r));
      return;
    }
    try {
      body(r);
    } catch (const std::exception& error) {
      Divergence d;
      d.checkpoint = c;
      d.array = "exception";
      d.note = error.what();
      r.status = Status::fail;
      r.divergence = std::move(d);
    }
    r.after_first_divergence = failed && r.status == Status::fail;
    if (r.status == Status::fail) failed = true;
    report.results.push_back(std::move(r));
  };
  auto verdict = [](CheckpointResult& r, std::optional<Divergence> d) {
    r.status = d ? Status::fail : Status::pass;
    r.divergence = std::move(d);
  };

  // window, bitmaps, streams: only for engines that encode; the others get the reference's bytes.
  std::optional<CompressedMatrix> own;
  bool encodes = true;
  run(Checkpoint::window, [&](CheckpointResult& r) {
    own = engine.encode(ex.input.weights.data(), ex.input.rows, ex.input.cols, ex.input.start_exp);
    if (!own) {
      encodes = false;
      r.status = Status::not_applicable;
      r.detail = "does not encode; given the reference's CompressedMatrix";
      return;
    }
    r.detail = "start_exp " + std::to_string(ex.compressed.start_exp);
    verdict(r, compare_window(ex.compressed, *own));
  });
  const CompressedMatrix& input = own ? *own : ex.compressed;
  run(Checkpoint::bitmaps, [&](CheckpointResult& r) {
    if (!encodes) { r.status = Status::not_applicable; return; }
    if (!own) throw std::runtime_error("no encoding to compare");
    r.detail = count_detail(3 * ex.compressed.bitmap1.size(), "words");
    verdict(r, compare_bitmaps(ex.compressed, *own));
  });
  run(Checkpoint::streams, [&](CheckpointResult& r) {
    if (!encodes) { r.status = Status::not_applicable; return; }
    if (!own) throw std::runtime_error("no encoding to compare");
    r.detail = count_detail(ex.compressed.sign_mantissa.size(), "bytes + ") +
               count_detail(ex.compressed.full.size(), "fallback values");
    verdict(r, compare_streams(ex.compressed, *own));
  });
  run(Checkpoint::lane_fragments, [&](CheckpointResult& r) {
    auto regs = engine.lane_fragments(input);
    if (!regs) { r.status = Status::not_applicable; return; }
    r.detail = count_detail(ex.lane_fragments.size(), "registers");
    auto d = compare_array<uint32_t>(Checkpoint::lane_fragments, "lane_fragments", ex.lane_fragments, *regs,
                                     [&](int64_t i) {
                                       const bool high = ((ex.lane_fragments[i] ^ (*regs)[i]) & 0xFFFFu) == 0;
                                       return locate_lane_register(ex.compressed, i, high);
                                     });
    verdict(r, std::move(d));
  });
  run(Checkpoint::decoded, [&](CheckpointResult& r) {
    auto values = engine.decode(input);
    if (!values) { r.status = Status::not_applicable; return; }
    r.detail = count_detail(ex.decoded.size(), "values");
    verdict(r, compare_array<uint16_t>(Checkpoint::decoded, "decoded", ex.decoded, *values,
                                       [&](int64_t i) { return locate_decoded(ex.compressed, i); }));
  });
  run(Checkpoint::gemm_output, [&](CheckpointResult& r) {
    const GemmContract contract = engine.gemm_contract();
    if (ex.gemm.empty()) { r.status = Status::not_applicable; r.detail = "no activation inputs"; return; }
    for (size_t i = 0; i < ex.gemm.size(); ++i) {
      const GemmInput& in = ex.gemm_inputs[i];
      auto y = engine.gemm(input, in.x.data(), in.n);
      if (!y) { r.status = Status::not_applicable; return; }
      std::string rule;
      auto d = compare_gemm(ex.gemm[i], *y, contract, rule);
      r.detail += (r.detail.empty() ? "" : "; ") + in.name + " n=" + std::to_string(in.n) + ": " + rule;
      if (d) {
        verdict(r, std::move(d));
        return;
      }
    }
    r.status = Status::pass;
  });
  return report;
}

}  // namespace zipserv::oracle
