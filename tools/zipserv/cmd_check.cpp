// `zipserv check FILE [--engine NAME ...] [--json] [--verbose]`: every available implementation
// through the oracle (tests/oracle) on every 2-D BF16 weight of a model, checkpoint by
// checkpoint, naming the first divergence of each engine.
//
// Plain safetensors: each weight is encoded by the reference first; the oracle's expectations
// are the reference's. Compressed model: the stored arrays ARE the expected window / bitmaps /
// streams, so the reference engine (which encodes) checks that re-encoding the stored matrix's
// decode gives the stored bytes back, and every decoder is run on the stored bytes.
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/mma_numerics.h"
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

// One weight to check: its expectations come either from the reference encoder or from the
// stored compressed arrays.
struct Weight {
  std::string name;
  oracle::Expected expected;
};

// Calls visit(weight) for every 2-D BF16 weight, one at a time, so memory holds one weight's
// expectations (a few times its size), not the model's. `kind` says which of the two flows is used.
template <typename Visit>
void for_each_weight(const std::string& path, std::string& kind, Visit visit) {
  uint64_t seed = 1;  // one seed per weight: reproducible activations
  const st::SafetensorsFile file = st::SafetensorsFile::open(path);
  if (!st::is_compressed_model(file)) {
    kind = "plain safetensors: each weight encoded by the reference, then checked";
    for (const st::TensorInfo& t : file.tensors()) {
      if (t.dtype != "BF16" || t.shape.size() != 2) continue;
      const auto bytes = file.bytes(t);
      oracle::Case c{t.name, t.shape[0], t.shape[1], std::vector<uint16_t>(bytes.size() / 2), std::nullopt};
      if (!bytes.empty()) std::memcpy(c.weights.data(), bytes.data(), bytes.size());
      file.release(t);
      std::vector<oracle::GemmInput> inputs = oracle::standard_gemm_inputs(c.cols, seed++);
      visit(Weight{t.name, oracle::expect(c, std::move(inputs))});
    }
    return;
  }
  kind = "compressed model: stored arrays are the expected window/bitmaps/streams; encoders must "
         "re-encode the decoded weight to the same bytes";
  const st::CompressedModel model = st::CompressedModel::open(path);
  for (const st::ModelEntry& e : model.entries()) {
    if (e.dtype != "BF16" || e.shape.size() != 2) continue;
    std::vector<oracle::GemmInput> inputs = oracle::standard_gemm_inputs(e.shape[1], seed++);
    if (e.storage == st::Storage::tca_tbe) {
      // read_matrix validates the arrays and checks the decoded bytes' checksum.
      visit(Weight{e.name, oracle::expect_stored(e.name, model.read_matrix(e, true), std::move(inputs))});
    } else {
      // Kept raw (it would not shrink): checked like a weight of a plain file.
      const std::vector<uint8_t> bytes = model.decode_entry(e);
      oracle::Case c{e.name, e.shape[0], e.shape[1], std::vector<uint16_t>(bytes.size() / 2), std::nullopt};
      for (size_t i = 0; i < c.weights.size(); ++i)
        c.weights[i] = static_cast<uint16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);  // little-endian
      visit(Weight{e.name + " (stored raw)", oracle::expect(c, std::move(inputs))});
    }
    model.release(e);
  }
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

void print_table(const std::string& path, const std::string& kind, size_t weights,
                 const std::vector<EngineSummary>& engines, bool verbose) {
  std::printf("zipserv check %s\n  %s\n  %zu weights; GEMM inputs: small_integer (n=8), random_real (n=13)\n\n",
              path.c_str(), kind.c_str(), weights);
  // Fixed-width columns, trailing blanks trimmed so the output can be pasted into docs as is.
  auto row = [](const std::string& first, const std::vector<std::string>& cells) {
    char buf[64];
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
                const std::vector<EngineSummary>& engines, bool all_passed) {
  std::string out = "{\"file\":" + oracle::json_string(path) + ",\"kind\":" + oracle::json_string(kind) +
                    ",\"weights\":" + std::to_string(weights) + ",\"passed\":" + (all_passed ? "true" : "false") +
                    ",\"engines\":[";
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

  std::string kind;
  size_t weights = 0;
  bool all_passed = true;
  for_each_weight(a.file, kind, [&](const Weight& w) {
    ++weights;
    for (size_t i = 0; i < engines.size(); ++i) {
      if (!runnable[i]) continue;
      engines[i].reports.push_back(oracle::check(*runnable[i], w.expected));
      all_passed = all_passed && engines[i].reports.back().passed();
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
    print_json(a.file, kind, weights, engines, all_passed && !asked_skipped);
  else
    print_table(a.file, kind, weights, engines, a.verbose);
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
