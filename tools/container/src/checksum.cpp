// XXH3-128 through the header-only build of xxHash, so no library has to be found at link time.
#include "zipserv/checksum.h"

#include <cstdio>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace zipserv::st {

std::string xxh3_128_hex(std::span<const uint8_t> bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string(hex, 32);
}

std::string xxh3_128_hex(std::string_view text) {
  return xxh3_128_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace zipserv::st
