// inspect(): per-tensor TCA-TBE figures, read from a compressed model or predicted for a plain
// one by the compressor's own plan.
#include "zipserv/container/model_stats.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "compression_plan.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/parallel_for.h"

namespace zipserv::st {
namespace {

double ratio_of(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

// original / stored bytes. Nothing stored for nothing (an empty tensor, a model without TCA-TBE
// weights) is no change: 1, not 0, which would read as "grew without bound".
double size_ratio(uint64_t original, uint64_t stored) { return original == stored ? 1.0 : ratio_of(original, stored); }

void set_window(TensorStats& s, uint8_t start_exp, uint64_t covered) {
  s.has_window = true;
  s.start_exp = start_exp;
  s.window_lo = (start_exp + 1) & 0xFF;
  s.window_hi = (start_exp + 7) & 0xFF;
  s.covered = covered;
  s.coverage = ratio_of(covered, s.weights);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(shape[i]);
  }
  return shape.empty() ? "scalar" : s;
}

ModelStats inspect_compressed(const CompressedModel& model, int threads) {
  ModelStats stats;
  stats.is_compressed_model = true;
  stats.original_file_bytes = model.original_file_size();
  stats.compressed_file_bytes = model.file().file_size();
  const auto& entries = model.entries();
  stats.tensors.resize(entries.size());
  parallel_for(static_cast<int64_t>(entries.size()), threads, [&](size_t i) {
    const ModelEntry& e = entries[i];
    TensorStats& s = stats.tensors[i];
    s.name = e.name;
    s.dtype = e.dtype;
    s.shape = e.shape;
    s.original_bytes = e.original_bytes;
    s.stored_bytes = e.stored_bytes;
    s.ratio = size_ratio(s.original_bytes, s.stored_bytes);
    if (e.storage == Storage::raw) {
      // compress_file() keeps a tensor it could encode raw for one reason only: it would not shrink.
      s.note = detail::raw_by_shape_reason(e.dtype, e.shape);
      if (s.note.empty()) s.note = detail::kWouldNotShrinkReason;
      return;
    }
    const CompressedMatrix m = model.read_matrix(e, false);  // validated
    s.compressed = true;
    s.weights = static_cast<uint64_t>(m.rows * m.cols);
    // Every non-zero code is a high-frequency element; padding elements are all code 1.
    uint64_t high_frequency = 0;
    for (size_t f = 0; f < m.bitmap1.size(); ++f)
      high_frequency += std::popcount(m.bitmap1[f] | m.bitmap2[f] | m.bitmap3[f]);
    const uint64_t padding = static_cast<uint64_t>(m.padded_rows() * m.padded_cols()) - s.weights;
    set_window(s, m.start_exp, high_frequency - padding);
    s.bits_per_weight = m.bits_per_weight();
  });
  return stats;
}

ModelStats inspect_plain(const SafetensorsFile& file, int threads) {
  ModelStats stats;
  const auto plans = detail::plan_compression(file, threads, false);
  stats.original_file_bytes = file.file_size();
  stats.compressed_file_bytes = detail::layout_compressed(file, plans).layout.file_size;
  for (const auto& p : plans) {
    TensorStats s;
    s.name = p.tensor->name;
    s.dtype = p.tensor->dtype;
    s.shape = p.tensor->shape;
    s.original_bytes = p.tensor->byte_size();
    s.compressed = p.storage == Storage::tca_tbe;
    s.note = p.reason;
    if (p.sized) {
      s.weights = static_cast<uint64_t>(p.sizes.rows * p.sizes.cols);
      set_window(s, p.sizes.window.start_exp(), p.sizes.window.covered);
      s.bits_per_weight = p.sizes.bits_per_weight();
    }
    s.stored_bytes = s.compressed ? static_cast<uint64_t>(p.sizes.payload_bytes()) : s.original_bytes;
    s.ratio = size_ratio(s.original_bytes, s.stored_bytes);
    stats.tensors.push_back(std::move(s));
  }
  return stats;
}

}  // namespace

double ModelStats::coverage() const { return ratio_of(compressed_covered, compressed_weights); }
double ModelStats::bits_per_weight() const {
  return compressed_weights ? 8.0 * static_cast<double>(compressed_payload_bytes) / static_cast<double>(compressed_weights) : 0.0;
}
double ModelStats::weights_ratio() const { return size_ratio(compressed_original_bytes, compressed_payload_bytes); }
double ModelStats::file_ratio() const { return size_ratio(original_file_bytes, compressed_file_bytes); }

ModelStats inspect(const std::string& path, int threads) {
  ModelStats stats;
  bool compressed = false;
  {
    const SafetensorsFile file = SafetensorsFile::open(path);
    compressed = is_compressed_model(file);
    if (!compressed) stats = inspect_plain(file, threads);
  }
  if (compressed) stats = inspect_compressed(CompressedModel::open(path), threads);
  stats.path = path;
  for (const TensorStats& s : stats.tensors) {
    if (!s.compressed) continue;
    stats.compressed_weights += s.weights;
    stats.compressed_covered += s.covered;
    stats.compressed_original_bytes += s.original_bytes;
    stats.compressed_payload_bytes += s.stored_bytes;
  }
  return stats;
}

std::string stats_to_json(const ModelStats& stats) {
  nlohmann::ordered_json j;
  j["file"] = stats.path;
  j["compressed_model"] = stats.is_compressed_model;
  j["tensors"] = nlohmann::ordered_json::array();
  for (const TensorStats& s : stats.tensors) {
    nlohmann::ordered_json t;
    t["name"] = s.name;
    t["dtype"] = s.dtype;
    t["shape"] = s.shape;
    t["compressed"] = s.compressed;
    if (!s.note.empty()) t["note"] = s.note;
    if (s.has_window) {
      t["window"] = {s.window_lo, s.window_hi};
      t["start_exp"] = s.start_exp;
      t["weights"] = s.weights;
      t["covered"] = s.covered;
      t["coverage"] = s.coverage;
      t["bits_per_weight"] = s.bits_per_weight;
    }
    t["original_bytes"] = s.original_bytes;
    t["stored_bytes"] = s.stored_bytes;
    t["ratio"] = s.ratio;
    j["tensors"].push_back(std::move(t));
  }
  j["totals"] = {{"tensors", stats.tensors.size()},
                 {"compressed_weights", stats.compressed_weights},
                 {"coverage", stats.coverage()},
                 {"bits_per_weight", stats.bits_per_weight()},
                 {"weights_ratio", stats.weights_ratio()},
                 {"original_file_bytes", stats.original_file_bytes},
                 {"compressed_file_bytes", stats.compressed_file_bytes},
                 {"file_ratio", stats.file_ratio()}};
  return j.dump(2) + "\n";
}

std::string elide_middle(const std::string& name, size_t width) {
  const size_t marker = std::strlen(kElisionMarker);
  if (name.size() <= width) return name;
  if (width <= marker) return name.substr(0, width);  // no room for a marker
  // The end gets two thirds: names of one model share their start ("model.layers.") and differ
  // towards the end ("17.self_attn.q_proj.weight").
  size_t head = (width - marker) / 3, tail_begin = name.size() - (width - marker - head);
  // Cut between UTF-8 characters, never inside one (continuation bytes are 10xxxxxx).
  auto continuation = [&](size_t i) { return i < name.size() && (static_cast<uint8_t>(name[i]) & 0xC0) == 0x80; };
  while (head > 0 && continuation(head)) --head;
  while (continuation(tail_begin)) ++tail_begin;
  return name.substr(0, head) + kElisionMarker + name.substr(tail_begin);
}

std::string stats_to_text(const ModelStats& stats) {
  // The name column is as wide as the longest name, up to kNameColumnWidth, so every row lines
  // up whatever the model and a long name cannot push the figures off the screen.
  size_t name_width = 6;
  bool elided = false;
  for (const TensorStats& s : stats.tensors) {
    name_width = std::max(name_width, std::min(s.name.size(), kNameColumnWidth));
    elided = elided || s.name.size() > kNameColumnWidth;
  }
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "%s (%s)\n", stats.path.c_str(),
                stats.is_compressed_model ? "compressed model" : "plain model: what compression would give");
  out += line;
  std::snprintf(line, sizeof line, "%-*s  %-5s %-11s %-9s %8s %7s %7s  %s\n", static_cast<int>(name_width), "tensor", "dtype", "shape",
                "window", "coverage", "bits/w", "ratio", "stored as");
  out += line;
  for (const TensorStats& s : stats.tensors) {
    char window[32] = "-", coverage[32] = "-", bits[32] = "-";
    if (s.has_window) {
      std::snprintf(window, sizeof window, "%d..%d", s.window_lo, s.window_hi);
      std::snprintf(coverage, sizeof coverage, "%.2f%%", 100.0 * s.coverage);
      std::snprintf(bits, sizeof bits, "%.3f", s.bits_per_weight);
    }
    const std::string stored_as = s.compressed ? "tca-tbe" : "raw: " + s.note;
    const std::string name = elide_middle(s.name, name_width);
    out += name + std::string(name_width - name.size(), ' ');
    std::snprintf(line, sizeof line, "  %-5s %-11s %-9s %8s %7s %7.3f  %s\n", s.dtype.c_str(), shape_text(s.shape).c_str(),
                  window, coverage, bits, s.ratio, stored_as.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line,
                "totals: %zu tensors; %llu weights as TCA-TBE, %.2f%% inside their window, %.3f bits/weight, "
                "ratio %.3f; file %llu -> %llu bytes, ratio %.3f\n",
                stats.tensors.size(), static_cast<unsigned long long>(stats.compressed_weights), 100.0 * stats.coverage(),
                stats.bits_per_weight(), stats.weights_ratio(), static_cast<unsigned long long>(stats.original_file_bytes),
                static_cast<unsigned long long>(stats.compressed_file_bytes), stats.file_ratio());
  out += line;
  if (elided)
    out += "names longer than " + std::to_string(kNameColumnWidth) + " characters are shortened in the middle (\"" +
           kElisionMarker + "\"); --json gives them in full\n";
  return out;
}

}  // namespace zipserv::st
