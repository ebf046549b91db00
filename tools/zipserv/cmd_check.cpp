// `zipserv check FILE [--engine NAME ...] [--json] [--verbose]`: every available implementation
// through the oracle (tests/oracle) on every 2-D BF16 weight of a model, checkpoint by
// checkpoint, naming the first divergence of each engine.
//
// Plain safetensors: each weight is encoded by the reference first; the oracle's expectations
// are the reference's. Compressed model: the stored arrays ARE the expected window / bitmaps /
// streams, so the reference engine (which encodes) checks that re-encoding the stored matrix's
// decode gives the stored bytes back, and every decoder is run on the stored bytes.
//
// Both flows go band by band of block-tile rows (zipserv/oracle/band_check.h): a first pass over
// the bands finds what the whole matrix decides (its window, GEMM rule 2's S and g), a second
// runs every engine on each band and merges the reports into the whole matrix's. Memory holds a
// few bands, never a tensor.
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/container/matrix_bands.h"
#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/reference/exponent_window.h"
#include "zipserv/reference/mma_numerics.h"
#include "zipserv/oracle/band_check.h"
#include "zipserv/oracle/builtin_engines.h"
#include "zipserv/oracle/engine.h"
#include "zipserv/oracle/oracle.h"
#include "zipserv/oracle/report_format.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::cli {
namespace {

const char* const kUsage =
    "usage: zipserv check FILE [--engine NAME ...] [--numerics NAME] [--json] [--verbose]\n"
    "  Runs every implementation through the oracle on every 2-D BF16 weight of FILE (plain or\n"
    "  compressed safetensors) and prints, per engine and checkpoint (window, bitmaps, streams,\n"
    "  lane_fragments, decoded, gemm_output), pass or the first divergence. GEMMs use two\n"
    "  activation inputs: small integers in [-8, 8] (n = 8) and N(0, 1) reals (n = 13).\n"
    "  Engines that cannot run here (e.g. cuda without a device) are listed as skipped.\n"
    "  Weights are checked in bands of 64-row block-tile rows (memory holds a few bands, whatever\n"
    "  the tensor's size) and reported at whole-matrix places; an empty weight (e.g. 0x64) is\n"
    "  listed as not checked.\n"
    "  Exit status 0 only if every engine that ran passed everything, and every engine named\n"
    "  with --engine ran (one that was skipped makes it 1).\n"
    "  --engine NAME  check only this engine (repeatable; default: every registered engine)\n"
    "  --numerics N   arithmetic of every mma.sync the cuda-sim engines run: ieee_sequential\n"
    "                 (default; the reference's order), sm80, sm89 or sm90 (tensor-core models)\n"
    "  --json         one JSON object on stdout instead of the table\n"
    "  --verbose      one line per (weight, engine), passing ones included\n";

struct Args {
  std::string file;
  std::vector<std::string> engines;
  MmaNumerics numerics = MmaNumerics::ieee_sequential;  // of the cuda-sim engines
  bool json = false;
  bool verbose = false;
  bool help = false;
};

// parse_args() of commands.h takes no option values other than --threads, so --engine is
// parsed here.
Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--verbose") {
      a.verbose = true;
    } else if (arg == "--engine") {
      if (i + 1 >= argc) throw UsageError{"--engine needs a name"};
      a.engines.push_back(argv[++i]);
    } else if (arg.rfind("--engine=", 0) == 0) {
      a.engines.push_back(arg.substr(9));
    } else if (arg == "--numerics" || arg.rfind("--numerics=", 0) == 0) {
      if (arg == "--numerics" && i + 1 >= argc) throw UsageError{"--numerics needs a name"};
      const std::string name = arg == "--numerics" ? argv[++i] : arg.substr(11);
      const auto n = parse_numerics(name);
      if (!n) throw UsageError{"unknown numerics \"" + name + "\" (ieee_sequential, sm80, sm89, sm90)"};
      a.numerics = *n;
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError{"unknown option " + arg};
    } else if (a.file.empty()) {
      a.file = arg;
    } else {
      throw UsageError{"check takes one FILE"};
    }
  }
  if (!a.help && a.file.empty()) throw UsageError{"check needs a FILE"};
  return a;
}

// One 2-D BF16 weight to check, read band by band (twice: the first pass gathers what the whole
// matrix decides, the window and GEMM rule 2's facts; the second checks each band).
struct Weight {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::optional<uint8_t> start_exp;  // a compressed weight's stored window; unset: chosen here
  std::function<void(const st::MatrixBandVisitor&)> bands;
};

// A weight that is not checked, and why.
struct SkippedWeight {
  std::string name;
  std::string reason;
};

// Why a 2-D weight of this shape has nothing to check, or empty if it has.
std::string unsupported_shape(int64_t rows, int64_t cols) {
  const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
  if (rows == 0 || cols == 0) return "shape " + shape + " is empty: no weight to check";
  if (!encodable_shape(rows, cols)) return "shape " + shape + " is beyond the format (padded elements >= 2^31)";
  return {};
}

// Calls visit(weight) for every 2-D BF16 weight, one at a time; weights with nothing to check go
// to `skipped`. `kind` says which of the two flows is used.
template <typename Visit>
void for_each_weight(const std::string& path, std::string& kind, std::vector<SkippedWeight>& skipped, Visit visit) {
  const st::SafetensorsFile file = st::SafetensorsFile::open(path);
  if (!st::is_compressed_model(file)) {
    kind = "plain safetensors: each weight encoded by the reference, then checked";
    for (const st::TensorInfo& t : file.tensors()) {
      if (t.dtype != "BF16" || t.shape.size() != 2) continue;
      if (std::string why = unsupported_shape(t.shape[0], t.shape[1]); !why.empty()) {
        skipped.push_back({t.name, why});
        continue;
      }
      visit(Weight{t.name, t.shape[0], t.shape[1], std::nullopt,
                   [&](const st::MatrixBandVisitor& v) { st::for_each_matrix_band(file, t, v); }});
      file.release(t);
    }
    return;
  }
  kind = "compressed model: stored arrays are the expected window/bitmaps/streams; encoders must "
         "re-encode the decoded weight to the same bytes";
  const st::CompressedModel model = st::CompressedModel::open(path);
  for (const st::ModelEntry& e : model.entries()) {
    if (e.dtype != "BF16" || e.shape.size() != 2) continue;
    const bool raw = e.storage == st::Storage::raw;  // kept raw (it would not shrink): checked like a plain weight
    const std::string name = raw ? e.name + " (stored raw)" : e.name;
    if (std::string why = unsupported_shape(e.shape[0], e.shape[1]); !why.empty()) {
      skipped.push_back({name, why});
      continue;
    }
    // Each band's arrays are validated and the decoded bytes' checksum checked after the last band.
    visit(Weight{name, e.shape[0], e.shape[1], raw ? std::nullopt : std::optional<uint8_t>(e.start_exp),
                 [&](const st::MatrixBandVisitor& v) { model.for_each_matrix_band(e, v); }});
    model.release(e);
  }
}

// The oracle on one weight band by band (zipserv/oracle/band_check.h): one report per engine,
// the one check() would give on the whole matrix, while memory holds a few bands.
std::vector<oracle::Report> check_weight(const Weight& w, uint64_t seed, const std::vector<const oracle::Engine*>& engines) {
  const std::vector<oracle::GemmInput> inputs = oracle::standard_gemm_inputs(w.cols, seed);
  // First pass: what only the whole matrix decides, the window and GEMM rule 2's S and g.
  oracle::WholeGemmFacts facts(inputs);
  ExponentHistogram histogram{};
  std::vector<uint16_t> values;  // (band rows, cols) bf16
  w.bands([&](const st::MatrixBand& b) {
    values.assign(b.values, b.values + b.rows * b.cols);
    const ExponentHistogram h = exponent_histogram(values.data(), values.size());
    for (size_t e = 0; e < h.size(); ++e) histogram[e] += h[e];
    facts.add(values, b.rows, b.cols);
  });
  // A matrix of one band is the whole: the encoding engines then choose the window themselves, and
  // the window checkpoint checks their choice. A taller one's bands all get the whole's window.
  const bool one_band = w.rows <= st::matrix_band_rows(w.cols);
  const std::optional<uint8_t> window =
      w.start_exp ? w.start_exp : one_band ? std::nullopt : std::optional<uint8_t>(choose_window(histogram).start_exp());
  // Second pass: every band through every engine.
  std::vector<oracle::BandedReport> merged;
  for (const oracle::Engine* engine : engines) merged.emplace_back(engine->name(), w.name, w.rows, w.cols);
  w.bands([&](const st::MatrixBand& b) {
    oracle::Expected expected =
        b.compressed ? oracle::expect_stored(w.name, *b.compressed, inputs)
                     : oracle::expect(oracle::Case{w.name, b.rows, b.cols,
                                                   std::vector<uint16_t>(b.values, b.values + b.rows * b.cols), window},
                                      inputs);
    facts.apply(expected);
    for (size_t i = 0; i < engines.size(); ++i) merged[i].add(expected, b.first_row, oracle::check(*engines[i], expected));
  });
  std::vector<oracle::Report> reports;
  for (const oracle::BandedReport& m : merged) reports.push_back(m.report());
  return reports;
}

// What one engine did over all weights.
struct EngineSummary {
  std::string name;
  std::string skipped;  // the reason, when it did not run
  std::string numerics;  // the arithmetic of its GEMM
  std::vector<oracle::Report> reports;
  bool passed() const {
    for (const oracle::Report& r : reports)
      if (!r.passed()) return false;
    return true;
  }
};

// The cell of the table for one checkpoint: "pass 47/47", "FAIL 3/47", "n/a" or "not reached".
std::string cell(const EngineSummary& s, oracle::Checkpoint c) {
  int pass = 0, fail = 0, ran = 0;
  for (const oracle::Report& r : s.reports) {
    const oracle::Status st = r.at(c).status;
    if (st == oracle::Status::pass) ++pass;
    if (st == oracle::Status::fail) ++fail;
    if (st != oracle::Status::not_applicable) ++ran;
  }
  if (ran == 0) return "n/a";
  const std::string total = std::to_string(s.reports.size());
  if (fail) return "FAIL " + std::to_string(fail) + "/" + total;
  if (pass == static_cast<int>(s.reports.size())) return "pass";
  return "pass " + std::to_string(pass) + "/" + total;  // the rest were not reached
}

// What the cells of the table mean, printed under it.
const char* const kLegend =
    "\n"
    "  pass          every weight matched the reference at this checkpoint\n"
    "  FAIL k/N      k of the N weights diverged here (the first divergence is named below)\n"
    "  pass k/N      k weights passed; the others failed at an earlier checkpoint, so this one was\n"
    "                not reached for them\n"
    "  n/a           the engine does not provide this stage (e.g. an engine that does not encode\n"
    "                has no window, bitmaps or streams of its own: it is given the reference's)\n"
    "  skipped       the engine cannot run on this machine (e.g. cuda without a CUDA device);\n"
    "                it checked nothing\n";

void print_table(const std::string& path, const std::string& kind, size_t weights,
                 const std::vector<SkippedWeight>& skipped, const std::vector<EngineSummary>& engines, bool verbose) {
  std::printf("zipserv check %s\n  %s\n  %zu weights; GEMM inputs: small_integer (n=8), random_real (n=13)\n",
              path.c_str(), kind.c_str(), weights);
  for (const SkippedWeight& w : skipped) std::printf("  not checked: %s (%s)\n", w.name.c_str(), w.reason.c_str());
  std::printf("\n");
  // Fixed-width columns, trailing blanks trimmed so the output can be pasted into docs as is.
  auto row = [](const std::string& first, const std::vector<std::string>& cells) {
    char buf[128];  // a skipped engine's reason is one long cell
    std::snprintf(buf, sizeof buf, "%-20s", first.c_str());
    std::string line = buf;
    for (const std::string& c : cells) {
      std::snprintf(buf, sizeof buf, " %-15s", c.c_str());
      line += buf;
    }
    line.erase(line.find_last_not_of(' ') + 1);
    std::printf("%s\n", line.c_str());
  };
  std::vector<std::string> header;
  for (oracle::Checkpoint c : oracle::kCheckpoints) header.push_back(oracle::checkpoint_name(c));
  row("engine", header);
  for (const EngineSummary& s : engines) {
    if (!s.skipped.empty()) {
      row(s.name, {"skipped: " + s.skipped});
      continue;
    }
    std::vector<std::string> cells;
    for (oracle::Checkpoint c : oracle::kCheckpoints) cells.push_back(cell(s, c));
    row(s.name, cells);
  }
  std::printf("%s", kLegend);
  std::printf("\nGEMM numerics (\"n/a\": the engine has no such stage):\n");
  for (const EngineSummary& s : engines)
    if (s.skipped.empty()) std::printf("  %-20s %s\n", s.name.c_str(), s.numerics.c_str());
  for (const EngineSummary& s : engines) {
    int failed = 0;
    for (const oracle::Report& r : s.reports) {
      if (!r.passed() && failed++ == 0)
        std::printf("\n%s: first divergence in %s:\n  %s\n", s.name.c_str(), r.case_name.c_str(),
                    r.first_divergence()->describe().c_str());
    }
    if (failed > 1) std::printf("  (%d weights fail for %s; --verbose lists them)\n", failed, s.name.c_str());
  }
  if (verbose) {
    std::printf("\n");
    for (const EngineSummary& s : engines)
      for (const oracle::Report& r : s.reports) std::fputs(oracle::format_text(r).c_str(), stdout);
  }
}

void print_json(const std::string& path, const std::string& kind, size_t weights,
                const std::vector<SkippedWeight>& skipped, const std::vector<EngineSummary>& engines, bool all_passed) {
  std::string out = "{\"file\":" + oracle::json_string(path) + ",\"kind\":" + oracle::json_string(kind) +
                    ",\"weights\":" + std::to_string(weights) + ",\"not_checked\":[";
  for (size_t i = 0; i < skipped.size(); ++i)
    out.append(i ? "," : "")
        .append("{\"name\":" + oracle::json_string(skipped[i].name) + ",\"reason\":" + oracle::json_string(skipped[i].reason) + "}");
  out.append("],\"passed\":").append(all_passed ? "true" : "false").append(",\"engines\":[");
  for (size_t i = 0; i < engines.size(); ++i) {
    const EngineSummary& s = engines[i];
    if (i) out.append(",");
    out.append("{\"name\":").append(oracle::json_string(s.name));
    out.append(",\"numerics\":").append(oracle::json_string(s.numerics));
    if (!s.skipped.empty()) {
      out.append(",\"skipped\":").append(oracle::json_string(s.skipped)).append("}");
      continue;
    }
    out.append(",\"passed\":").append(s.passed() ? "true" : "false").append(",\"checkpoints\":{");
    for (size_t c = 0; c < oracle::kCheckpoints.size(); ++c) {
      if (c) out.append(",");
      out.append(oracle::json_string(oracle::checkpoint_name(oracle::kCheckpoints[c])))
          .append(":")
          .append(oracle::json_string(cell(s, oracle::kCheckpoints[c])));
    }
    out.append("},\"reports\":[");
    for (size_t r = 0; r < s.reports.size(); ++r) {
      if (r) out.append(",");
      out.append(oracle::format_json(s.reports[r]));
    }
    out.append("]}");
  }
  out.append("]}\n");
  std::fputs(out.c_str(), stdout);
}

int check_file(const Args& a) {
  // Engines first: an unknown name is a usage error before any work is done.
  std::vector<std::string> names = a.engines.empty() ? oracle::registered_engines() : a.engines;
  std::vector<EngineSummary> engines;
  std::vector<std::unique_ptr<oracle::Engine>> runnable;
  for (const std::string& name : names) {
    std::unique_ptr<oracle::Engine> engine =
        name == "cuda-sim" || name == "cuda-sim-split-k"
            ? oracle::make_cuda_sim_engine(name == "cuda-sim" ? 1 : 0, a.numerics)
            : oracle::make_engine(name);
    if (!engine) {
      std::string known;
      for (const std::string& n : oracle::registered_engines()) known += " " + n;
      throw UsageError{"no engine called \"" + name + "\"; registered:" + known};
    }
    EngineSummary s;
    s.name = name;
    s.skipped = engine->unavailable_reason();
    s.numerics = engine->numerics();
    if (!s.skipped.empty()) engine.reset();  // listed as skipped, never run
    engines.push_back(std::move(s));
    runnable.push_back(std::move(engine));
  }

  std::vector<const oracle::Engine*> running;
  for (const auto& e : runnable)
    if (e) running.push_back(e.get());
  std::string kind;
  std::vector<SkippedWeight> skipped;
  size_t weights = 0;
  bool all_passed = true;
  uint64_t seed = 1;  // one seed per weight: reproducible activations
  for_each_weight(a.file, kind, skipped, [&](const Weight& w) {
    ++weights;
    std::vector<oracle::Report> reports = check_weight(w, seed++, running);
    for (size_t i = 0, r = 0; i < engines.size(); ++i) {
      if (!runnable[i]) continue;
      all_passed = all_passed && reports[r].passed();
      engines[i].reports.push_back(std::move(reports[r++]));
    }
  });
  // An engine asked for by name must run: a GPU check that passes by skipping checked nothing.
  bool asked_skipped = false;
  if (!a.engines.empty())
    for (const EngineSummary& s : engines)
      if (!s.skipped.empty()) {
        std::fprintf(stderr, "zipserv: engine \"%s\" was asked for but skipped: %s\n", s.name.c_str(),
                     s.skipped.c_str());
        asked_skipped = true;
      }
  if (a.json)
    print_json(a.file, kind, weights, skipped, engines, all_passed && !asked_skipped);
  else
    print_table(a.file, kind, weights, skipped, engines, a.verbose);
  return all_passed && !asked_skipped ? 0 : 1;
}

}  // namespace

int cmd_check(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return check_file(a);
  } catch (const UsageError& e) {
    report_error(e.message, 2);
    std::fputs(kUsage, stderr);
    return 2;
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
}

}  // namespace zipserv::cli
