// `zipserv compress IN OUT`: a safetensors model in, a compressed model (also safetensors) out.
#include <unistd.h>

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
    "  --quiet      no progress line\n";

int compress(const CommonArgs& a) {
  if (a.positional.size() != 2) throw UsageError{"compress needs IN and OUT"};
  const st::ConvertSummary s =
      st::compress_file(a.positional[0], a.positional[1], {a.threads, a.force, !a.quiet});
  // Silent success in scripts and pipes; a one-line summary for a person at a terminal.
  if (!a.quiet && isatty(STDERR_FILENO))
    std::fprintf(stderr, "zipserv: %s: %d tensors, %d as TCA-TBE, %llu -> %llu bytes (ratio %.3f)\n",
                 a.positional[1].c_str(), s.tensors, s.compressed, static_cast<unsigned long long>(s.input_bytes),
                 static_cast<unsigned long long>(s.output_bytes),
                 s.output_bytes ? static_cast<double>(s.input_bytes) / static_cast<double>(s.output_bytes) : 0.0);
  return 0;
}

}  // namespace

int cmd_compress(int argc, char** argv) {
  return run_command(kUsage, compress, argc, argv, {"--force", "--threads", "--quiet"});
}

}  // namespace zipserv::cli
