// zipserv_peak_memory: the peak memory of `zipserv compress`, `decompress`, `verify` and `check`
// on a synthetic model generated at run time, per command and thread count.
//
// Each command runs as a child process. The parent samples the child's /proc/PID/status every
// millisecond for RssAnon (heap and stacks: what the command allocates, the number that must not
// grow with the tensor) and takes the peak of all memory from wait4()'s ru_maxrss (mapped file
// pages included: the input's pages are released band by band, so this stays small too).
// Sampling can miss a spike shorter than a millisecond; the bands live far longer than that.
//
// ru_maxrss of the child also counts the pages it shares with this program between fork and exec
// (this program keeps its own memory small for that reason).
//
//   zipserv_peak_memory --zipserv PATH [--rows R] [--cols C] [--tensors N] [--threads 1,2]
//                       [--commands compress,decompress,verify,check] [--dir DIR]
//       prints a Markdown table for one model: N matrices of R x C BF16 (Gaussian weights with a
//       few outliers, like trained weights) plus one 1-D norm, written under DIR (default: the
//       system temp dir) and removed afterwards.
//   zipserv_peak_memory --zipserv PATH --check-bounded
//       the always-run test: two models whose matrices differ 4x in size (8 and 32 MiB) must give
//       the same peak RssAnon within a margin, and a second thread may add at most one band's
//       worth; exits 1, naming the figure, if not.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "zipserv/reference/bf16.h"
#include "zipserv/container/safetensors_writer.h"

namespace {

namespace fs = std::filesystem;

struct Peak {
  int status = -1;          // exit status of the command
  double seconds = 0;       // wall clock
  uint64_t rss_anon = 0;    // bytes, sampled maximum of RssAnon
  uint64_t max_rss = 0;     // bytes, ru_maxrss: every resident page, file pages included
};

// The child's RssAnon in bytes, or 0 while it is still the forked copy of this program (whose
// pages it shares until exec, and which must not count): the kernel names a process after the
// program it executes, truncated to 15 characters.
uint64_t rss_anon_after_exec(pid_t pid, const std::string& program_name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  bool executed = false;
  while (std::getline(in, line)) {
    if (line.starts_with("Name:")) {
      const size_t at = line.find_first_not_of(" \t", 5);
      executed = at != std::string::npos && line.substr(at) == program_name.substr(0, 15);
    } else if (line.starts_with("RssAnon:")) {
      return executed ? std::stoull(line.substr(8)) * 1024 : 0;
    }
  }
  return 0;
}

// Runs `args` (args[0] is the program) with stdout and stderr sent to `log`.
Peak measure(const std::vector<std::string>& args, const std::string& log) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Peak p;
  for (;;) {
    int status = 0;
    struct rusage usage {};
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) {
      p.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      p.max_rss = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
      break;
    }
    p.rss_anon = std::max(p.rss_anon, rss_anon_after_exec(pid, fs::path(args[0]).filename().string()));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

// A BF16 pattern per 16-bit random index: N(0, 0.02) quantiles, with 1 in 256 an outlier of
// N(0, 1) so that every window misses a few weights, as in trained models.
std::vector<uint16_t> weight_table() {
  std::vector<uint16_t> table(65536);
  for (size_t i = 0; i < table.size(); ++i) {
    const double u = (static_cast<double>(i >> 8) + 0.5) / 256.0, v = (static_cast<double>(i & 255) + 0.5) / 256.0;
    const double z = std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);  // Box-Muller
    table[i] = zipserv::float_to_bf16_rne(static_cast<float>(z * (static_cast<uint32_t>(i * 2654435761u) >> 24 == 0 ? 1.0 : 0.02)));
  }
  return table;
}

// Writes a safetensors model of `tensors` rows x cols BF16 matrices and one norm to `path`,
// streaming: never more than one chunk of weights in memory.
void write_model(const std::string& path, int tensors, int64_t rows, int64_t cols, uint64_t seed) {
  std::vector<zipserv::st::TensorDecl> decls;
  for (int t = 0; t < tensors; ++t) decls.push_back({"layers." + std::to_string(t) + ".weight", "BF16", {rows, cols}});
  decls.push_back({"norm.weight", "BF16", {cols}});
  const zipserv::st::SafetensorsLayout layout = zipserv::st::layout_safetensors(decls, {{"format", "pt"}});
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(layout.prefix.data(), static_cast<std::streamsize>(layout.prefix.size()));
  const std::vector<uint16_t> table = weight_table();
  std::vector<uint16_t> chunk(1 << 20);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t d = 0; d < decls.size(); ++d) {
    for (uint64_t left = layout.byte_sizes[d] / 2; left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      for (size_t i = 0; i < n; i += 4) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
        for (size_t k = 0; k < 4 && i + k < n; ++k) chunk[i + k] = table[(x >> (16 * k)) & 0xFFFF];
      }
      out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n * 2));
      left -= n;
    }
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

struct Args {
  std::string zipserv;
  int64_t rows = 4096, cols = 4096;
  int tensors = 2;
  std::vector<int> threads{1, 2};
  std::vector<std::string> commands{"compress", "decompress", "verify", "check"};
  std::string dir = fs::temp_directory_path().string();
  bool check_bounded = false;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

// One model in a private directory, removed with everything in it when done.
class ModelDir {
 public:
  ModelDir(const std::string& parent, int tensors, int64_t rows, int64_t cols) {
    std::string pattern = (fs::path(parent) / "zipserv_peak_memory_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed in " + parent);
    path_ = pattern;
    write_model(file("model.safetensors"), tensors, rows, cols, static_cast<uint64_t>(rows * 31 + cols));
  }
  ~ModelDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& leaf) const { return (path_ / leaf).string(); }

 private:
  fs::path path_;
};

// Runs `command` at `threads` on the model in `dir` (compress first: the others read its output).
Peak run(const Args& a, const ModelDir& dir, const std::string& command, int threads) {
  const std::string model = dir.file("model.safetensors"), packed = dir.file("model.zipserv"),
                    back = dir.file("back.safetensors"), t = std::to_string(threads);
  std::vector<std::string> args{a.zipserv, command};
  if (command == "compress") args.insert(args.end(), {model, packed, "--force", "--threads", t});
  else if (command == "decompress") args.insert(args.end(), {packed, back, "--force", "--threads", t});
  else if (command == "verify") args.insert(args.end(), {model, packed, "--threads", t});
  else if (command == "check") args.insert(args.end(), {packed});
  else throw std::runtime_error("unknown command " + command);
  const Peak p = measure(args, dir.file("log.txt"));
  if (p.status != 0) {
    std::ifstream log(dir.file("log.txt"));
    std::string first;
    std::getline(log, first);
    throw std::runtime_error("zipserv " + command + " exited with " + std::to_string(p.status) + ": " + first);
  }
  return p;
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

int report(const Args& a) {
  const ModelDir dir(a.dir, a.tensors, a.rows, a.cols);
  const double tensor_mib = mib(static_cast<uint64_t>(a.rows * a.cols * 2));
  std::printf("Model: %d matrices of %lld x %lld BF16 (%.0f MiB each) and one norm; %.0f MiB in all.\n\n", a.tensors,
              static_cast<long long>(a.rows), static_cast<long long>(a.cols), tensor_mib,
              static_cast<double>(fs::file_size(dir.file("model.safetensors"))) / (1 << 20));
  std::printf("| command | threads | wall | peak RssAnon | peak RSS (ru_maxrss) |\n|---|---:|---:|---:|---:|\n");
  for (const std::string& command : a.commands) {
    // check has no --threads option: one run.
    const std::vector<int> counts = command == "check" ? std::vector<int>{1} : a.threads;
    for (const int threads : counts) {
      const Peak p = run(a, dir, command, threads);
      std::printf("| `zipserv %s` | %s | %.2f s | %.1f MiB | %.1f MiB |\n", command.c_str(),
                  command == "check" ? "1" : std::to_string(threads).c_str(), p.seconds, mib(p.rss_anon), mib(p.max_rss));
      std::fflush(stdout);
    }
  }
  return 0;
}

// The always-run bound: memory must not follow the tensor, and a thread adds at most a band.
int check_bounded(const Args& a) {
  // Both models have 4096 columns, hence the same band (64 rows, 512 KiB of BF16); the second's
  // matrices are 4x taller. Before band-wise streaming, peak RssAnon grew by several tensors
  // (24 MiB each here) per thread; with it, the difference is allocator noise.
  constexpr double kSizeMarginMiB = 6;    // allowed growth from 8 MiB to 32 MiB tensors
  constexpr double kThreadMarginMiB = 8;  // allowed growth per extra thread (a band is < 2 MiB)
  const ModelDir small(a.dir, 2, 1024, 4096), large(a.dir, 2, 4096, 4096);
  int failures = 0;
  for (const std::string command : {"compress", "decompress", "verify"}) {
    std::map<std::pair<int, int>, double> peak;  // (model, threads) -> MiB
    for (int model = 0; model < 2; ++model)
      for (int threads : {1, 2}) {
        // compress runs first (the loop's order): the other commands read its output.
        peak[{model, threads}] = mib(run(a, model ? large : small, command, threads).rss_anon);
      }
    std::printf("zipserv %-10s peak RssAnon MiB: 8 MiB tensors %.1f (1 thread) %.1f (2); 32 MiB tensors %.1f (1) %.1f (2)\n",
                command.c_str(), peak[{0, 1}], peak[{0, 2}], peak[{1, 1}], peak[{1, 2}]);
    for (int threads : {1, 2})
      if (peak[{1, threads}] - peak[{0, threads}] > kSizeMarginMiB) {
        std::printf("  FAIL: with %d thread(s), 4x larger tensors cost %.1f MiB more (allowed %.0f)\n", threads,
                    peak[{1, threads}] - peak[{0, threads}], kSizeMarginMiB);
        ++failures;
      }
    for (int model = 0; model < 2; ++model)
      if (peak[{model, 2}] - peak[{model, 1}] > kThreadMarginMiB) {
        std::printf("  FAIL: a second thread costs %.1f MiB (allowed %.0f)\n", peak[{model, 2}] - peak[{model, 1}],
                    kThreadMarginMiB);
        ++failures;
      }
  }
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--zipserv") a.zipserv = value();
      else if (arg == "--rows") a.rows = std::stoll(value());
      else if (arg == "--cols") a.cols = std::stoll(value());
      else if (arg == "--tensors") a.tensors = std::stoi(value());
      else if (arg == "--dir") a.dir = value();
      else if (arg == "--check-bounded") a.check_bounded = true;
      else if (arg == "--commands") a.commands = split(value());
      else if (arg == "--threads") {
        a.threads.clear();
        for (const std::string& t : split(value())) a.threads.push_back(std::stoi(t));
      } else throw std::runtime_error("unknown argument " + arg);
    }
    if (a.zipserv.empty()) throw std::runtime_error("--zipserv PATH is required");
    a.zipserv = fs::absolute(a.zipserv).string();
    return a.check_bounded ? check_bounded(a) : report(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zipserv_peak_memory: %s\n", e.what());
    return 2;
  }
}
