// Planning and laying out a compressed model (see compression_plan.h).
#include "compression_plan.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "progress_line.h"
#include "row_bands.h"
#include "zipserv/container/checksum.h"
#include "zipserv/reference/parallel_for.h"

namespace zipserv::st::detail {

std::string checksum_in_pieces(const SafetensorsFile& file, std::span<const uint8_t> bytes) {
  Xxh3Stream checksum;
  SequentialRelease read(file, bytes);
  for (size_t at = 0; at < bytes.size(); at += kPieceBytes) {
    const size_t n = std::min(kPieceBytes, bytes.size() - at);
    checksum.update(bytes.subspan(at, n));
    read.done_until(at + n);
  }
  return checksum.hex();
}

std::string raw_by_shape_reason(const std::string& dtype, const std::vector<int64_t>& shape) {
  if (dtype != "BF16" || shape.size() != 2) return "not a 2-D BF16 tensor";
  if (shape[0] == 0 || shape[1] == 0) return "empty";
  if (!tca_tbe_shape_supported(shape[0], shape[1])) return "too large to encode (2^31 padded elements or more)";
  return "";
}

std::vector<TensorPlan> plan_compression(const SafetensorsFile& file, int threads, bool progress) {
  const auto& tensors = file.tensors();
  std::vector<TensorPlan> plans(tensors.size());
  ProgressLine line("zipserv: sizing", tensors.size(), progress);
  parallel_for(static_cast<int64_t>(tensors.size()), threads, [&](size_t i) {
    const TensorInfo& t = tensors[i];
    TensorPlan& p = plans[i];
    p.tensor = &t;
    const auto bytes = file.bytes(t);
    p.checksum = checksum_in_pieces(file, bytes);
    p.reason = raw_by_shape_reason(t.dtype, t.shape);
    if (p.reason.empty()) {
      // Two passes, each releasing what it has read; a pass starts again at the first band.
      std::optional<SequentialRelease> read;
      p.sizes = size_tca_tbe(bytes, t.shape[0], t.shape[1], [&](std::span<const uint8_t> band) {
        if (band.data() == bytes.data()) read.emplace(file, bytes);
        read->done_until(static_cast<size_t>(band.data() - bytes.data()) + band.size());
      });
      p.sized = true;
      if (static_cast<uint64_t>(p.sizes.payload_bytes()) >= t.byte_size())
        p.reason = kWouldNotShrinkReason;
      else
        p.storage = Storage::tca_tbe;
    }
    file.release(t);
    line.step(t.byte_size());
  });
  return plans;
}

CompressedLayout layout_compressed(const SafetensorsFile& file, const std::vector<TensorPlan>& plans) {
  std::map<std::string, std::string> metadata;
  for (const auto& [k, v] : file.metadata()) {
    if (k.starts_with("zipserv."))
      throw ContainerError(file.path() + ": metadata key \"" + k + "\" is reserved for the compressed format");
    metadata[k] = v;
  }
  metadata[std::string(kFormatKey)] = kFormatName;
  metadata[std::string(kFormatVersionKey)] = kFormatVersion;
  metadata[std::string(kOriginalHeaderKey)] = file.header_json();
  metadata[std::string(kOriginalHeaderChecksumKey)] = xxh3_128_hex(file.header_json());

  CompressedLayout out;
  for (const TensorPlan& p : plans) {
    const TensorInfo& t = *p.tensor;
    nlohmann::ordered_json record;
    record["encoding"] = p.storage == Storage::tca_tbe ? "tca-tbe" : "raw";
    record["dtype"] = t.dtype;
    record["shape"] = t.shape;
    out.first_decl.push_back(out.decls.size());
    if (p.storage == Storage::tca_tbe) {
      record["start_exp"] = p.sizes.window.start_exp();
      const TcaTbeSizes& s = p.sizes;
      const std::vector<int64_t> bitmap_shape{s.fragtiles};
      out.decls.push_back({t.name + kArraySuffixes[0], "U64", bitmap_shape});
      out.decls.push_back({t.name + kArraySuffixes[1], "U64", bitmap_shape});
      out.decls.push_back({t.name + kArraySuffixes[2], "U64", bitmap_shape});
      out.decls.push_back({t.name + kArraySuffixes[3], "I32", {s.block_tiles + 1, 2}});
      out.decls.push_back({t.name + kArraySuffixes[4], "I32", {4 * s.block_tiles, 2}});
      out.decls.push_back({t.name + kArraySuffixes[5], "BF16", {s.full_values}});
      out.decls.push_back({t.name + kArraySuffixes[6], "U8", {s.sign_mantissa_bytes}});
    } else {
      out.decls.push_back({t.name, t.dtype, t.shape});
    }
    record["xxh3_128"] = p.checksum;
    metadata[std::string(kTensorKeyPrefix) + t.name] = record.dump();
  }
  try {
    out.layout = layout_safetensors(out.decls, metadata);
  } catch (const ContainerError& e) {
    // Only a name clash can fail here, e.g. an original tensor already called "W.zipserv.full".
    throw ContainerError(file.path() + ": " + e.what());
  }
  return out;
}

}  // namespace zipserv::st::detail
