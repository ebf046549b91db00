// The safetensors reader: parse and validate the JSON header, then map the file read-only.
// Every check a later reader relies on happens here, once, so bytes() needs no bounds logic.
#include "zipserv/container/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "truncation_guard.h"

namespace zipserv::st {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; this reader hands out raw bytes as they are");

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ContainerError(where + ": " + what);
}

// nlohmann keeps the last of two equal keys without a word; a duplicate tensor name or offset
// field would then be silently ignored, so the parse callback counts keys per object.
json parse_json_rejecting_duplicates(std::string_view text, const std::string& where) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    else if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    else if (event == json::parse_event_t::key && !open_objects.empty() && parsed.is_string() &&
             !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    fail(where, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!duplicate.empty()) fail(where, "header has the key \"" + duplicate + "\" twice");
  return j;
}

uint64_t checked_u64(const json& v, const std::string& where, const std::string& what) {
  if (!v.is_number_unsigned()) fail(where, what + " must be a non-negative integer");
  return v.get<uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const json& e, const std::string& where) {
  const std::string at = where + ": tensor \"" + name + "\"";
  if (!e.is_object()) fail(at, "entry is not an object");
  for (const auto& [key, value] : e.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") fail(at, "unknown field \"" + key + "\"");
  if (!e.contains("dtype") || !e["dtype"].is_string()) fail(at, "dtype missing or not a string");
  if (!e.contains("shape") || !e["shape"].is_array()) fail(at, "shape missing or not an array");
  if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2)
    fail(at, "data_offsets missing or not [begin, end]");
  TensorInfo t;
  t.name = name;
  t.dtype = e["dtype"].get<std::string>();
  const size_t element_bytes = dtype_size(t.dtype);
  if (element_bytes == 0) fail(at, "unsupported dtype \"" + t.dtype + "\"");
  // The element count is multiplied up with an overflow check: a damaged shape must not wrap
  // around to a small number that happens to match the byte length.
  unsigned __int128 bytes = element_bytes;
  for (const json& d : e["shape"]) {
    const uint64_t dim = checked_u64(d, at, "every shape dimension");
    if (dim > (uint64_t{1} << 62)) fail(at, "shape dimension " + std::to_string(dim) + " is out of range");
    t.shape.push_back(static_cast<int64_t>(dim));
    bytes *= dim;
    if (bytes > (static_cast<unsigned __int128>(1) << 63)) fail(at, "shape holds more bytes than any file");
  }
  t.begin = checked_u64(e["data_offsets"][0], at, "data_offsets[0]");
  t.end = checked_u64(e["data_offsets"][1], at, "data_offsets[1]");
  if (t.end < t.begin) fail(at, "data_offsets end before they begin");
  if (static_cast<unsigned __int128>(t.end - t.begin) != bytes)
    fail(at, "shape and dtype give " + std::to_string(static_cast<uint64_t>(bytes)) + " bytes but data_offsets span " +
                 std::to_string(t.end - t.begin));
  return t;
}

}  // namespace

size_t dtype_size(std::string_view dtype) {
  static const std::map<std::string_view, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
      {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"I64", 8},     {"U64", 8}, {"F64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

SafetensorsHeader parse_header(std::string_view text, const std::string& where) {
  const json j = parse_json_rejecting_duplicates(text, where);
  if (!j.is_object()) fail(where, "header is not a JSON object");
  SafetensorsHeader h;
  for (const auto& [key, value] : j.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(where, "__metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail(where, "__metadata__ value of \"" + mk + "\" is not a string");
        h.metadata.emplace(mk, mv.get<std::string>());
      }
      continue;
    }
    h.tensors.push_back(parse_entry(key, value, where));
  }
  // File order is data-offset order; zero-byte tensors share an offset, so the name breaks ties.
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.name < b.name;
  });
  // The tensors must tile the data section exactly: a gap would hide bytes no checksum covers,
  // an overlap would let two names alias one buffer.
  uint64_t cursor = 0;
  for (const TensorInfo& t : h.tensors) {
    if (t.begin < cursor) fail(where, "tensor \"" + t.name + "\" overlaps the tensor before it");
    if (t.begin > cursor)
      fail(where, "gap of " + std::to_string(t.begin - cursor) + " bytes before tensor \"" + t.name + "\"");
    cursor = t.end;
  }
  h.data_size = cursor;
  return h;
}

struct SafetensorsFile::Impl {
  std::string path;
  const uint8_t* map = nullptr;  // the mapping of a file, or owned.data()
  uint64_t size = 0;
  uint64_t header_bytes = 0;
  SafetensorsHeader header;
  std::vector<uint8_t> owned;    // the bytes of a file made by from_bytes(); empty for a mapping
  int fd = -1;                   // kept open to see the file's size now (check_intact())
  std::unique_ptr<detail::TruncationGuard> guard;  // a read past a shrunken end reads zeros
  bool mapped() const { return map != nullptr && owned.empty(); }
  ~Impl() {
    guard.reset();  // before munmap: the address range may be reused at once
    if (mapped()) munmap(const_cast<uint8_t*>(map), size);
    if (fd >= 0) ::close(fd);
  }

  void check_intact() const {
    if (!mapped()) return;
    if (guard->shrank())
      fail(path, "the file shrank while it was being read: a read went past its new end (truncated by another "
                 "program?)");
    struct stat st {};
    if (fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < size)
      fail(path, "the file shrank from " + std::to_string(size) + " to " + std::to_string(st.st_size) +
                     " bytes since it was opened (truncated by another program?)");
  }

  // Everything open() and from_bytes() check once `map` and `size` are set.
  void validate_layout() {
    if (size < 8) fail(path, "too short for a safetensors file (" + std::to_string(size) + " bytes)");
    uint64_t n = 0;
    std::memcpy(&n, map, 8);
    if (n == 0 || n > kMaxHeaderBytes) fail(path, "header length " + std::to_string(n) + " is not plausible");
    if (n > size - 8)
      fail(path, "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                     " bytes)");
    header_bytes = n;
    header = parse_header(std::string_view(reinterpret_cast<const char*>(map + 8), n), path);
    const uint64_t data_size = size - 8 - n;
    if (header.data_size > data_size)
      fail(path, "tensors need " + std::to_string(header.data_size) + " data bytes but the file holds " +
                     std::to_string(data_size) + " (truncated?)");
    if (header.data_size < data_size)
      fail(path, std::to_string(data_size - header.data_size) + " bytes after the last tensor");
  }
};

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  impl->size = static_cast<uint64_t>(st.st_size);
  if (impl->size < 8) {
    ::close(fd);
    fail(path, "too short for a safetensors file (" + std::to_string(impl->size) + " bytes)");
  }
  void* m = mmap(nullptr, impl->size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) {
    const int error = errno;
    ::close(fd);
    fail(path, std::string("cannot map: ") + std::strerror(error));
  }
  impl->fd = fd;
  impl->map = static_cast<const uint8_t*>(m);
  impl->guard = std::make_unique<detail::TruncationGuard>(m, impl->size);
  impl->validate_layout();
  impl->check_intact();  // the header just read may have been zeros
  return SafetensorsFile(std::move(impl));
}

SafetensorsFile SafetensorsFile::from_bytes(std::span<const uint8_t> bytes, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->path = name;
  // One spare byte keeps data() non-null and owned non-empty for an empty input.
  impl->owned.reserve(bytes.size() + 1);
  impl->owned.assign(bytes.begin(), bytes.end());
  impl->owned.push_back(0);
  impl->map = impl->owned.data();
  impl->size = bytes.size();
  impl->validate_layout();
  return SafetensorsFile(std::move(impl));
}

const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->header.tensors; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->header.metadata; }
uint64_t SafetensorsFile::file_size() const { return impl_->size; }
uint64_t SafetensorsFile::data_offset() const { return 8 + impl_->header_bytes; }
const std::string& SafetensorsFile::path() const { return impl_->path; }

std::string_view SafetensorsFile::header_json() const {
  return {reinterpret_cast<const char*>(impl_->map + 8), impl_->header_bytes};
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  for (const TensorInfo& t : impl_->header.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

void SafetensorsFile::check_intact() const { impl_->check_intact(); }

std::span<const uint8_t> SafetensorsFile::bytes(const TensorInfo& tensor) const {
  check_intact();
  // A TensorInfo from another file could point anywhere: re-check against this mapping.
  const uint64_t data_size = impl_->size - data_offset();
  if (tensor.end < tensor.begin || tensor.end > data_size)
    fail(impl_->path, "tensor \"" + tensor.name + "\" lies outside the data section");
  return {impl_->map + data_offset() + tensor.begin, tensor.byte_size()};
}

void SafetensorsFile::release(const TensorInfo& tensor) const { release(bytes(tensor)); }

void SafetensorsFile::release(std::span<const uint8_t> bytes) const {
  if (!impl_->mapped()) return;  // heap bytes of from_bytes(): MADV_DONTNEED would zero them
  check_intact();  // the bytes just read were the file's
  const uintptr_t map = reinterpret_cast<uintptr_t>(impl_->map), at = reinterpret_cast<uintptr_t>(bytes.data());
  if (bytes.empty() || at < map || bytes.size() > impl_->size || at - map > impl_->size - bytes.size())
    return;  // not inside this mapping: nothing of ours to release
  // Only whole pages inside the tensor: a neighbour's bytes on a shared page stay mapped.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes.data()) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

std::vector<Bf16Matrix> load_bf16_matrices(const std::string& path) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  std::vector<Bf16Matrix> out;
  for (const TensorInfo& t : file.tensors()) {
    if (t.dtype != "BF16" || t.shape.size() != 2) continue;
    Bf16Matrix m;
    m.name = t.name;
    m.rows = t.shape[0];
    m.cols = t.shape[1];
    const auto bytes = file.bytes(t);
    m.values.resize(bytes.size() / 2);
    if (!bytes.empty()) std::memcpy(m.values.data(), bytes.data(), bytes.size());
    file.check_intact();  // the copy holds the file's bytes, not zeros in place of a cut-off end
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace zipserv::st
