// Reader of the tensor-core validation data (see tensor_core_validation.h).
#include "zipserv/reference/tensor_core_validation.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "zipserv/reference/tensor_core_model.h"

namespace zipserv {
namespace {

[[noreturn]] void fail(const std::string& path, size_t line, const std::string& what) {
  throw std::runtime_error("zipserv: " + path + (line ? ":" + std::to_string(line) : "") + ": " + what);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, 0, "cannot open the file");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  return lines;
}

// A line of hexadecimal FP32 patterns, each the widening of a BF16 value.
std::vector<uint16_t> parse_bf16_line(const std::string& text, const std::string& path, size_t line) {
  std::vector<uint16_t> values;
  std::istringstream words(text);
  for (std::string word; words >> word;) {
    if (word.size() != 8 || word.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      fail(path, line, "'" + word + "' is not 8 hexadecimal digits");
    const uint32_t bits = static_cast<uint32_t>(std::stoul(word, nullptr, 16));
    if (bits & 0xFFFFu) fail(path, line, "'" + word + "' is not a BF16 value (low 16 bits are not zero)");
    values.push_back(static_cast<uint16_t>(bits >> 16));
  }
  return values;
}

// A line of 32 binary digits: an FP32 pattern.
float parse_fp32_line(const std::string& text, const std::string& path, size_t line) {
  const size_t first = text.find_first_not_of(" \t"), last = text.find_last_not_of(" \t\r");
  const std::string word = text.substr(first, last - first + 1);
  if (word.size() != 32 || word.find_first_not_of("01") != std::string::npos)
    fail(path, line, "'" + word + "' is not 32 binary digits");
  const uint32_t bits = static_cast<uint32_t>(std::stoul(word, nullptr, 2));
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

TensorCoreValidation load_tensor_core_validation(const std::string& dir, MmaNumerics numerics) {
  TensorCoreValidation v;
  v.gpu = std::string(tensor_core_params(numerics).gpu);
  const std::string base = dir + "/" + v.gpu + "/";
  const std::string pa = base + "a_" + v.gpu + "_bf16.txt", pb = base + "b_" + v.gpu + "_bf16.txt";
  const std::string pc = base + "c_" + v.gpu + "_fp32.txt", pd = base + "d_" + v.gpu + "_fp32.txt";
  const auto la = read_lines(pa), lb = read_lines(pb), lc = read_lines(pc), ld = read_lines(pd);
  if (lb.size() != la.size() || lc.size() != la.size() || ld.size() != la.size())
    fail(base, 0, "the four files have different numbers of cases (" + std::to_string(la.size()) + ", " +
                      std::to_string(lb.size()) + ", " + std::to_string(lc.size()) + ", " + std::to_string(ld.size()) + ")");
  if (la.empty()) fail(pa, 0, "no cases");
  v.cases.resize(la.size());
  for (size_t i = 0; i < la.size(); ++i) {
    TensorCoreCase& tc = v.cases[i];
    tc.a = parse_bf16_line(la[i], pa, i + 1);
    tc.b = parse_bf16_line(lb[i], pb, i + 1);
    if (i == 0) v.k = static_cast<int>(tc.a.size());
    if (tc.a.size() != static_cast<size_t>(v.k)) fail(pa, i + 1, "expected " + std::to_string(v.k) + " values");
    if (tc.b.size() != static_cast<size_t>(v.k)) fail(pb, i + 1, "expected " + std::to_string(v.k) + " values");
    tc.c = parse_fp32_line(lc[i], pc, i + 1);
    tc.d = parse_fp32_line(ld[i], pd, i + 1);
  }
  return v;
}

}  // namespace zipserv
