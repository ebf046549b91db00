// `zipserv decompress IN OUT`: a compressed model in, the original safetensors file out.
#include <chrono>
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
    "  --quiet      no progress line and no summary line\n";

int decompress(const CommonArgs& a) {
  if (a.positional.size() != 2) throw UsageError{"decompress needs IN and OUT"};
  const auto start = std::chrono::steady_clock::now();
  const st::ConvertSummary s =
      st::decompress_file(a.positional[0], a.positional[1], {a.threads, a.force, !a.quiet});
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
  // One line on stderr, where the progress goes, terminal or not (as `zipserv compress`).
  if (!a.quiet)
    std::fprintf(stderr, "zipserv: %s: %d tensors (%d from TCA-TBE), %llu -> %llu bytes, %.2f s\n",
                 a.positional[1].c_str(), s.tensors, s.compressed, static_cast<unsigned long long>(s.input_bytes),
                 static_cast<unsigned long long>(s.output_bytes), seconds.count());
  return 0;
}

}  // namespace

int cmd_decompress(int argc, char** argv) {
  return run_command(kUsage, decompress, argc, argv, {"--force", "--threads", "--quiet"});
}

}  // namespace zipserv::cli
