// Argument parsing and error reporting shared by the subcommands (see commands.h).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>

#include "commands.h"

namespace zipserv::cli {

CommonArgs parse_args(int argc, char** argv, const std::vector<std::string>& allowed) {
  CommonArgs a;
  auto is_allowed = [&](const std::string& flag) {
    for (const std::string& f : allowed)
      if (f == flag) return true;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      if (!is_allowed(arg)) throw UsageError{"unknown option " + arg};
      if (arg == "--force") a.force = true;
      else if (arg == "--json") a.json = true;
      else if (arg == "--quiet") a.quiet = true;
      else if (arg == "--threads") {
        if (i + 1 >= argc) throw UsageError{"--threads needs a number"};
        const std::string value = argv[++i];
        char* end = nullptr;
        const long n = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || n < 1 || n > 1024)
          throw UsageError{"--threads needs a number from 1 to 1024, not \"" + value + "\""};
        a.threads = static_cast<int>(n);
      }
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

int report_error(const std::string& message, int status) {
  std::fprintf(stderr, "zipserv: %s\n", message.c_str());
  return status;
}

int run_command(const char* usage, int (*body)(const CommonArgs&), int argc, char** argv,
                const std::vector<std::string>& allowed) {
  return report_exceptions(usage, [&] {
    const CommonArgs args = parse_args(argc, argv, allowed);
    if (args.help) {
      std::fputs(usage, stdout);
      return 0;
    }
    return body(args);
  });
}

int report_exceptions(const std::string& usage, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    report_error(e.message, 2);
    std::fputs(usage.c_str(), stderr);
    return 2;
  } catch (const std::bad_alloc&) {
    return report_error("out of memory");
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
}

}  // namespace zipserv::cli
