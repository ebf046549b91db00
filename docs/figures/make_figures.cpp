// make_figures: draws the documentation's figures from the code itself, as SVG files.
//
// Every figure is computed by calling the same functions the implementations use
// (a_frag_coord, place_element, encode, exponent_histogram, choose_window), so a change to the
// format changes the pictures at the next `cmake --build build --target docs`; nothing is drawn
// by hand and nothing can drift. Run by the docs target:
//
//     make_figures <output dir> <data dir>
//
// Files written (referenced from docs/*.md with \image html):
//     lane_map.svg              the 16x16 mma A tile: which lane, register and half holds each element
//     fragtile_bits.svg         one real 8x8 FragTile: codes, bit index k = 8r + c, decoding lane
//     tile_hierarchy.svg        a 64x64 block tile: strips, slices, FragTiles in storage order
//     histogram_<fixture>.svg   the exponent histogram of every weight of a bundled model file
//     tensor_core_alignment.svg one measured H100 dot product aligned and truncated by the sm90
//                               model (align_block, normalize_truncate_fp32)
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "zipserv/reference/encode.h"
#include "zipserv/reference/exponent_window.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/reference/mma_numerics.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/reference/tensor_core_model.h"
#include "zipserv/reference/tensor_core_validation.h"
#include "zipserv/reference/tile_layout.h"

using namespace zipserv;

namespace {

// A minimal SVG canvas: rectangles, text and lines, written in drawing order. The canvas grows to
// hold everything drawn on it: save() writes a viewBox around the extent of every shape and every
// text (whose width is estimated from its length), so a long title or footer can never be clipped
// by a canvas size chosen by hand. The docs.site test measures the real text in a browser.
class Svg {
 public:
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke = "#444",
            double stroke_width = 0.5) {
    body_ << "<rect x='" << x << "' y='" << y << "' width='" << w << "' height='" << h << "' fill='" << fill
          << "' stroke='" << stroke << "' stroke-width='" << stroke_width << "'/>\n";
    cover(x, y, x + w, y + h);
  }
  void text(double x, double y, const std::string& s, int size = 10, const std::string& anchor = "middle",
            const std::string& weight = "normal") {
    body_ << "<text x='" << x << "' y='" << y << "' font-size='" << size << "' text-anchor='" << anchor
          << "' font-weight='" << weight << "' font-family='sans-serif'>" << s << "</text>\n";
    // Width estimate, on the wide side: DejaVu Sans (a common default sans-serif) sets these
    // labels at about 0.45 em per character, bold 0.55 em; ascent 0.8 em, descent 0.25 em.
    const double w = s.size() * size * (weight == "bold" ? 0.62 : 0.55);
    const double x0 = anchor == "start" ? x : anchor == "end" ? x - w : x - w / 2;
    cover(x0, y - 0.8 * size, x0 + w, y + 0.25 * size);
  }
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width) {
    body_ << "<line x1='" << x1 << "' y1='" << y1 << "' x2='" << x2 << "' y2='" << y2 << "' stroke='" << stroke
          << "' stroke-width='" << width << "'/>\n";
    cover(std::min(x1, x2) - width / 2, std::min(y1, y2) - width / 2, std::max(x1, x2) + width / 2,
          std::max(y1, y2) + width / 2);
  }
  void save(const std::string& path) const {
    std::ofstream f(path);
    if (!f) throw std::runtime_error("cannot write " + path);
    const double margin = 12;
    const long x0 = std::lround(std::floor(x0_ - margin)), y0 = std::lround(std::floor(y0_ - margin));
    const long w = std::lround(std::ceil(x1_ + margin)) - x0, h = std::lround(std::ceil(y1_ + margin)) - y0;
    f << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "' viewBox='" << x0 << ' '
      << y0 << ' ' << w << ' ' << h << "'>\n<rect x='" << x0 << "' y='" << y0 << "' width='" << w << "' height='" << h
      << "' fill='white'/>\n"
      << body_.str() << "</svg>\n";
  }

 private:
  void cover(double x0, double y0, double x1, double y1) {
    x0_ = std::min(x0_, x0), y0_ = std::min(y0_, y0), x1_ = std::max(x1_, x1), y1_ = std::max(y1_, y1);
  }
  double x0_ = 1e9, y0_ = 1e9, x1_ = -1e9, y1_ = -1e9;  // extent of everything drawn so far
  std::ostringstream body_;
};

// "prefix<n>" as a string. (Built with snprintf: GCC 12 warns falsely, -Wrestrict, on
// `"literal" + std::to_string(n)`, GCC bug 105329.)
std::string label(const char* prefix, long long n, const char* suffix = "") {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%lld%s", prefix, n, suffix);
  return buf;
}

// One pastel colour per A register a0..a3 (and per strip).
const char* const kRegColour[4] = {"#cfe2ff", "#d1f2d1", "#ffe3c4", "#f3d1f2"};

// The m16n8k16 A operand: every element labelled with the lane, register and half holding it.
void lane_map(const std::string& dir) {
  const int cell = 46, left = 40, top = 64;
  Svg svg;
  svg.text(left + 8 * cell, 22, "mma.m16n8k16 A operand (16 x 16 BF16): lane T and register a_i.h of each element", 14,
           "middle", "bold");
  svg.text(left + 8 * cell, 40, "from a_frag_coord(lane, reg, half); h = 0 low / 1 high 16 bits of the register", 11);
  // Column numbers sit just above the grid, below the subtitle.
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int reg = 0; reg < kARegsPerLane; ++reg)
      for (int half = 0; half < 2; ++half) {
        const FragCoord at = a_frag_coord(lane, reg, half);
        const double x = left + at.col * cell, y = top + at.row * cell;
        svg.rect(x, y, cell, cell, kRegColour[reg]);
        svg.text(x + cell / 2.0, y + 19, label("T", lane), 12, "middle", "bold");
        svg.text(x + cell / 2.0, y + 35, label("a", reg, half ? ".1" : ".0"), 10);
      }
  for (int i = 0; i < 16; ++i) {
    svg.text(left - 8, top + i * cell + cell / 2.0 + 4, std::to_string(i), 10, "end");
    svg.text(left + i * cell + cell / 2.0, top - 2, std::to_string(i), 10);
  }
  svg.line(left + 8 * cell, top, left + 8 * cell, top + 16 * cell, "#000", 2);
  svg.line(left, top + 8 * cell, left + 16 * cell, top + 8 * cell, "#000", 2);
  svg.text(left + 8 * cell, top + 16 * cell + 22,
           "rows = M (output features), columns = K. Each 8x8 quadrant is one FragTile; register a_i reads FragTile i",
           11);
  svg.text(left + 8 * cell, top + 16 * cell + 40,
           "(a0 top-left, a1 bottom-left, a2 top-right, a3 bottom-right): lane l always holds bits 2l and 2l+1.", 11);
  svg.save(dir + "/lane_map.svg");
}

// One real FragTile: each element's code (colour), its bit index k and the lane that decodes it.
void fragtile_bits(const std::string& dir, const std::string& data_dir) {
  const std::string name = "layers.0.feed_forward.w1.weight";
  for (const auto& m : st::load_bf16_matrices(data_dir + "/stories260K.safetensors")) {
    if (m.name != name) continue;
    const CompressedMatrix cm = encode(m.values.data(), m.rows, m.cols);
    const char* code_colour[8] = {"#ff9d9d", "#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5"};
    const int cell = 64, left = 30, top = 56;
    Svg svg;
    svg.text(left + 4 * cell, 22, "FragTile 0 of stories260K " + name + " (rows 0-7, cols 0-7)", 14, "middle", "bold");
    svg.text(left + 4 * cell, 42, "cell: bit k = 8r + c | 3-bit code (b3 b2 b1) | lane that decodes it (k / 2)", 11);
    for (int k = 0; k < 64; ++k) {
      const int r = k / 8, c = k % 8;
      const uint32_t code = ((cm.bitmap3[0] >> k) & 1) << 2 | ((cm.bitmap2[0] >> k) & 1) << 1 | ((cm.bitmap1[0] >> k) & 1);
      const double x = left + c * cell, y = top + r * cell;
      svg.rect(x, y, cell, cell, code_colour[code]);
      svg.text(x + cell / 2.0, y + 16, label("k=", k), 10);
      std::string bits;
      for (int b = 2; b >= 0; --b) bits += ((code >> b) & 1) ? '1' : '0';
      svg.text(x + cell / 2.0, y + 36, bits, 14, "middle", "bold");
      int decoder = -1;  // the lane whose a_frag_bit() is k, for either half
      for (int lane = 0; lane < kWarpLanes; ++lane)
        for (int half = 0; half < 2; ++half)
          if (a_frag_bit(lane, half) == k) decoder = lane;
      svg.text(x + cell / 2.0, y + 54, label("T", decoder), 10);
    }
    const double lx = left + 8 * cell + 20;
    for (uint32_t code = 0; code < 8; ++code) {
      svg.rect(lx, top + 24 * code, 18, 18, code_colour[code]);
      char what[64];
      if (code == 0)
        std::snprintf(what, sizeof what, "code 0: fallback, 16 bits in `full`");
      else
        std::snprintf(what, sizeof what, "code %u: exponent %u", code, (cm.start_exp + code) & 0xFFu);
      svg.text(lx + 26, top + 24 * code + 14, what, 11, "start");
    }
    svg.text(lx, top + 220, label("start_exp = ", cm.start_exp), 11, "start");
    svg.text(lx, top + 240, "bitmap_i holds bit i-1 of every code", 11, "start");
    svg.text(lx, top + 260, "indicator = b1 | b2 | b3", 11, "start");
    svg.save(dir + "/fragtile_bits.svg");
    return;
  }
  throw std::runtime_error("no tensor " + name);
}

// A 64x64 block tile: strips (colour), slices (thick lines), FragTiles numbered in storage order.
void tile_hierarchy(const std::string& dir) {
  const int cell = 56, left = 90, top = 56;
  Svg svg;
  svg.text(left + 4 * cell, 22, "One 64 x 64 block tile: FragTiles (8 x 8) in storage order", 14, "middle", "bold");
  svg.text(left + 4 * cell, 42, "from place_element(): index = 16 s + 4 q + 2 j + i; a_(2j+i) is the mma register", 11);
  for (int fr = 0; fr < 8; ++fr)
    for (int fc = 0; fc < 8; ++fc) {
      const ElementPlace p = place_element(8 * fr, 8 * fc, 1);
      const double x = left + fc * cell, y = top + fr * cell;
      svg.rect(x, y, cell, cell, kRegColour[p.strip]);
      svg.text(x + cell / 2.0, y + 24, std::to_string(p.fragtile), 15, "middle", "bold");
      svg.text(x + cell / 2.0, y + 42, label("a", p.fragtile_in_slice), 10);
    }
  for (int q = 0; q <= 4; ++q) svg.line(left + 2 * q * cell, top, left + 2 * q * cell, top + 8 * cell, "#000", 2.5);
  for (int s = 0; s <= 4; ++s) svg.line(left, top + 2 * s * cell, left + 8 * cell, top + 2 * s * cell, "#000", 2.5);
  for (int s = 0; s < 4; ++s) svg.text(left - 10, top + (2 * s + 1) * cell + 4, label("strip ", s), 12, "end");
  for (int q = 0; q < 4; ++q)
    svg.text(left + (2 * q + 1) * cell, top + 8 * cell + 20, label("slice ", q), 12);
  svg.text(left + 4 * cell, top + 8 * cell + 44,
           "strip = 16 x 64 (one warp), slice = 16 x 16 (one mma A operand), FragTile = 8 x 8 (one word per bitmap)", 11);
  svg.save(dir + "/tile_hierarchy.svg");
}

// The exponent histogram of all BF16 weights of one fixture, the chosen window shaded.
void histogram(const std::string& dir, const std::string& data_dir, const std::string& fixture) {
  ExponentHistogram h{};
  size_t tensors = 0;
  for (const auto& m : st::load_bf16_matrices(data_dir + "/" + fixture + ".safetensors")) {
    const ExponentHistogram hm = exponent_histogram(m.values.data(), m.values.size());
    for (int e = 0; e < 256; ++e) h[e] += hm[e];
    ++tensors;
  }
  const ExponentWindow w = choose_window(h);
  int first = 255, last = 0;
  uint64_t peak = 0;
  for (int e = 0; e < 256; ++e)
    if (h[e] * 2000 >= w.total) first = std::min(first, e), last = std::max(last, e), peak = std::max(peak, h[e]);
  first = std::min(first, w.lo - 1), last = std::max(last, w.lo + 7);
  const int bar = 30, left = 60, top = 60, height = 260;
  Svg svg;
  char title[256];
  std::snprintf(title, sizeof title, "%s: exponents of %llu BF16 weights in %zu matrices", fixture.c_str(),
                static_cast<unsigned long long>(w.total), tensors);
  svg.text(left + (last - first + 1) * bar / 2.0, 22, title, 14, "middle", "bold");
  char sub[256];
  std::snprintf(sub, sizeof sub, "shaded: the best window %d..%d (start_exp %u) covers %.1f %% of them", w.lo, w.lo + 6,
                w.start_exp(), 100 * w.coverage());
  svg.text(left + (last - first + 1) * bar / 2.0, 42, sub, 11);
  svg.rect(left + (w.lo - first) * bar, top, 7 * bar, height, "#e8f0fe", "none");
  for (int e = first; e <= last; ++e) {
    const double bh = static_cast<double>(h[e]) / peak * (height - 20);
    const double x = left + (e - first) * bar;
    svg.rect(x + 3, top + height - bh, bar - 6, bh, e >= w.lo && e < w.lo + 7 ? "#2171b5" : "#ff9d9d");
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f", 100.0 * h[e] / w.total);
    svg.text(x + bar / 2.0, top + height - bh - 4, pct, 8);
    svg.text(x + bar / 2.0, top + height + 14, std::to_string(e), 9);
    svg.text(x + bar / 2.0, top + height + 28, std::to_string(e - 127), 8);
  }
  svg.line(left, top + height, left + (last - first + 1) * bar, top + height, "#000", 1);
  svg.text(left - 6, top + height + 14, "e", 9, "end");
  svg.text(left - 6, top + height + 28, "e-127", 8, "end");
  svg.text(left + (last - first + 1) * bar / 2.0, top + height + 52,
           "bar label: % of all weights; exponents below 0.05 % outside the window are not drawn", 10);
  svg.save(dir + "/histogram_" + fixture + ".svg");
}


uint32_t float_bits(float f) { return std::bit_cast<uint32_t>(f); }

// One measured H100 dot product (the first whose GPU result differs from the reference's
// sequential order) through the sm90 model: every product's exact bits placed by weight, the
// anchor, the last kept bit, the dropped bits, the fixed-point sum and the 24 bits kept of it.
void tensor_core_alignment(const std::string& dir, const std::string& data_dir) {
  const MmaNumerics numerics = MmaNumerics::sm90;
  const TensorCoreParams& params = tensor_core_params(numerics);
  const TensorCoreValidation data = load_tensor_core_validation(data_dir + "/tensor-core-validation", numerics);
  size_t pick = 0;
  float ieee = 0.0f;
  for (; pick < data.cases.size(); ++pick) {
    const TensorCoreCase& tc = data.cases[pick];
    uint16_t a[16], b[16];
    std::copy(tc.a.begin(), tc.a.end(), a);
    std::copy(tc.b.begin(), tc.b.end(), b);
    ieee = mma_dot16(MmaNumerics::ieee_sequential, a, b, tc.c);
    if (float_bits(ieee) != float_bits(tc.d)) break;
  }
  if (pick == data.cases.size()) throw std::runtime_error("no H100 case differs from ieee_sequential");
  const TensorCoreCase& tc = data.cases[pick];
  const AlignedBlock block = align_block(params, tc.a, tc.b, tc.c);
  const float d = normalize_truncate_fp32(block.sum, block.lsb_exponent);

  // Columns: bit weights 2^hi .. 2^lo (left to right); 8 dropped positions are drawn below lsb.
  const uint64_t magnitude = block.sum < 0 ? 0 - static_cast<uint64_t>(block.sum) : static_cast<uint64_t>(block.sum);
  const int sum_top = block.lsb_exponent + std::bit_width(magnitude) - 1;
  const int hi = std::max(block.anchor_exponent + 1, sum_top), lo = block.lsb_exponent - 8;
  const int cell = 13, row = 17, left = 250, top = 78, columns = hi - lo + 1;
  const int width = std::max(left + columns * cell + 30, 1020);
  Svg svg;
  char title[160];
  std::snprintf(title, sizeof title,
                "sm90 (H100): measured case %zu of data/tensor-core-validation/H100, aligned and truncated", pick + 1);
  svg.text(width / 2.0, 22, title, 14, "middle", "bold");
  char sub[256];
  std::snprintf(sub, sizeof sub,
                "anchor E = %d (largest exponent of a product or c); kept: %d fraction bits below 2^E, last kept bit 2^%d",
                block.anchor_exponent, 23 + params.extra_alignment_bits, block.lsb_exponent);
  svg.text(width / 2.0, 42, sub, 11);
  // Column headers: the weight of each bit, every 4th labelled.
  for (int p = hi; p >= lo; --p) {
    const double x = left + (hi - p) * cell;
    if (p % 4 == 0 || p == block.anchor_exponent || p == block.lsb_exponent)
      svg.text(x + cell / 2.0, top - 6, std::to_string(p), 8);
  }
  svg.text(left - 8, top - 6, "bit weight 2^p, p =", 9, "end");
  auto draw_bit = [&](int p, int y, bool one, bool kept, const char* kept_fill) {
    const double x = left + (hi - p) * cell;
    svg.rect(x, y, cell, row - 2, kept ? (one ? kept_fill : "#eef3fb") : (one ? "#f4a6a6" : "#fbe3e3"), "#bbb", 0.3);
    svg.text(x + cell / 2.0, y + 12, one ? "1" : "0", 9, "middle", one ? "bold" : "normal");
  };
  for (int i = 0; i < block.count; ++i) {
    const AlignedTerm& t = block.terms[i];
    const int y = top + i * row;
    const double value = std::ldexp(static_cast<double>(t.significand), t.exponent - t.fraction_bits) * (t.negative ? -1 : 1);
    char name[96];
    if (t.is_c) std::snprintf(name, sizeof name, "c = %+.6g", value);
    else std::snprintf(name, sizeof name, "product %d = %+.6g", i, value);
    svg.text(left - 8, y + 12, name, 10, "end", t.is_c ? "bold" : "normal");
    const int low_bit = t.exponent - t.fraction_bits;
    const int top_bit = low_bit + std::bit_width(t.significand) - 1;
    for (int p = std::min(hi, top_bit); p >= std::max(lo, low_bit); --p)
      draw_bit(p, y, (t.significand >> (p - low_bit)) & 1, p >= block.lsb_exponent, t.is_c ? "#9fd39f" : "#7fb2e5");
    if (low_bit < lo) svg.text(left + columns * cell + 4, y + 12, "...", 10, "start");
  }
  // The fixed-point sum, then the 24 bits kept of it.
  const int ys = top + block.count * row + 8, yr = ys + row + 4;
  svg.line(left, ys - 4, left + columns * cell, ys - 4, "#000", 1);
  svg.text(left - 8, ys + 12, block.sum < 0 ? "sum (negative)" : "sum", 10, "end", "bold");
  for (int p = sum_top; p >= block.lsb_exponent; --p)
    draw_bit(p, ys, (magnitude >> (p - block.lsb_exponent)) & 1, true, "#c9a0dc");
  char result[128];
  std::snprintf(result, sizeof result, "d = %+.9g (0x%08X)", d, float_bits(d));
  svg.text(left - 8, yr + 12, result, 10, "end", "bold");
  for (int p = sum_top; p >= block.lsb_exponent; --p)
    draw_bit(p, yr, (magnitude >> (p - block.lsb_exponent)) & 1, p > sum_top - 24, "#ffd27f");
  // The anchor's units bit and the cut below the last kept bit.
  const double x_anchor = left + (hi - block.anchor_exponent) * cell, x_cut = left + (hi - block.lsb_exponent + 1) * cell;
  svg.line(x_anchor, top - 2, x_anchor, yr + row, "#1a5fb4", 1.2);
  svg.line(x_cut, top - 2, x_cut, ys - 4, "#c01c28", 2);
  const double x_keep = left + (hi - (sum_top - 24)) * cell;
  svg.line(x_keep, yr - 2, x_keep, yr + row, "#c01c28", 2);
  const int yt = yr + row + 22;
  svg.text(left, yt, "blue line: the anchor's units bit 2^E (products keep 2 integer bits: unnormalised, in [1, 4)).", 10, "start");
  svg.text(left, yt + 15, "red line: the last kept bit; red cells are truncated before the sum (toward zero, per term).", 10, "start");
  svg.text(left, yt + 30, "last row: the sum normalised once, its leading 24 bits kept, the rest truncated (RZ).", 10, "start");
  char compare[256];
  std::snprintf(compare, sizeof compare, "H100 wrote 0x%08X; the model gives 0x%08X; ieee_sequential (one rounded add per product) gives 0x%08X",
                float_bits(tc.d), float_bits(d), float_bits(ieee));
  svg.text(20, yt + 48, compare, 10, "start", "bold");
  svg.save(dir + "/tensor_core_alignment.svg");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <output dir> <data dir>\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1], data = argv[2];
  lane_map(out);
  fragtile_bits(out, data);
  tile_hierarchy(out);
  histogram(out, data, "stories260K");
  histogram(out, data, "use-lite-en");
  tensor_core_alignment(out, data);
  std::printf("figures written to %s\n", out.c_str());
  return 0;
}
