/*! \file test_inputs.h
 *  \brief Inputs shared by the reference tests: seeded random BF16 matrices, the matrix of all
 *         65,536 BF16 patterns, and a minimal reader for the bundled safetensors fixtures.
 *
 *  The fixture reader is deliberately tiny (find one tensor's dtype, shape and offsets in the
 *  JSON header) so that these tests do not depend on the container library; it checks every
 *  length it uses and fails the test with a message instead of reading out of bounds.
 */
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "zipserv/reference/bf16.h"

namespace zipserv::test {

/// A row-major BF16 matrix.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint16_t> values;  // (rows, cols) bf16
};

/// rows x cols weights drawn from N(0, sigma^2), rounded to BF16 (the shape of real LLM weights).
inline Matrix gaussian_matrix(int64_t rows, int64_t cols, double sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, static_cast<float>(sigma));
  Matrix m{rows, cols, std::vector<uint16_t>(static_cast<size_t>(rows * cols))};
  for (auto& v : m.values) v = float_to_bf16_rne(dist(rng));
  return m;
}

/// rows x cols uniformly random 16-bit patterns (every exponent, NaNs and infinities included).
inline Matrix random_bits_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Matrix m{rows, cols, std::vector<uint16_t>(static_cast<size_t>(rows * cols))};
  for (auto& v : m.values) v = static_cast<uint16_t>(rng());
  return m;
}

/// Gaussian weights (sigma 0.02) with every `every`-th one replaced by a uniformly random pattern,
/// so fallback elements, NaNs and infinities appear in every block tile.
inline Matrix mixed_matrix(int64_t rows, int64_t cols, uint64_t seed, int every = 7) {
  Matrix m = gaussian_matrix(rows, cols, 0.02, seed);
  const Matrix noise = random_bits_matrix(rows, cols, seed + 1);
  for (size_t i = 0; i < m.values.size(); i += static_cast<size_t>(every)) m.values[i] = noise.values[i];
  return m;
}

/// All 65,536 BF16 patterns as a 256 x 256 matrix, pattern p at position p (row p / 256).
inline Matrix all_patterns_matrix() {
  Matrix m{256, 256, std::vector<uint16_t>(65536)};
  std::iota(m.values.begin(), m.values.end(), uint16_t{0});
  return m;
}

/// The same 65,536 patterns in a seeded random order.
inline Matrix all_patterns_shuffled(uint64_t seed) {
  Matrix m = all_patterns_matrix();
  std::mt19937_64 rng(seed);
  std::shuffle(m.values.begin(), m.values.end(), rng);
  return m;
}

/// Path of a bundled fixture file.
inline std::string fixture_path(const std::string& file) { return std::string(ZIPSERV_DATA_DIR) + "/" + file; }

/// Reads the 2-D BF16 tensor `name` from a safetensors file. Returns an empty Matrix and sets
/// `error` if anything is missing or inconsistent.
inline Matrix read_fixture_tensor(const std::string& path, const std::string& name, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) { error = "cannot open " + path; return {}; }
  std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 8) { error = path + " is shorter than its 8-byte header length"; return {}; }
  uint64_t header_len = 0;
  for (int b = 7; b >= 0; --b) header_len = header_len << 8 | static_cast<uint8_t>(file[b]);
  if (header_len > file.size() - 8) { error = path + ": header length exceeds the file"; return {}; }
  const std::string header(file.data() + 8, header_len);
  const size_t key = header.find("\"" + name + "\"");
  if (key == std::string::npos) { error = "no tensor " + name + " in " + path; return {}; }
  const size_t close = header.find('}', key);
  const std::string entry = header.substr(key, close - key);
  // Reads the integers of the first JSON array after `field` in this entry.
  auto numbers_after = [&](const std::string& field) {
    std::vector<int64_t> out;
    size_t p = entry.find(field);
    if (p == std::string::npos) return out;
    p = entry.find('[', p);
    const size_t end = p == std::string::npos ? std::string::npos : entry.find(']', p);
    if (end == std::string::npos) return out;
    for (size_t i = p + 1; i < end;) {
      while (i < end && (entry[i] < '0' || entry[i] > '9')) ++i;
      if (i >= end) break;
      int64_t v = 0;
      while (i < end && entry[i] >= '0' && entry[i] <= '9') v = v * 10 + (entry[i++] - '0');
      out.push_back(v);
    }
    return out;
  };
  if (entry.find("\"BF16\"") == std::string::npos) { error = name + " is not BF16"; return {}; }
  const std::vector<int64_t> shape = numbers_after("\"shape\""), offsets = numbers_after("\"data_offsets\"");
  if (shape.size() != 2 || offsets.size() != 2) { error = name + " is not a 2-D tensor with offsets"; return {}; }
  const uint64_t data = 8 + header_len, begin = offsets[0], end = offsets[1];
  if (end < begin || end > file.size() - data || end - begin != static_cast<uint64_t>(shape[0] * shape[1] * 2)) {
    error = name + ": data offsets do not match its shape or the file";
    return {};
  }
  Matrix m{shape[0], shape[1], std::vector<uint16_t>(static_cast<size_t>(shape[0] * shape[1]))};
  std::memcpy(m.values.data(), file.data() + data + begin, end - begin);  // little-endian host
  return m;
}

/// The 8002 x 256 word-embedding matrix of Universal Sentence Encoder lite.
inline constexpr const char* kUseLiteEmbeddings = "module/Embeddings_en";

}  // namespace zipserv::test
