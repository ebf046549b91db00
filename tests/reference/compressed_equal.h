/*! \file compressed_equal.h
 *  \brief Byte-for-byte comparison of two CompressedMatrix values that names the first array
 *         and index where they differ ("same window in, same bytes out").
 */
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "zipserv/reference/compressed_matrix.h"

namespace zipserv::test {

/// Returns "" if `a` and `b` are identical, else the first difference.
template <typename T>
std::string first_difference(const char* name, const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size())
    return std::string(name) + ": sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i])
      return std::string(name) + "[" + std::to_string(i) + "]: " + std::to_string(a[i]) + " vs " + std::to_string(b[i]);
  return "";
}

/// Success iff every field and every array of `a` and `b` is identical.
inline ::testing::AssertionResult same_bytes(const CompressedMatrix& a, const CompressedMatrix& b) {
  if (a.rows != b.rows || a.cols != b.cols)
    return ::testing::AssertionFailure() << "shapes differ";
  if (a.start_exp != b.start_exp)
    return ::testing::AssertionFailure() << "start_exp " << int{a.start_exp} << " vs " << int{b.start_exp};
  for (const std::string& d :
       {first_difference("bitmap1", a.bitmap1, b.bitmap1), first_difference("bitmap2", a.bitmap2, b.bitmap2),
        first_difference("bitmap3", a.bitmap3, b.bitmap3),
        first_difference("sign_mantissa", a.sign_mantissa, b.sign_mantissa), first_difference("full", a.full, b.full),
        first_difference("median_offsets", a.median_offsets, b.median_offsets),
        first_difference("global_offsets", a.global_offsets, b.global_offsets)})
    if (!d.empty()) return ::testing::AssertionFailure() << d;
  return ::testing::AssertionSuccess();
}

/// Success iff `actual` equals `expected` bit for bit; otherwise names the first differing
/// element as (row, col) of a `cols`-wide row-major matrix with both patterns in hex.
inline ::testing::AssertionResult same_patterns(const std::vector<uint16_t>& expected,
                                                const std::vector<uint16_t>& actual, int64_t cols) {
  if (expected.size() != actual.size())
    return ::testing::AssertionFailure() << "sizes " << expected.size() << " vs " << actual.size();
  for (size_t i = 0; i < expected.size(); ++i)
    if (expected[i] != actual[i])
      return ::testing::AssertionFailure() << "element (" << i / cols << ", " << i % cols << "): expected 0x"
                                           << std::hex << expected[i] << ", got 0x" << actual[i];
  return ::testing::AssertionSuccess();
}

}  // namespace zipserv::test
