// The `zipserv` command: dispatches `zipserv CMD ...` to cmd_CMD (see commands.h).
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* synopsis;  // how it is called
  const char* summary;   // what it does
};

const Command kCommands[] = {
    {"compress", zipserv::cli::cmd_compress, "compress IN OUT", "store 2-D BF16 weights as TCA-TBE"},
    {"decompress", zipserv::cli::cmd_decompress, "decompress IN OUT", "give back the original file, byte for byte"},
    {"inspect", zipserv::cli::cmd_inspect, "inspect FILE [--json]", "window, coverage, bits/weight and ratio per tensor"},
    {"verify", zipserv::cli::cmd_verify, "verify ORIGINAL COMPRESSED", "decode everything and compare with the original"},
    {"check", zipserv::cli::cmd_check, "check FILE", "compare every implementation on every weight"},
    {"generate", zipserv::cli::cmd_generate, "generate MODEL [--prompt TEXT]", "run a Llama from its compressed weights"},
};

void print_help(FILE* out) {
  std::fputs("usage: zipserv <command> [arguments]\n"
             "  Lossless TCA-TBE compression of BF16 safetensors models (ZipServ).\n\ncommands:\n", out);
  for (const Command& c : kCommands) std::fprintf(out, "  %-28s %s\n", c.synopsis, c.summary);
  std::fputs("\n`zipserv help CMD` or `zipserv CMD --help` describes one command; `zipserv --version`\n"
             "prints the version.\n", out);
}

const Command* find_command(const char* name) {
  for (const Command& c : kCommands)
    if (std::strcmp(c.name, name) == 0) return &c;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || (first == "help" && argc == 2)) {
    print_help(stdout);
    return 0;
  }
  if (first == "--version" || first == "version") {
    std::printf("zipserv %s\n", ZIPSERV_VERSION);
    return 0;
  }
  if (first == "help") {
    const Command* c = find_command(argv[2]);
    if (!c) return zipserv::cli::report_error(std::string("unknown command \"") + argv[2] + "\"", 2);
    char help_flag[] = "--help";
    char* help_argv[] = {argv[2], help_flag, nullptr};
    return c->run(2, help_argv);
  }
  const Command* c = find_command(argv[1]);
  if (!c) {
    zipserv::cli::report_error("unknown command \"" + first + "\" (see zipserv --help)", 2);
    return 2;
  }
  return c->run(argc - 1, argv + 1);
}
