// Step 01: BF16 anatomy -- what a weight of a real model looks like, bit by bit.
//
// What this step adds
//   Nothing yet about compression: it takes eight real weights of a trained model and splits each
//   16-bit BF16 pattern into its three fields, sign (1 bit), exponent (8 bits) and mantissa
//   (7 bits), and rebuilds the value from the fields by hand:
//       value = (-1)^sign * (1 + mantissa/128) * 2^(exponent - 127)      (normal numbers)
//   TCA-TBE (step 03 on) keeps sign and mantissa untouched and only re-encodes the exponent, so
//   this is the split every later step relies on.
//
// How to run
//   cmake -S . -B build && cmake --build build --target 01_bf16_anatomy
//   build/walkthrough/01_bf16_anatomy [MODEL.safetensors [TENSOR]]
//   (defaults: data/stories260K.safetensors, layers.0.attention.wq.weight; every step takes these)
//
// What to look for
//   - The exponent column: the eight weights only use a handful of values around 120-124,
//     i.e. magnitudes between 2^-7 and 2^-3. Eight bits can say 256 things; the weights use few.
//   - The sign and mantissa columns look random: nothing to squeeze there.
//   - The CHECK lines: the hand formula equals the machine's float for every normal weight of the
//     layer, and the three fields put back together are the original 16 bits.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "walkthrough.h"
#include "zipserv/reference/bf16.h"

using namespace zipserv;

//! [fields]
// The value a BF16 pattern denotes, computed from its fields the way a textbook does it.
double value_from_fields(uint16_t v) {
  const uint32_t sign = bf16_sign(v), exponent = bf16_exponent(v), mantissa = bf16_mantissa(v);
  const double magnitude = exponent == 0 ? std::ldexp(mantissa / 128.0, -126)   // subnormal or 0
                                         : std::ldexp(1.0 + mantissa / 128.0, static_cast<int>(exponent) - 127);
  return sign ? -magnitude : magnitude;
}
//! [fields]

int run(const walkthrough::Args& args) {
  const auto layer = walkthrough::load_layer(args);
  std::printf("layer %s\n  of %s:\n  %lld x %lld BF16 weights\n", args.tensor_label(70).c_str(),
              args.model_label().c_str(), static_cast<long long>(layer.rows), static_cast<long long>(layer.cols));

  const int shown = static_cast<int>(std::min<size_t>(8, layer.values.size()));
  walkthrough::heading("the first " + std::to_string(shown) + " weights");
  std::printf("  col  hex     sign exponent mantissa   2^(e-127)  value (fields)  value (as float)\n");
  for (int c = 0; c < shown; ++c) {
    const uint16_t v = layer.values[c];
    std::printf("  %3d  0x%04x  %u    %s %s    2^%-4d      %+.8f     %+.8f\n", c, v, bf16_sign(v),
                walkthrough::binary(bf16_exponent(v), 8).c_str(), walkthrough::binary(bf16_mantissa(v), 7).c_str(),
                static_cast<int>(bf16_exponent(v)) - 127, value_from_fields(v), bf16_to_float(v));
  }

  walkthrough::heading("the whole layer");
  bool formula_matches = true, fields_round_trip = true;
  std::set<uint32_t> exponents;
  for (const uint16_t v : layer.values) {
    exponents.insert(bf16_exponent(v));
    if (bf16_exponent(v) != 255 && value_from_fields(v) != static_cast<double>(bf16_to_float(v)))
      formula_matches = false;
    if (bf16_from_fields(bf16_sign(v), bf16_exponent(v), bf16_mantissa(v)) != v) fields_round_trip = false;
  }
  std::printf("%zu weights use %zu distinct exponent values (of 256 an 8-bit field can hold):\n",
              layer.values.size(), exponents.size());
  std::string line;
  for (const uint32_t e : exponents) line.append(" ").append(std::to_string(e));
  std::printf("%s", walkthrough::wrap(line, walkthrough::kMaxColumns, "  ").c_str());
  std::printf("a BF16 value is the top half of an FP32: 0x%04x -> FP32 bits 0x%04x0000\n", layer.values[0],
              layer.values[0]);

  return walkthrough::check(formula_matches, "(-1)^s (1 + m/128) 2^(e-127) equals the float for every weight") &&
                 walkthrough::check(fields_round_trip, "sign | exponent | mantissa reassemble every 16-bit pattern") &&
                 walkthrough::check(exponents.size() < 32, "the layer uses fewer than 32 of the 256 exponents")
             ? 0
             : 1;
}

int main(int argc, char** argv) { return walkthrough::run_step(argc, argv, "layers.0.attention.wq.weight", run); }
