// Opening a compressed model: every cross-check between the original header, the per-tensor
// records and the stored tensors happens here, before anything is decoded.
#include "zipserv/container/compressed_model.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "row_bands.h"
#include "zipserv/reference/block_tile_band.h"
#include "zipserv/container/checksum.h"
#include "zipserv/reference/decode.h"
#include "zipserv/container/tca_tbe_sizing.h"

namespace zipserv::st {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ContainerError(where + ": " + what);
}

const std::string& metadata_value(const SafetensorsFile& f, std::string_view key) {
  const auto it = f.metadata().find(std::string(key));
  if (it == f.metadata().end()) fail(f.path(), "metadata \"" + std::string(key) + "\" missing");
  return it->second;
}

bool is_checksum_text(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// The stored tensor `name` must exist with exactly this dtype and shape.
const TensorInfo& stored_tensor(const SafetensorsFile& f, const std::string& name, const std::string& dtype,
                                const std::vector<int64_t>& shape) {
  const TensorInfo* t = f.find(name);
  if (!t) fail(f.path(), "stored tensor \"" + name + "\" missing");
  if (t->dtype != dtype) fail(f.path(), "stored tensor \"" + name + "\" has dtype " + t->dtype + ", expected " + dtype);
  if (t->shape != shape) fail(f.path(), "stored tensor \"" + name + "\" has a shape other than the metadata implies");
  return *t;
}

template <class T>
std::vector<T> copy_array(const SafetensorsFile& f, const TensorInfo& t) {
  const auto bytes = f.bytes(t);
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace

bool is_compressed_model(const SafetensorsFile& file) { return file.metadata().contains(std::string(kFormatKey)); }

struct CompressedModel::Impl {
  SafetensorsFile file;
  std::string original_header;
  uint64_t original_file_size = 0;
  std::vector<ModelEntry> entries;
  // Per entry: the stored tensors (7 for tca_tbe, 1 for raw), pointers into file.tensors().
  std::vector<std::vector<const TensorInfo*>> stored;
};

CompressedModel::CompressedModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompressedModel::CompressedModel(CompressedModel&&) noexcept = default;
CompressedModel& CompressedModel::operator=(CompressedModel&&) noexcept = default;
CompressedModel::~CompressedModel() = default;

CompressedModel CompressedModel::open(const std::string& path) { return from_file(SafetensorsFile::open(path)); }

CompressedModel CompressedModel::from_bytes(std::span<const uint8_t> bytes, const std::string& name) {
  return from_file(SafetensorsFile::from_bytes(bytes, name));
}

CompressedModel CompressedModel::from_file(SafetensorsFile file) {
  const std::string path = file.path();
  auto impl = std::make_unique<Impl>(Impl{std::move(file), {}, 0, {}, {}});
  const SafetensorsFile& f = impl->file;
  if (!is_compressed_model(f)) fail(path, "not a zipserv compressed model (a plain safetensors file?)");
  if (metadata_value(f, kFormatKey) != kFormatName)
    fail(path, "unknown format \"" + metadata_value(f, kFormatKey) + "\"");
  if (metadata_value(f, kFormatVersionKey) != kFormatVersion)
    fail(path, "unsupported format version \"" + metadata_value(f, kFormatVersionKey) + "\" (this build reads " +
                   std::string(kFormatVersion) + ")");

  // 1. The original header: intact (checksum) and itself valid safetensors.
  impl->original_header = metadata_value(f, kOriginalHeaderKey);
  if (impl->original_header.size() > kMaxHeaderBytes) fail(path, "original header is implausibly long");
  if (xxh3_128_hex(impl->original_header) != metadata_value(f, kOriginalHeaderChecksumKey))
    fail(path, "checksum of the original header does not match (damaged metadata)");
  const SafetensorsHeader original = parse_header(impl->original_header, path + ": original header");
  impl->original_file_size = 8 + impl->original_header.size() + original.data_size;

  // 2. One record per original tensor, agreeing with the original header.
  size_t records = 0;
  for (const auto& [k, v] : f.metadata()) records += k.starts_with(kTensorKeyPrefix);
  if (records != original.tensors.size())
    fail(path, std::to_string(records) + " tensor records in the metadata but the original header lists " +
                   std::to_string(original.tensors.size()) + " tensors");
  std::set<const TensorInfo*> claimed;
  for (const TensorInfo& t : original.tensors) {
    const std::string at = "tensor \"" + t.name + "\"";
    const std::string key = std::string(kTensorKeyPrefix) + t.name;
    const auto it = f.metadata().find(key);
    if (it == f.metadata().end()) fail(path, at + " has no record in the metadata");
    json r;
    try {
      r = json::parse(it->second);
    } catch (const json::exception&) {
      fail(path, at + ": its metadata record is not valid JSON");
    }
    if (!r.is_object() || !r.contains("encoding") || !r["encoding"].is_string() || !r.contains("dtype") ||
        !r["dtype"].is_string() || !r.contains("shape") || !r["shape"].is_array() || !r.contains("xxh3_128") ||
        !r["xxh3_128"].is_string())
      fail(path, at + ": its metadata record lacks encoding, dtype, shape or xxh3_128");
    ModelEntry e;
    e.name = t.name;
    e.dtype = r["dtype"].get<std::string>();
    for (const json& d : r["shape"]) {
      if (!d.is_number_unsigned()) fail(path, at + ": shape in its metadata record is not a list of sizes");
      e.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    }
    if (e.dtype != t.dtype || e.shape != t.shape)
      fail(path, at + ": dtype or shape in its metadata record differ from the original header");
    e.checksum = r["xxh3_128"].get<std::string>();
    if (!is_checksum_text(e.checksum)) fail(path, at + ": checksum in its metadata record is not 32 hex digits");
    e.original_begin = t.begin;
    e.original_bytes = t.byte_size();
    const std::string encoding = r["encoding"].get<std::string>();
    std::vector<const TensorInfo*> stored;
    if (encoding == "raw") {
      e.storage = Storage::raw;
      stored.push_back(&stored_tensor(f, t.name, t.dtype, t.shape));
    } else if (encoding == "tca-tbe") {
      e.storage = Storage::tca_tbe;
      if (t.dtype != "BF16" || t.shape.size() != 2 || !tca_tbe_shape_supported(t.shape[0], t.shape[1]))
        fail(path, at + ": only 2-D BF16 tensors of supported shape can be tca-tbe encoded");
      if (!r.contains("start_exp") || !r["start_exp"].is_number_unsigned() || r["start_exp"].get<uint64_t>() > 255)
        fail(path, at + ": start_exp missing or not in 0..255");
      e.start_exp = static_cast<uint8_t>(r["start_exp"].get<uint64_t>());
      const int64_t rows = t.shape[0], cols = t.shape[1];
      const int64_t Mp = pad_to_block_tile(rows), Kp = pad_to_block_tile(cols), T = Mp / 64 * (Kp / 64);
      const std::vector<int64_t> bitmap{Mp / 8 * (Kp / 8)};
      stored.push_back(&stored_tensor(f, t.name + kArraySuffixes[0], "U64", bitmap));
      stored.push_back(&stored_tensor(f, t.name + kArraySuffixes[1], "U64", bitmap));
      stored.push_back(&stored_tensor(f, t.name + kArraySuffixes[2], "U64", bitmap));
      stored.push_back(&stored_tensor(f, t.name + kArraySuffixes[3], "I32", {T + 1, 2}));
      stored.push_back(&stored_tensor(f, t.name + kArraySuffixes[4], "I32", {4 * T, 2}));
      // The two streams' lengths follow from the offsets, which validate() checks on read.
      for (int a : {5, 6}) {
        const std::string name = t.name + kArraySuffixes[a];
        const TensorInfo* s = f.find(name);
        if (!s) fail(path, "stored tensor \"" + name + "\" missing");
        if (s->dtype != (a == 5 ? "BF16" : "U8") || s->shape.size() != 1)
          fail(path, "stored tensor \"" + name + "\" must be a 1-D " + (a == 5 ? "BF16" : "U8") + " array");
        stored.push_back(s);
      }
    } else {
      fail(path, at + ": unknown encoding \"" + encoding + "\"");
    }
    for (const TensorInfo* s : stored) {
      e.stored_bytes += s->byte_size();
      if (!claimed.insert(s).second) fail(path, "stored tensor \"" + s->name + "\" is claimed twice");
    }
    impl->entries.push_back(std::move(e));
    impl->stored.push_back(std::move(stored));
  }
  // 3. Nothing else: a stray tensor means the file is not what its metadata says.
  if (claimed.size() != f.tensors().size())
    fail(path, std::to_string(f.tensors().size() - claimed.size()) + " stored tensors belong to no original tensor");
  return CompressedModel(std::move(impl));
}

const std::vector<ModelEntry>& CompressedModel::entries() const { return impl_->entries; }
std::string_view CompressedModel::original_header() const { return impl_->original_header; }
uint64_t CompressedModel::original_file_size() const { return impl_->original_file_size; }
const SafetensorsFile& CompressedModel::file() const { return impl_->file; }

const ModelEntry* CompressedModel::find(std::string_view name) const {
  for (const ModelEntry& e : impl_->entries)
    if (e.name == name) return &e;
  return nullptr;
}

namespace {
size_t entry_index(const std::vector<ModelEntry>& entries, const ModelEntry& entry, const std::string& path) {
  if (&entry < entries.data() || &entry >= entries.data() + entries.size())
    fail(path, "entry \"" + entry.name + "\" does not belong to this model");
  return static_cast<size_t>(&entry - entries.data());
}
}  // namespace

CompressedMatrix CompressedModel::read_matrix(const ModelEntry& entry, bool verify_checksum) const {
  const SafetensorsFile& f = impl_->file;
  const auto& stored = impl_->stored[entry_index(impl_->entries, entry, f.path())];
  if (entry.storage != Storage::tca_tbe) fail(f.path(), "tensor \"" + entry.name + "\" is stored raw, not TCA-TBE");
  CompressedMatrix m;
  m.rows = entry.shape[0];
  m.cols = entry.shape[1];
  m.start_exp = entry.start_exp;
  m.bitmap1 = copy_array<uint64_t>(f, *stored[0]);
  m.bitmap2 = copy_array<uint64_t>(f, *stored[1]);
  m.bitmap3 = copy_array<uint64_t>(f, *stored[2]);
  m.global_offsets = copy_array<int32_t>(f, *stored[3]);
  m.median_offsets = copy_array<int32_t>(f, *stored[4]);
  m.full = copy_array<uint16_t>(f, *stored[5]);
  m.sign_mantissa = copy_array<uint8_t>(f, *stored[6]);
  f.check_intact();  // before validate(): zeros read past a shrunken end are no format error
  try {
    validate(m);
  } catch (const FormatError& e) {
    fail(f.path(), "tensor \"" + entry.name + "\": " + e.what());
  }
  if (verify_checksum) {
    const std::vector<uint16_t> values = decode(m);
    if (xxh3_128_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()), values.size() * 2)) !=
        entry.checksum)
      fail(f.path(), "tensor \"" + entry.name + "\": decoded weights do not match the original checksum (damaged data)");
  }
  return m;
}

void CompressedModel::decode_entry_into(const ModelEntry& entry, std::span<uint8_t> out) const {
  const SafetensorsFile& f = impl_->file;
  entry_index(impl_->entries, entry, f.path());
  if (out.size() != entry.original_bytes) fail(f.path(), "tensor \"" + entry.name + "\": output buffer has the wrong size");
  decode_entry_in_pieces(entry, [&](uint64_t offset, std::span<const uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(out.data() + offset, bytes.data(), bytes.size());
  });
}

namespace {

// Copies elements [first, end) of a stored array into `out` (the mapping may be misaligned).
template <class T>
void copy_range(std::span<const uint8_t> array, int64_t first, int64_t end, std::vector<T>& out) {
  out.resize(static_cast<size_t>(end - first));
  if (end > first) std::memcpy(out.data(), array.data() + first * sizeof(T), out.size() * sizeof(T));
}

// The pieces of a TCA-TBE entry: each band of block-tile rows is copied out of the seven stored
// arrays into `band` (its global offsets counted from the band's first pair), validated and
// decoded (block_tile_band.h). `arrays` are the stored arrays in kArraySuffixes order.
void decode_tca_tbe_bands(const SafetensorsFile& f, const ModelEntry& entry, const std::span<const uint8_t> (&arrays)[7],
                          Xxh3Stream& checksum,
                          const std::function<void(uint64_t, std::span<const uint8_t>)>& piece) {
  const std::string at = "tensor \"" + entry.name + "\": ";
  const int64_t rows = entry.shape[0], cols = entry.shape[1], KB = pad_to_block_tile(cols) / kBlockTileDim;
  const int64_t T = pad_to_block_tile(rows) / kBlockTileDim * KB;
  const int64_t hf_size = static_cast<int64_t>(arrays[6].size()), fb_size = static_cast<int64_t>(arrays[5].size() / 2);
  // validate()'s checks of the whole: the offsets start at (0, 0) and end at the streams' ends
  // (open() already checked every other array's length against the shape).
  int32_t first_pair[2], last_pair[2];
  std::memcpy(first_pair, arrays[3].data(), sizeof first_pair);
  std::memcpy(last_pair, arrays[3].data() + T * sizeof last_pair, sizeof last_pair);
  try {
    validate_offset_totals(first_pair, last_pair, hf_size, fb_size);
  } catch (const FormatError& e) {
    fail(f.path(), at + e.what());
  }
  detail::SequentialRelease read[7] = {{f, arrays[0]}, {f, arrays[1]}, {f, arrays[2]}, {f, arrays[3]},
                                       {f, arrays[4]}, {f, arrays[5]}, {f, arrays[6]}};
  CompressedMatrix band;
  band.cols = cols;
  band.start_exp = entry.start_exp;
  std::vector<uint16_t> decoded;  // (band rows, cols) bf16
  const int64_t step = detail::rows_per_band(cols);
  for (int64_t r0 = 0; r0 < rows; r0 += step) {
    band.rows = std::min(step, rows - r0);
    const int64_t g0 = r0 / kBlockTileDim, t0 = g0 * KB, t1 = t0 + pad_to_block_tile(band.rows) / kBlockTileDim * KB;
    copy_range(arrays[0], t0 * kFragTilesPerBlockTile, t1 * kFragTilesPerBlockTile, band.bitmap1);
    copy_range(arrays[1], t0 * kFragTilesPerBlockTile, t1 * kFragTilesPerBlockTile, band.bitmap2);
    copy_range(arrays[2], t0 * kFragTilesPerBlockTile, t1 * kFragTilesPerBlockTile, band.bitmap3);
    copy_range(arrays[3], 2 * t0, 2 * t1 + 2, band.global_offsets);
    copy_range(arrays[4], 8 * t0, 8 * t1, band.median_offsets);
    // The band's first pair is where the previous band ended, which that band's validation kept
    // inside the streams (and the first band's is (0, 0)). Its last pair is not trusted yet: the
    // streams are copied no further than they go, and validate_band() finds the tile at fault.
    const int64_t hf_lo = band.global_offsets[0], fb_lo = band.global_offsets[1];
    const int64_t hf_hi = std::clamp<int64_t>(band.global_offsets.end()[-2], hf_lo, hf_size);
    const int64_t fb_hi = std::clamp<int64_t>(band.global_offsets.end()[-1], fb_lo, fb_size);
    for (size_t i = 0; i < band.global_offsets.size(); i += 2) {
      // Saturated, not wrapped: a damaged offset far away must stay far away.
      band.global_offsets[i] = static_cast<int32_t>(std::clamp<int64_t>(
          int64_t{band.global_offsets[i]} - hf_lo, INT32_MIN, INT32_MAX));
      band.global_offsets[i + 1] = static_cast<int32_t>(std::clamp<int64_t>(
          int64_t{band.global_offsets[i + 1]} - fb_lo, INT32_MIN, INT32_MAX));
    }
    copy_range(arrays[6], hf_lo, hf_hi, band.sign_mantissa);
    copy_range(arrays[5], fb_lo, fb_hi, band.full);
    f.check_intact();  // the band is the file's, not zeros read past a shrunken end
    decoded.resize(static_cast<size_t>(band.rows * cols));
    try {
      decode_band_into(band, g0, decoded.data());
    } catch (const FormatError& e) {
      fail(f.path(), at + e.what());
    }
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(decoded.data()), decoded.size() * 2);
    checksum.update(bytes);
    piece(static_cast<uint64_t>(r0 * cols) * 2, bytes);
    const size_t done[7] = {static_cast<size_t>(t1) * kFragTilesPerBlockTile * 8, static_cast<size_t>(t1) * kFragTilesPerBlockTile * 8,
                            static_cast<size_t>(t1) * kFragTilesPerBlockTile * 8, static_cast<size_t>(t1) * 8,
                            static_cast<size_t>(t1) * 8 * 4, static_cast<size_t>(fb_hi) * 2, static_cast<size_t>(hf_hi)};
    for (int a = 0; a < 7; ++a) read[a].done_until(done[a]);
  }
}

}  // namespace

void CompressedModel::decode_entry_in_pieces(
    const ModelEntry& entry, const std::function<void(uint64_t offset, std::span<const uint8_t> bytes)>& piece) const {
  const SafetensorsFile& f = impl_->file;
  const auto& stored = impl_->stored[entry_index(impl_->entries, entry, f.path())];
  Xxh3Stream checksum;
  if (entry.storage == Storage::raw) {
    const auto bytes = f.bytes(*stored[0]);
    detail::SequentialRelease read(f, bytes);
    for (size_t at = 0; at < bytes.size(); at += detail::kPieceBytes) {
      const auto part = bytes.subspan(at, std::min(detail::kPieceBytes, bytes.size() - at));
      checksum.update(part);
      f.check_intact();  // `part` was read from the file, not past a shrunken end
      piece(at, part);
      read.done_until(at + part.size());
    }
  } else {
    const std::span<const uint8_t> arrays[7] = {f.bytes(*stored[0]), f.bytes(*stored[1]), f.bytes(*stored[2]),
                                                f.bytes(*stored[3]), f.bytes(*stored[4]), f.bytes(*stored[5]),
                                                f.bytes(*stored[6])};
    decode_tca_tbe_bands(f, entry, arrays, checksum, piece);
  }
  if (checksum.hex() != entry.checksum)
    fail(f.path(), "tensor \"" + entry.name + "\": bytes do not match the original checksum (damaged data)");
}

void CompressedModel::release(const ModelEntry& entry) const {
  for (const TensorInfo* t : impl_->stored[entry_index(impl_->entries, entry, impl_->file.path())])
    impl_->file.release(*t);
}

std::vector<uint8_t> CompressedModel::decode_entry(const ModelEntry& entry) const {
  std::vector<uint8_t> out(entry.original_bytes);
  decode_entry_into(entry, out);
  return out;
}

}  // namespace zipserv::st
