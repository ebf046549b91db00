/*! \file commands.h
 *  \brief The subcommands of the `zipserv` command, one source file each.
 *
 *  Every subcommand has the signature `int cmd_NAME(int argc, char** argv)`, where argv[0] is
 *  the subcommand's own name ("compress") and the rest are its arguments. It returns the process
 *  exit status: 0 success, 1 a failure it reported (`zipserv: <what is wrong>` on stderr), 2 a
 *  usage error. Each one answers `--help` with its usage on stdout.
 */
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace zipserv::cli {

/// \addtogroup container
/// \{

int cmd_compress(int argc, char** argv);    ///< `zipserv compress IN OUT [--force] [--threads N] [--quiet]`
int cmd_decompress(int argc, char** argv);  ///< `zipserv decompress IN OUT [--force] [--threads N] [--quiet]`
int cmd_inspect(int argc, char** argv);     ///< `zipserv inspect FILE [--json] [--threads N]`
int cmd_verify(int argc, char** argv);      ///< `zipserv verify ORIGINAL COMPRESSED [--threads N]`
/// `zipserv check FILE`: written in cmd_check.cpp by the oracle's author; see CMakeLists.txt here.
int cmd_check(int argc, char** argv);
/// `zipserv generate MODEL ...`: the Llama forward pass of llama/ (cmd_generate.cpp, linked by llama/CMakeLists.txt).
int cmd_generate(int argc, char** argv);

/// The options every file-converting subcommand shares, parsed from argv[1..].
struct CommonArgs {
  std::vector<std::string> positional;  ///< the non-option arguments, in order
  bool force = false;                   ///< --force
  bool json = false;                    ///< --json
  bool quiet = false;                   ///< --quiet: no progress line
  bool help = false;                    ///< -h / --help
  int threads = 0;                      ///< --threads N (0 = all hardware threads)
};

/// Parses argv[1..argc) accepting only the flags named in `allowed` (e.g. {"--force",
/// "--threads"}); throws UsageError naming an unknown flag or a bad value.
CommonArgs parse_args(int argc, char** argv, const std::vector<std::string>& allowed);

/// A mistake in how the command was called (exit status 2, usage printed).
struct UsageError {
  std::string message;  ///< what was wrong
};

/// Prints `zipserv: <message>` on stderr and returns `status`.
int report_error(const std::string& message, int status = 1);

/// Runs `body`, turning any exception into `zipserv: <what>` and exit status 1, and a
/// UsageError into its message plus `usage` and exit status 2.
int report_exceptions(const std::string& usage, const std::function<int()>& body);

/// Parses the arguments and runs `body` under report_exceptions(); `--help` prints `usage`.
int run_command(const char* usage, int (*body)(const CommonArgs&), int argc, char** argv,
                const std::vector<std::string>& allowed);

/// \}

}  // namespace zipserv::cli
