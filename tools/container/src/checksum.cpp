// XXH3-128 through the header-only build of xxHash, so no library has to be found at link time.
#include "zipserv/container/checksum.h"

#include <cstdio>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace zipserv::st {

namespace {
std::string hex_of(const XXH128_hash_t& h) {
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string(hex, 32);
}
}  // namespace

std::string xxh3_128_hex(std::span<const uint8_t> bytes) { return hex_of(XXH3_128bits(bytes.data(), bytes.size())); }

std::string xxh3_128_hex(std::string_view text) {
  return xxh3_128_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

struct Xxh3Stream::State {
  XXH3_state_t xxh;
};

Xxh3Stream::Xxh3Stream() : state_(std::make_unique<State>()) { XXH3_128bits_reset(&state_->xxh); }
Xxh3Stream::~Xxh3Stream() = default;

void Xxh3Stream::update(std::span<const uint8_t> bytes) {
  if (!bytes.empty()) XXH3_128bits_update(&state_->xxh, bytes.data(), bytes.size());
}

std::string Xxh3Stream::hex() const { return hex_of(XXH3_128bits_digest(&state_->xxh)); }

}  // namespace zipserv::st
