// Running the `zipserv` command from a test as a user would, and the one shape every error of it
// must have. Shared by the command's test programs (tests/container, tests/llama); they define
// ZIPSERV_CLI_PATH, the built binary.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "container_test_util.h"

#ifndef ZIPSERV_CLI_PATH
#error "ZIPSERV_CLI_PATH must name the zipserv binary under test"
#endif

namespace zipserv::test {

struct CommandResult {
  int status = -1;  ///< exit status
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

// Runs `zipserv ARGS` in `dir`; `args` goes to the shell as written (quote what needs quoting).
inline CommandResult run_zipserv(const ScratchDir& dir, const std::string& args) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string command = std::string(ZIPSERV_CLI_PATH) + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int raw = std::system(command.c_str());
  CommandResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  const auto o = read_bytes(out), e = read_bytes(err);
  r.out.assign(o.begin(), o.end());
  r.err.assign(e.begin(), e.end());
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

// A failure must be one line that starts with "zipserv: " and names the problem.
inline void expect_one_line_error(const CommandResult& r, const std::string& words) {
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(r.err.starts_with("zipserv: ")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(words), std::string::npos) << r.err << " (expected: " << words << ")";
}

}  // namespace zipserv::test
