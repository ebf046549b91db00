// `zipserv compress IN OUT`: a safetensors model in, a compressed model (also safetensors) out.
#include <chrono>
#include <cstdio>

#include "commands.h"
#include "zipserv/container/compressed_model.h"

namespace zipserv::cli {
namespace {

const char* const kUsage =
    "usage: zipserv compress IN OUT [--force] [--threads N] [--quiet]\n"
    "  Stores every 2-D BF16 weight of the safetensors file IN as TCA-TBE arrays in OUT, itself a\n"
    "  safetensors file; other tensors are kept as they are. `zipserv decompress OUT X` gives IN back\n"
    "  byte for byte. OUT is written atomically and never replaces IN.\n"
    "  --force      replace OUT if it exists\n"
    "  --threads N  worker threads (default: all cores)\n"
    "  --quiet      no progress line and no summary line\n"
    "  Prints on stderr, unless --quiet: progress at a terminal, then one summary line\n"
    "  `zipserv: OUT: T tensors (C as TCA-TBE), IN_BYTES -> OUT_BYTES bytes, ratio R, S s`.\n";

int compress(const CommonArgs& a) {
  if (a.positional.size() != 2) throw UsageError{"compress needs IN and OUT"};
  const auto start = std::chrono::steady_clock::now();
  const st::ConvertSummary s =
      st::compress_file(a.positional[0], a.positional[1], {a.threads, a.force, !a.quiet});
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  // One line on stderr, where the progress goes, terminal or not: a log of a batch job records
  // what each file gave.
  if (!a.quiet)
    std::fprintf(stderr, "zipserv: %s: %d tensors (%d as TCA-TBE), %llu -> %llu bytes, ratio %.3f, %.2f s\n",
                 a.positional[1].c_str(), s.tensors, s.compressed, static_cast<unsigned long long>(s.input_bytes),
                 static_cast<unsigned long long>(s.output_bytes),
                 static_cast<double>(s.input_bytes) / static_cast<double>(s.output_bytes), seconds.count());
  return 0;
}

}  // namespace

int cmd_compress(int argc, char** argv) {
  return run_command(kUsage, compress, argc, argv, {"--force", "--threads", "--quiet"});
}

}  // namespace zipserv::cli
