// Atomic output: temp file + fsync + rename, removed on error and on SIGINT/SIGTERM.
#include "zipserv/container/atomic_output.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "zipserv/container/safetensors.h"

namespace zipserv::st {
namespace {

// The signal handler may only call async-signal-safe functions, so the path to remove lives in
// a fixed buffer, published with an atomic flag, rather than in a std::string.
char g_temp_to_remove[PATH_MAX + 1];
std::atomic<bool> g_temp_armed{false};

extern "C" void remove_temp_and_die(int sig) {
  if (g_temp_armed.load()) unlink(g_temp_to_remove);
  std::signal(sig, SIG_DFL);
  raise(sig);
}

void arm_signal_cleanup(const std::string& path) {
  if (path.size() > PATH_MAX) return;
  std::memcpy(g_temp_to_remove, path.c_str(), path.size() + 1);
  g_temp_armed.store(true);
  struct sigaction sa {};
  sa.sa_handler = remove_temp_and_die;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

void disarm_signal_cleanup() {
  g_temp_armed.store(false);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGHUP, SIG_DFL);
}

[[noreturn]] void fail_errno(const std::string& path, const std::string& what) {
  throw ContainerError(path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

void check_output_path(const std::string& input, const std::string& output, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (input == output || fs::weakly_canonical(input, ec) == fs::weakly_canonical(output, ec))
    throw ContainerError(output + ": output would overwrite the input");
  struct stat in {}, out {};
  if (stat(output.c_str(), &out) == 0) {
    if (stat(input.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
      throw ContainerError(output + ": output is the input file (same inode)");
    if (S_ISDIR(out.st_mode)) throw ContainerError(output + ": is a directory");
    if (!force) throw ContainerError(output + ": already exists (use --force to replace it)");
  }
}

AtomicOutputFile::AtomicOutputFile(const std::string& final_path, uint64_t size)
    : final_path_(final_path), size_(size) {
  namespace fs = std::filesystem;
  const fs::path target(final_path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string leaf = ".";  // hidden, and named after the output, so a leftover is easy to spot
  leaf += target.filename().string();
  leaf += ".zipserv-tmp-XXXXXX";
  std::string pattern = (dir / leaf).string();
  // SIGINT/SIGTERM/SIGHUP are held back from the moment the file exists until the handler that
  // removes it is installed; one that arrives in between is delivered (to the handler) on unblock.
  sigset_t cleanup_signals, previous;
  sigemptyset(&cleanup_signals);
  sigaddset(&cleanup_signals, SIGINT);
  sigaddset(&cleanup_signals, SIGTERM);
  sigaddset(&cleanup_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &cleanup_signals, &previous);
  fd_ = mkstemp(pattern.data());
  if (fd_ >= 0) {
    temp_path_ = pattern;
    arm_signal_cleanup(temp_path_);
  }
  const int saved = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = saved;
  if (fd_ < 0) fail_errno(final_path, "cannot create a temporary file beside it");
  fchmod(fd_, 0644);
  if (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    const int saved = errno;
    unlink(temp_path_.c_str());
    close(fd_);
    disarm_signal_cleanup();
    errno = saved;
    fail_errno(final_path, "cannot size the temporary file");
  }
}

AtomicOutputFile::~AtomicOutputFile() {
  if (fd_ >= 0) close(fd_);
  if (!committed_ && !temp_path_.empty()) unlink(temp_path_.c_str());
  disarm_signal_cleanup();
}

void AtomicOutputFile::write_at(uint64_t offset, std::span<const uint8_t> bytes) {
  if (offset > size_ || bytes.size() > size_ - offset)
    throw ContainerError(final_path_ + ": internal error: write past the planned end of the file");
  while (!bytes.empty()) {
    const ssize_t n = pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(final_path_, "write failed");
    bytes = bytes.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

void AtomicOutputFile::commit() {
  if (fsync(fd_) != 0) fail_errno(final_path_, "fsync failed");
  if (close(fd_) != 0) {
    fd_ = -1;
    fail_errno(final_path_, "close failed");
  }
  fd_ = -1;
  if (rename(temp_path_.c_str(), final_path_.c_str()) != 0) fail_errno(final_path_, "cannot rename into place");
  committed_ = true;
  // Make the rename itself durable: the directory entry lives in the directory's own data.
  const std::filesystem::path target(final_path_);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

}  // namespace zipserv::st
