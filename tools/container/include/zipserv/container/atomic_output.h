/*! \file atomic_output.h
 *  \brief Writing an output file so that it either appears whole or not at all, and never
 *         replaces the input it was made from.
 *
 *  The bytes go to a temporary file in the destination's own directory (so the final rename()
 *  stays inside one file system and is atomic), are fsync()ed, and only then renamed over the
 *  destination. If anything fails, or SIGINT/SIGTERM arrives, the temporary file is removed:
 *  a reader never sees a half-written model.
 */
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace zipserv::st {

/// \addtogroup container
/// \{

/// Throws ContainerError if `output` names the same file as `input` (by path, by realpath or by
/// device and inode, so links and `./x` vs `x` are caught), or if `output` exists and `force`
/// is false.
void check_output_path(const std::string& input, const std::string& output, bool force);

/// A file being written at known offsets, committed atomically.
class AtomicOutputFile {
 public:
  /// Creates `<dir>/.<name>.zipserv-tmp-XXXXXX` of `size` bytes beside `final_path` and arms the
  /// signal handler that removes it.
  AtomicOutputFile(const std::string& final_path, uint64_t size);
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;

  /// Writes `bytes` at `offset` (thread-safe: pwrite); throws ContainerError on failure or if the
  /// range runs past the declared size.
  void write_at(uint64_t offset, std::span<const uint8_t> bytes);
  /// fsync()s the data, renames the temporary file to the final path and fsync()s the directory.
  void commit();
  /// The temporary file's path (for tests and messages).
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string final_path_;
  std::string temp_path_;
  uint64_t size_ = 0;
  int fd_ = -1;
  bool committed_ = false;
};

/// \}

}  // namespace zipserv::st
