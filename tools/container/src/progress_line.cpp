// The terminal progress line (see progress_line.h).
#include "progress_line.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

namespace zipserv::st::detail {

ProgressLine::ProgressLine(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && isatty(STDERR_FILENO)) {}

ProgressLine::~ProgressLine() {
  if (enabled_ && done_ > 0) std::fputc('\n', stderr);
}

void ProgressLine::step(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  ++done_;
  bytes_ += bytes;
  if (enabled_)
    std::fprintf(stderr, "\r%s: %zu/%zu tensors, %.1f MiB", label_.c_str(), done_, total_,
                 static_cast<double>(bytes_) / (1 << 20));
}

}  // namespace zipserv::st::detail
