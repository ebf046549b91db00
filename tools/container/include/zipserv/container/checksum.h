/*! \file checksum.h
 *  \brief XXH3-128 checksums, written as 32 lowercase hex digits, that a compressed model
 *         carries for every original tensor and for the original header.
 *
 *  Why a checksum at all, when decoding is lossless: a flipped bit in a stored stream still
 *  decodes to *some* matrix. Only a checksum of the original bytes tells that matrix apart from
 *  the one that was compressed, so damage is reported instead of silently passed on.
 *  XXH3 is not cryptographic: it guards against accidents, not against an attacker.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace zipserv::st {

/// \addtogroup container
/// \{

/// XXH3-128 of `bytes` as 32 lowercase hex digits (high 64 bits first).
std::string xxh3_128_hex(std::span<const uint8_t> bytes);

/// XXH3-128 of the characters of `text` as 32 lowercase hex digits.
std::string xxh3_128_hex(std::string_view text);

/// XXH3-128 computed over bytes that arrive in pieces, in order: the digest equals
/// xxh3_128_hex() of all pieces joined, so a tensor can be checked band by band.
class Xxh3Stream {
 public:
  Xxh3Stream();
  ~Xxh3Stream();
  Xxh3Stream(const Xxh3Stream&) = delete;
  Xxh3Stream& operator=(const Xxh3Stream&) = delete;
  /// Appends `bytes`.
  void update(std::span<const uint8_t> bytes);
  /// The checksum of everything appended so far, as 32 lowercase hex digits.
  std::string hex() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// \}

}  // namespace zipserv::st
