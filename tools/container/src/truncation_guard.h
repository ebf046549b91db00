/*! \file truncation_guard.h
 *  \brief Internal: a file that shrinks while it is mapped gives an error, not SIGBUS.
 *
 *  Reading a mapped page that lies past the end of its file (another program truncated the file
 *  after it was opened) raises SIGBUS, whose default action kills the process without a word.
 *  A TruncationGuard registers a mapping with one process-wide SIGBUS handler. When a read
 *  faults inside a registered mapping, the handler maps zero pages over the mapping from the
 *  faulting page to its end, notes the fault and returns: the read completes, with zeros. The
 *  reader then asks shrank() (SafetensorsFile::check_intact() does, before any result is used)
 *  and throws an error naming the file. A SIGBUS outside every registered mapping goes on to the
 *  handler that was there before, or kills the process as it always did.
 *
 *  Why not siglongjmp out of the fault: it would skip the destructors of every C++ frame between
 *  the read and the jump target. Why not pread: every reader would need a buffer per piece, where
 *  the mapping lets them read in place (and the kernel drop the pages once read).
 */
#pragma once

#include <cstddef>

namespace zipserv::st::detail {

/// A mapping registered with the SIGBUS handler for as long as the guard lives.
class TruncationGuard {
 public:
  /// Registers [begin, begin + size) (begin page-aligned, as mmap returns it). If every slot is
  /// taken (kSlots mappings guarded at once) the mapping stays unguarded, as without the guard.
  TruncationGuard(const void* begin, size_t size);
  ~TruncationGuard();
  TruncationGuard(const TruncationGuard&) = delete;
  TruncationGuard& operator=(const TruncationGuard&) = delete;

  /// True once a read of the mapping faulted: the file shrank, and some bytes read were zeros.
  bool shrank() const;

  /// How many mappings can be guarded at once.
  static constexpr int kSlots = 1024;

 private:
  int slot_ = -1;  // index into the handler's table, -1 if unguarded
};

}  // namespace zipserv::st::detail
