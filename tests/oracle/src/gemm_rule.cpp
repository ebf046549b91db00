// The GEMM comparison rules of gemm_rule.h: bit-exact in the reference order, bit-exact on
// inputs whose every partial sum is exact, a derived bound otherwise.
#include "zipserv/oracle/gemm_rule.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdio>
#include <set>

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/gemm.h"
#include "zipserv/oracle/locate.h"

namespace zipserv::oracle {
namespace {

bool finite_bf16(uint16_t v) { return (v & 0x7F80u) != 0x7F80u; }

// log2 of the lowest set bit of a finite nonzero BF16 value's significand (its value is an
// integer multiple of 2^result); INT_MAX for zero.
int lowest_bit_exp(uint16_t v) {
  const uint32_t e = bf16_exponent(v), mant = bf16_mantissa(v);
  if (e == 0 && mant == 0) return INT_MAX;
  const uint32_t significand = e ? (0x80u | mant) : mant;  // subnormals have no implicit bit
  const int scale = (e ? static_cast<int>(e) : 1) - 127 - 7;
  return scale + std::countr_zero(significand);
}

// One unit in the last place of a BF16 value of magnitude `a` (8 significant bits).
double ulp_bf16(double a) {
  if (!(a > 0)) return std::ldexp(1.0, -133);  // the smallest subnormal step
  int e;
  std::frexp(a, &e);  // a = f 2^e, 0.5 <= f < 1: the leading bit is 2^(e-1)
  return std::ldexp(1.0, std::max(e - 1 - 7, -133));
}

std::string short_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

GemmExpectation expect_gemm(const std::string& input, const std::vector<uint16_t>& w, int64_t m, int64_t k,
                            const std::vector<uint16_t>& x, int64_t n) {
  GemmExpectation e;
  e.input = input;
  e.m = m;
  e.n = n;
  e.k = k;
  e.reference.resize(static_cast<size_t>(m * n));
  gemm_dense(w.data(), m, k, x.data(), n, e.reference.data());
  e.exact.resize(e.reference.size());
  e.abs_sum.resize(e.reference.size());
  int low_w = INT_MAX, low_x = INT_MAX;
  std::set<uint16_t> nans;
  for (uint16_t v : w) {
    e.finite = e.finite && finite_bf16(v);
    if (is_nan_bf16(v)) nans.insert(v);
    low_w = std::min(low_w, lowest_bit_exp(v));
  }
  for (uint16_t v : x) {
    e.finite = e.finite && finite_bf16(v);
    if (is_nan_bf16(v)) nans.insert(v);
    low_x = std::min(low_x, lowest_bit_exp(v));
  }
  e.nan_patterns = static_cast<int>(nans.size());
  // An all-zero operand makes every product zero: granularity 1 keeps the condition true.
  e.granularity_exp = (low_w == INT_MAX || low_x == INT_MAX) ? 0 : int64_t{low_w} + low_x;
  for (int64_t col = 0; col < n; ++col)
    for (int64_t row = 0; row < m; ++row) {
      // Products of two BF16 values are exact in double; the double sum's own rounding
      // (<= K 2^-53 S) is 2^29 times below the FP32 reordering term of the bound.
      double sum = 0, abs = 0;
      for (int64_t i = 0; i < k; ++i) {
        const double p = static_cast<double>(bf16_to_float(w[row * k + i])) * bf16_to_float(x[col * k + i]);
        sum += p;
        abs += std::fabs(p);
      }
      e.exact[col * m + row] = sum;
      e.abs_sum[col * m + row] = abs;
      if (std::isfinite(abs)) e.max_abs_sum = std::max(e.max_abs_sum, abs);
    }
  return e;
}

bool exact_accumulation(const GemmExpectation& e, const GemmContract& contract) {
  if (!e.finite) return false;
  // Partial sums are multiples of g = 2^granularity_exp below S; they fit in p significant bits
  // (and so are exact in any order) when S < 2^p g. p = 8 when partials are rounded to BF16.
  const int p = contract.bf16_partial_sums > 0 ? 8 : 24;
  // FP32's smallest subnormal step is 2^-149: a finer granularity is not representable.
  if (e.granularity_exp < -149) return false;
  return e.max_abs_sum < std::ldexp(1.0, static_cast<int>(p + e.granularity_exp));
}

double allowed_error_gamma(int64_t k) {
  const double ku = static_cast<double>(k) * std::ldexp(1.0, -23);
  return ku < 1 ? ku / (1 - ku) : INFINITY;
}

double allowed_error(const GemmExpectation& e, int64_t i, const GemmContract& contract) {
  const double gamma = allowed_error_gamma(e.k);
  const double s = e.abs_sum[i], y = e.exact[i];
  const double r = bf16_to_float(e.reference[i]);
  double allowed = 2 * std::fabs(r - y) + gamma * s;
  if (contract.bf16_partial_sums > 0) allowed += contract.bf16_partial_sums * std::ldexp(s, -8);
  return allowed + ulp_bf16(std::fabs(y) + gamma * s);
}

std::optional<Divergence> compare_gemm(const GemmExpectation& e, const std::vector<uint16_t>& actual,
                                       const GemmContract& contract, std::string& rule) {
  Divergence d;
  d.checkpoint = Checkpoint::gemm_output;
  d.array = "Y(" + e.input + ")";
  d.bits = 16;
  if (actual.size() != e.reference.size()) {
    d.note = "output has " + std::to_string(actual.size()) + " values, expected " + std::to_string(e.reference.size());
    rule = "size";
    return d;
  }
  const bool bit_exact_any_input = contract.order == SummationOrder::reference;
  const bool bit_exact_here = bit_exact_any_input || exact_accumulation(e, contract);
  if (bit_exact_any_input)
    rule = contract.canonical_nan ? "bit for bit (reference summation order); NaN as the canonical 0x7FFF"
           : contract.nan_payload_of_fp_unit && e.nan_patterns > 1
               ? "bit for bit (reference summation order); NaN by NaN-ness (the inputs carry " +
                     std::to_string(e.nan_patterns) + " NaN patterns)"
               : "bit for bit (reference summation order)";
  else if (bit_exact_here)
    rule = "bit for bit (every partial sum exact: S < 2^" + std::string(contract.bf16_partial_sums ? "8" : "24") +
           " g); any NaN matches any NaN";
  else
    rule = "bound: |y - exact| <= 2|ref - exact| + gamma_K S + ulp; any NaN matches any NaN";
  for (size_t i = 0; i < actual.size(); ++i) {
    const uint16_t want = e.reference[i], got = actual[i];
    if (want == got) continue;
    const bool nan_pair = is_nan_bf16(want) && is_nan_bf16(got);
    bool ok = false;
    double err = 0, allowed = 0;
    if (bit_exact_any_input) {
      ok = (contract.canonical_nan && is_nan_bf16(want) && got == 0x7FFF) ||
           (contract.nan_payload_of_fp_unit && e.nan_patterns > 1 && nan_pair);
    } else if (nan_pair) {
      ok = true;  // payload choice is not specified by IEEE 754 for a reordered sum
    } else if (bit_exact_here) {
      ok = false;
    } else if (std::isfinite(e.exact[i])) {
      const double value = bf16_to_float(got), y = e.exact[i];
      allowed = allowed_error(e, static_cast<int64_t>(i), contract);
      if (!std::isfinite(value)) {
        // Every partial sum of every order is at most S (1 + gamma_K) in magnitude. When that
        // reaches FP32's largest value, some order may overflow to +Inf or -Inf part-way (and
        // Inf - Inf gives NaN) even though the exact sum is finite: accepted only then.
        err = INFINITY;
        ok = e.abs_sum[i] * (1 + allowed_error_gamma(e.k)) >= static_cast<double>(FLT_MAX);
      } else {
        err = std::fabs(value - y);
        ok = err <= allowed;
      }
    }
    if (ok) continue;
    d.index = static_cast<int64_t>(i);
    d.expected = want;
    d.actual = got;
    d.place = locate_output(e.m, d.index);
    d.note = rule;
    if (allowed > 0) d.note += "; |actual - exact| = " + short_double(err) + " > allowed " + short_double(allowed);
    return d;
  }
  return std::nullopt;
}

}  // namespace zipserv::oracle
