// `zipserv verify ORIGINAL COMPRESSED`: decode everything and compare with the original bytes.
#include <cstdio>

#include "commands.h"
#include "zipserv/container/compressed_model.h"

namespace zipserv::cli {
namespace {

const char* const kUsage =
    "usage: zipserv verify ORIGINAL COMPRESSED [--threads N]\n"
    "  Decodes every tensor of COMPRESSED and compares it, and the stored header, with ORIGINAL.\n"
    "  Exit status 0 only if everything is identical.\n"
    "  --threads N  worker threads (default: all cores)\n";

int verify(const CommonArgs& a) {
  if (a.positional.size() != 2) throw UsageError{"verify needs ORIGINAL and COMPRESSED"};
  const st::VerifyReport r = st::verify_files(a.positional[0], a.positional[1], a.threads);
  if (!r.identical) return report_error(a.positional[1] + ": " + r.problem);
  std::printf("zipserv: %s: identical to %s (%d tensors)\n", a.positional[1].c_str(), a.positional[0].c_str(),
              r.tensors_checked);
  return 0;
}

}  // namespace

int cmd_verify(int argc, char** argv) { return run_command(kUsage, verify, argc, argv, {"--threads"}); }

}  // namespace zipserv::cli
