/*! \file fuzz_input.h
 *  \brief A reader of fuzzer bytes: takes integers and byte runs off the front of the input, and
 *         zeros once it is used up, so a fuzz target can build structured values from any input.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace zipserv::fuzz {

/// Consumes a fuzzer's input front to back; reads past the end give zeros.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  /// The next `sizeof(T)` bytes as a little-endian T (zeros past the end).
  template <typename T>
  T take() {
    T v{};
    const size_t n = remaining() < sizeof(T) ? remaining() : sizeof(T);
    if (n) std::memcpy(&v, data_ + pos_, n);
    pos_ += n;
    return v;
  }

  /// Fills `out[0..count)` with the next bytes, zeros past the end.
  void fill(void* out, size_t bytes) {
    const size_t n = remaining() < bytes ? remaining() : bytes;
    if (n) std::memcpy(out, data_ + pos_, n);
    if (bytes > n) std::memset(static_cast<uint8_t*>(out) + n, 0, bytes - n);
    pos_ += n;
  }

  /// Bytes not consumed yet.
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace zipserv::fuzz
