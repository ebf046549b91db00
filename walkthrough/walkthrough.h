// walkthrough.h: the few helpers every numbered walkthrough program shares.
//
// Each step loads real weights, by default from the bundled model (data/stories260K.safetensors,
// a trained TinyStories Llama, MIT licence, see data/PROVENANCE.md), prints the state a student
// should look at, and ends with `return check(...) ? 0 : 1`, so ctest fails the moment a step
// stops telling the truth. Every step takes the same optional arguments,
//     NN_step [MODEL.safetensors [TENSOR]]
// so it can be pointed at another model (data/use-lite-en.safetensors, or your own) and at any
// 2-D BF16 tensor of it. Kept header-only and small on purpose: a reader of step N should never
// have to leave the step's own file to follow it, except for these helpers.
#pragma once

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/container/safetensors.h"
#include "zipserv/reference/bf16.h"
#include "zipserv/reference/element_code.h"

#ifndef ZIPSERV_DATA_DIR
#error "ZIPSERV_DATA_DIR must name the folder holding the bundled safetensors fixtures"
#endif

namespace walkthrough {

/// Bits of one element code. The format stores exactly three bitmap planes
/// (CompressedMatrix::bitmap1..3), so a code has three bits; a window of kWindowSize exponents
/// needs codes 1..kWindowSize next to the fallback code 0 (docs/experiments.md: a 4-bit code).
inline constexpr int kCodeBits = 3;
static_assert(zipserv::kWindowSize >= 1 && zipserv::kWindowSize <= (1 << kCodeBits) - 1,
              "the window must fit the non-zero values of a 3-bit code");
/// Bits a weight inside the window costs before any tile overhead: its code and one byte.
inline constexpr int kCoveredBits = kCodeBits + 8;
/// Bits a fallback weight costs: its code and the whole 16-bit pattern.
inline constexpr int kFallbackBits = kCodeBits + 16;
/// Widest line a step prints (a test checks it), so the output reads in any terminal and page.
inline constexpr int kMaxColumns = 100;

/// The file name of the bundled real model every step reads by default (in ZIPSERV_DATA_DIR).
inline constexpr const char* kModelFile = "stories260K.safetensors";

/// The full path of the bundled real model.
inline std::string model_path() { return std::string(ZIPSERV_DATA_DIR) + "/" + kModelFile; }

/// `name` cut to at most `width` characters, keeping its end (the informative part of long
/// names such as TF.js paths) behind "...".
inline std::string short_name(const std::string& name, size_t width) {
  if (name.size() <= width || width < 4) return name;
  std::string cut = "...";
  cut.append(name, name.size() - (width - 3), std::string::npos);
  return cut;
}

/// What a step runs on: the model file and one 2-D BF16 tensor of it.
struct Args {
  std::string program;  ///< the program's name, for messages
  std::string model;    ///< path of the .safetensors file
  std::string tensor;   ///< name of the tensor in it
  bool bundled = true;  ///< true when `model` is the bundled default

  /// How to name the model in the output: data/<file> for the bundled one, else the path.
  std::string model_label() const {
    return bundled ? std::string("data/") + kModelFile : short_name(model, 60);
  }
  /// The tensor's name, cut to `width` characters for a table or a heading.
  std::string tensor_label(size_t width = 48) const { return short_name(tensor, width); }
};

/// Prints the usage line of a step to `out`.
inline void print_usage(std::FILE* out, const std::string& program, const std::string& default_tensor) {
  std::fprintf(out,
               "usage: %s [MODEL.safetensors [TENSOR]]\n"
               "  MODEL   a safetensors file (default: the bundled data/%s)\n"
               "  TENSOR  a 2-D BF16 tensor of it (default: %s)\n",
               program.c_str(), kModelFile, default_tensor.c_str());
}

/// Reads `[MODEL [TENSOR]]`. `-h` / `--help` print the usage and exit 0; any other option, or a
/// third argument, prints what is wrong and the usage to stderr and exits 2.
inline Args parse_args(int argc, char** argv, const std::string& default_tensor) {
  Args a;
  a.program = argc > 0 ? std::string(argv[0]) : std::string("walkthrough");
  a.program = a.program.substr(a.program.find_last_of('/') + 1);
  a.model = model_path();
  a.tensor = default_tensor;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      print_usage(stdout, a.program, default_tensor);
      std::exit(0);
    }
    if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "%s: unknown option '%s'\n", a.program.c_str(), arg.c_str());
      print_usage(stderr, a.program, default_tensor);
      std::exit(2);
    }
    positional.push_back(arg);
  }
  if (positional.size() > 2) {
    std::fprintf(stderr, "%s: unexpected argument '%s' (at most a model and a tensor)\n", a.program.c_str(),
                 positional[2].c_str());
    print_usage(stderr, a.program, default_tensor);
    std::exit(2);
  }
  if (!positional.empty()) a.bundled = false, a.model = positional[0];
  if (positional.size() == 2) a.tensor = positional[1];
  return a;
}

/// Runs a step's body on its parsed arguments; an error (a missing file, an unknown tensor, a
/// tensor too small for the step) becomes one line on stderr and exit status 1.
inline int run_step(int argc, char** argv, const std::string& default_tensor,
                    const std::function<int(const Args&)>& body) {
  const Args args = parse_args(argc, argv, default_tensor);
  try {
    return body(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", args.program.c_str(), e.what());
    return 1;
  }
}

/// Loads one 2-D BF16 tensor by name (row-major patterns).
inline zipserv::st::Bf16Matrix load_layer(const std::string& name, const std::string& path = model_path()) {
  for (auto& m : zipserv::st::load_bf16_matrices(path))
    if (m.name == name) return std::move(m);
  throw std::runtime_error("no 2-D BF16 tensor \"" + name + "\" in " + path);
}

/// The tensor the arguments name; throws if it has fewer than `min_rows` x `min_cols` elements,
/// the least the step needs to show what it shows.
inline zipserv::st::Bf16Matrix load_layer(const Args& a, int64_t min_rows = 1, int64_t min_cols = 1) {
  auto m = load_layer(a.tensor, a.model);
  if (m.rows < min_rows || m.cols < min_cols)
    throw std::runtime_error("tensor \"" + a.tensor + "\" is " + std::to_string(m.rows) + " x " +
                             std::to_string(m.cols) + "; this step needs at least " + std::to_string(min_rows) +
                             " x " + std::to_string(min_cols));
  return m;
}

/// Token ids whose embeddings are the real activations of steps 07-09 on the bundled model.
/// Token 1 is BOS; ids 3..258 of its 512-token vocabulary are byte-fallback tokens that stay
/// near their initial values, so the other seven are taken from the word pieces above them.
inline constexpr int kTokens[8] = {1, 261, 290, 320, 350, 380, 410, 440};

/// Activations X for a GEMM with `k` input features: `n` = 8 rows, (8, k) row-major BF16.
struct Activations {
  std::vector<uint16_t> x;  ///< (8, k) row-major bf16
  std::string what;         ///< one line saying where they come from
  bool tokens = false;      ///< true: rows are the embeddings of kTokens
};

/// Real activations when the model has them: the embeddings of kTokens (the input of a
/// llama2.c model's first layer, before RMSNorm) if it has a `tok_embeddings.weight` of width `k`.
/// Otherwise 8 synthetic N(0, 1) rows (fixed seed), and `what` says so.
inline Activations activations(const std::string& model, int64_t k) {
  Activations a;
  for (const auto& m : zipserv::st::load_bf16_matrices(model))
    if (m.name == "tok_embeddings.weight" && m.cols == k && m.rows > kTokens[7]) {
      a.x.resize(static_cast<size_t>(8 * k));
      for (int j = 0; j < 8; ++j)
        for (int64_t c = 0; c < k; ++c) a.x[j * k + c] = m.values[kTokens[j] * k + c];
      a.what = "embeddings of 8 tokens";
      a.tokens = true;
      return a;
    }
  std::mt19937 rng(2024);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  a.x.resize(static_cast<size_t>(8 * k));
  for (uint16_t& v : a.x) v = zipserv::float_to_bf16_rne(gauss(rng));
  a.what = "8 synthetic N(0,1) rows (no tok_embeddings.weight of this width)";
  return a;
}

/// Prints one verdict line and passes the verdict on, so `main` can end with
/// `return check(a, "...") && check(b, "...") ? 0 : 1` and the output says which claim held.
inline bool check(bool ok, const std::string& claim) {
  std::printf("CHECK %-4s %s\n", ok ? "ok" : "FAIL", claim.c_str());
  return ok;
}

/// `width` bits of `v`, most significant first (how a datasheet draws a register).
inline std::string binary(uint64_t v, int width) {
  std::string s;
  for (int b = width - 1; b >= 0; --b) s += ((v >> b) & 1) ? '1' : '0';
  return s;
}

/// `text` broken at spaces into lines of at most `width` characters, each after `indent`.
inline std::string wrap(const std::string& text, size_t width, const std::string& indent = "") {
  std::string out, line;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(" \n", pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    if (end < text.size() && text[end] == '\n') out += indent + line + "\n", line.clear();
    pos = end + 1;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

/// Prints a section heading, so the output reads as numbered steps.
inline void heading(const std::string& title) { std::printf("\n== %s ==\n", title.c_str()); }

}  // namespace walkthrough
