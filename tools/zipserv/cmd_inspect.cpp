// `zipserv inspect FILE`: per-tensor window, coverage, bits per weight and ratio, with totals.
#include <cstdio>

#include "commands.h"
#include "zipserv/container/model_stats.h"

namespace zipserv::cli {
namespace {

const char* const kUsage =
    "usage: zipserv inspect FILE [--json] [--threads N]\n"
    "  For every tensor: shape, the exponent window [lo..hi], the share of weights inside it,\n"
    "  TCA-TBE bits per weight and compression ratio, then totals. FILE may be a compressed model\n"
    "  (figures as stored) or a plain safetensors file (exactly what `zipserv compress` would give).\n"
    "  --json       machine-readable output\n"
    "  --threads N  worker threads (default: all cores)\n";

int inspect(const CommonArgs& a) {
  if (a.positional.size() != 1) throw UsageError{"inspect needs exactly one FILE"};
  const st::ModelStats stats = st::inspect(a.positional[0], a.threads);
  const std::string text = a.json ? st::stats_to_json(stats) : st::stats_to_text(stats);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

int cmd_inspect(int argc, char** argv) { return run_command(kUsage, inspect, argc, argv, {"--json", "--threads"}); }

}  // namespace zipserv::cli
