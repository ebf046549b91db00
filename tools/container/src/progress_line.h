/*! \file progress_line.h
 *  \brief Internal: the terminal progress line of compress and decompress (not installed API).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace zipserv::st::detail {

/// A one-line progress report on stderr, redrawn in place; silent unless enabled and stderr is a
/// terminal, so logs and pipes stay clean. step() may be called from several threads.
class ProgressLine {
 public:
  /// A line headed `label` counting up to `total` tasks; prints only if `enabled` and stderr is a terminal.
  ProgressLine(std::string label, size_t total, bool enabled);
  /// Ends the line, if one was drawn.
  ~ProgressLine();
  /// Marks one more task done, `bytes` of input handled.
  void step(uint64_t bytes);

 private:
  std::string label_;
  size_t total_, done_ = 0;
  uint64_t bytes_ = 0;
  bool enabled_;
  std::mutex mutex_;
};

}  // namespace zipserv::st::detail
