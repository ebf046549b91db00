// walkthrough.h: the few helpers every numbered walkthrough program shares.
//
// Each step loads real weights from the bundled model (data/stories260K.safetensors, a trained
// TinyStories Llama, MIT licence, see data/PROVENANCE.md), prints the state a student should
// look at, and ends with `return check(...) ? 0 : 1`, so ctest fails the moment a step stops
// telling the truth. Kept header-only and tiny on purpose: a reader of step N should never have
// to leave the step's own file to follow it, except for these four helpers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/container/safetensors.h"

#ifndef ZIPSERV_DATA_DIR
#error "ZIPSERV_DATA_DIR must name the folder holding the bundled safetensors fixtures"
#endif

namespace walkthrough {

/// The file name of the bundled real model every step reads (in ZIPSERV_DATA_DIR).
inline constexpr const char* kModelFile = "stories260K.safetensors";

/// The full path of the bundled real model.
inline std::string model_path() { return std::string(ZIPSERV_DATA_DIR) + "/" + kModelFile; }

/// Loads one 2-D BF16 tensor of the bundled model by name (row-major patterns).
inline zipserv::st::Bf16Matrix load_layer(const std::string& name, const std::string& path = model_path()) {
  for (auto& m : zipserv::st::load_bf16_matrices(path))
    if (m.name == name) return std::move(m);
  throw std::runtime_error("no 2-D BF16 tensor \"" + name + "\" in " + path);
}

/// Real activations for steps 07-09: the embeddings of 8 tokens (the input of the model's first
/// layer, before RMSNorm), as an (8, 64) row-major BF16 matrix. Token 1 is BOS; ids 3..258 of the
/// model's 512-token vocabulary are byte-fallback tokens that stay near their initial values, so
/// the other seven are taken from the word pieces above them.
inline constexpr int kTokens[8] = {1, 261, 290, 320, 350, 380, 410, 440};
inline std::vector<uint16_t> token_activations(const zipserv::st::Bf16Matrix& embeddings) {
  std::vector<uint16_t> x(8 * embeddings.cols);
  for (int j = 0; j < 8; ++j)
    for (int64_t c = 0; c < embeddings.cols; ++c) x[j * embeddings.cols + c] = embeddings.values[kTokens[j] * embeddings.cols + c];
  return x;
}

/// Prints one verdict line and passes the verdict on, so `main` can end with
/// `return check(a, "...") && check(b, "...") ? 0 : 1` and the output says which claim held.
inline bool check(bool ok, const char* claim) {
  std::printf("CHECK %-4s %s\n", ok ? "ok" : "FAIL", claim);
  return ok;
}

/// `width` bits of `v`, most significant first (how a datasheet draws a register).
inline std::string binary(uint64_t v, int width) {
  std::string s;
  for (int b = width - 1; b >= 0; --b) s += ((v >> b) & 1) ? '1' : '0';
  return s;
}

/// Prints a section heading, so the output reads as numbered steps.
inline void heading(const char* title) { std::printf("\n== %s ==\n", title); }

}  // namespace walkthrough
