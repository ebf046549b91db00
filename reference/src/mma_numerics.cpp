// The numerics of one mma.m16n8k16 output (mma_numerics.h): the names, the IEEE-sequential
// definition, and the dispatch to the tensor-core models (tensor_core_model.cpp).
#include "zipserv/reference/mma_numerics.h"

#include "zipserv/reference/bf16.h"
#include "zipserv/reference/tensor_core_model.h"

namespace zipserv {

std::string_view numerics_name(MmaNumerics numerics) {
  switch (numerics) {
    case MmaNumerics::ieee_sequential: return "ieee_sequential";
    case MmaNumerics::sm80: return "sm80";
    case MmaNumerics::sm89: return "sm89";
    case MmaNumerics::sm90: return "sm90";
  }
  return "unknown";
}

std::optional<MmaNumerics> parse_numerics(std::string_view name) {
  for (const MmaNumerics n : kAllMmaNumerics)
    if (numerics_name(n) == name) return n;
  return std::nullopt;
}

float mma_dot16(MmaNumerics numerics, const uint16_t (&a)[16], const uint16_t (&b)[16], float c) {
  if (numerics != MmaNumerics::ieee_sequential) return tensor_core_dot(tensor_core_params(numerics), a, b, c);
  float acc = c;
  for (int k = 0; k < 16; ++k) {
    const float product = bf16_to_float(a[k]) * bf16_to_float(b[k]);
    acc = acc + product;  // a rounded product, then a rounded addition: never fused
  }
  return acc;
}

}  // namespace zipserv
