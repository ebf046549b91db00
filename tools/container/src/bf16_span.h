/*! \file bf16_span.h
 *  \brief Internal: a tensor's bytes seen as BF16 patterns, copied only when the mapping is misaligned.
 */
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace zipserv::st::detail {

/// The BF16 patterns of a tensor's bytes. safetensors does not promise 2-byte aligned offsets,
/// so an odd offset is copied into an aligned buffer instead of read through a misaligned pointer.
class Bf16Span {
 public:
  /// Views `bytes` (an even number of them) as BF16 patterns.
  explicit Bf16Span(std::span<const uint8_t> bytes) : count_(bytes.size() / 2) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint16_t) == 0) {
      data_ = reinterpret_cast<const uint16_t*>(bytes.data());
    } else {
      copy_.resize(count_);
      if (count_) std::memcpy(copy_.data(), bytes.data(), count_ * 2);
      data_ = copy_.data();
    }
  }
  /// The first pattern, 2-byte aligned.
  const uint16_t* data() const { return data_; }
  /// Number of patterns.
  size_t size() const { return count_; }

 private:
  size_t count_;
  const uint16_t* data_ = nullptr;
  std::vector<uint16_t> copy_;
};

}  // namespace zipserv::st::detail
