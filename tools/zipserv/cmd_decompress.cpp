// `zipserv decompress IN OUT`: a compressed model in, the original safetensors file out.
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "zipserv/container/compressed_model.h"

namespace zipserv::cli {
namespace {

const char* const kUsage =
    "usage: zipserv decompress IN OUT [--force] [--threads N] [--quiet]\n"
    "  Rebuilds the original safetensors file from the compressed model IN, byte for byte. Every\n"
    "  tensor's checksum is checked before OUT appears; a damaged IN leaves no OUT behind.\n"
    "  --force      replace OUT if it exists\n"
    "  --threads N  worker threads (default: all cores)\n"
    "  --quiet      no progress line\n";

int decompress(const CommonArgs& a) {
  if (a.positional.size() != 2) throw UsageError{"decompress needs IN and OUT"};
  const st::ConvertSummary s =
      st::decompress_file(a.positional[0], a.positional[1], {a.threads, a.force, !a.quiet});
  // Silent success in scripts and pipes; a one-line summary for a person at a terminal.
  if (!a.quiet && isatty(STDERR_FILENO))
    std::fprintf(stderr, "zipserv: %s: %d tensors (%d from TCA-TBE), %llu bytes\n", a.positional[1].c_str(),
                 s.tensors, s.compressed, static_cast<unsigned long long>(s.output_bytes));
  return 0;
}

}  // namespace

int cmd_decompress(int argc, char** argv) {
  return run_command(kUsage, decompress, argc, argv, {"--force", "--threads", "--quiet"});
}

}  // namespace zipserv::cli
