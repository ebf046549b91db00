// Helpers shared by the container tests: fixture paths, a private scratch directory per test
// program, whole-file reads and writes, and rebuilding a safetensors file around an edited header.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace zipserv::test {

inline std::string fixture(const char* name) { return std::string(ZIPSERV_DATA_DIR) + "/" + name; }

/// A fresh directory under the system temp dir, removed with everything in it at exit, so that
/// tests running in parallel never see each other's files.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "zipserv_container_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& leaf) const { return (path_ / leaf).string(); }
  const std::filesystem::path& path() const { return path_; }
  /// Names of the files in the directory that start with '.' (where temporary files would go).
  std::vector<std::string> hidden_files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_))
      if (e.path().filename().string().starts_with(".")) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

/// BF16 weights as little-endian bytes with real-looking statistics: exponents mostly in a
/// 7-wide band, one in 16 anywhere (fallback elements, NaNs and infinities included).
inline std::vector<uint8_t> bf16_weights(size_t count, uint32_t seed) {
  std::vector<uint8_t> bytes(2 * count);
  uint32_t x = seed;
  for (size_t i = 0; i < count; ++i) {
    x = x * 1664525u + 1013904223u;
    const uint32_t exponent = (x >> 24) % 16 == 0 ? (x >> 8) & 0xFF : 117 + (x >> 12) % 7;
    const uint16_t v = static_cast<uint16_t>(((x >> 4) & 0x8000u) | exponent << 7 | (x & 0x7F));
    std::memcpy(&bytes[2 * i], &v, 2);
  }
  return bytes;
}

/// The JSON header of a safetensors file held in memory.
inline std::string header_of(const std::vector<uint8_t>& file) {
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  return std::string(reinterpret_cast<const char*>(file.data()) + 8, n);
}

/// The same file with its header replaced by `json` (length field updated, data unchanged).
inline std::vector<uint8_t> with_header(const std::vector<uint8_t>& file, const std::string& json) {
  uint64_t old_n = 0;
  std::memcpy(&old_n, file.data(), 8);
  std::vector<uint8_t> out(8);
  const uint64_t n = json.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), json.begin(), json.end());
  out.insert(out.end(), file.begin() + 8 + static_cast<std::ptrdiff_t>(old_n), file.end());
  return out;
}

}  // namespace zipserv::test
