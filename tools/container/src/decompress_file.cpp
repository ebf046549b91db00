// decompress_file() and verify_files(): decode every entry (checksum checked) and either write
// it at its original offset or compare it with the original file.
#include <cstring>
#include <mutex>

#include "parallel_tasks.h"
#include "zipserv/atomic_output.h"
#include "zipserv/compressed_model.h"

namespace zipserv::st {

ConvertSummary decompress_file(const std::string& input, const std::string& output, const ConvertOptions& options) {
  check_output_path(input, output, options.force);
  const CompressedModel model = CompressedModel::open(input);
  const std::string_view header = model.original_header();
  const uint64_t data_offset = 8 + header.size();

  AtomicOutputFile out(output, model.original_file_size());
  uint8_t length[8];
  const uint64_t n = header.size();
  std::memcpy(length, &n, 8);
  out.write_at(0, length);
  out.write_at(8, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(header.data()), header.size()));
  const auto& entries = model.entries();
  detail::ProgressLine line("zipserv: decompressing", entries.size(), options.progress);
  detail::run_parallel(entries.size(), options.threads, [&](size_t i) {
    std::vector<uint8_t> bytes = model.decode_entry(entries[i]);  // checksum checked inside
    out.write_at(data_offset + entries[i].original_begin, bytes);
    model.release(entries[i]);
    line.step(bytes.size());
  });
  out.commit();

  ConvertSummary summary;
  summary.tensors = static_cast<int>(entries.size());
  for (const auto& e : entries) summary.compressed += e.storage == Storage::tca_tbe;
  summary.input_bytes = model.file().file_size();
  summary.output_bytes = model.original_file_size();
  return summary;
}

VerifyReport verify_files(const std::string& original_path, const std::string& compressed_path, int threads) {
  const SafetensorsFile original = SafetensorsFile::open(original_path);
  const CompressedModel model = CompressedModel::open(compressed_path);
  VerifyReport report;
  if (model.original_header() != original.header_json()) {
    report.problem = "the stored original header differs from " + original_path + "'s header";
    return report;
  }
  // Equal headers give equal tensor lists, names, dtypes, shapes and offsets.
  const auto& tensors = original.tensors();
  std::mutex mutex;
  size_t first_bad = tensors.size();
  detail::run_parallel(tensors.size(), threads, [&](size_t i) {
    const ModelEntry* e = model.find(tensors[i].name);
    std::string problem;
    if (!e) {
      problem = "tensor \"" + tensors[i].name + "\" is missing from " + compressed_path;
    } else {
      const std::vector<uint8_t> decoded = model.decode_entry(*e);
      const auto expected = original.bytes(tensors[i]);
      if (decoded.size() != expected.size() || !std::equal(decoded.begin(), decoded.end(), expected.begin())) {
        size_t at = 0;
        while (at < decoded.size() && at < expected.size() && decoded[at] == expected[at]) ++at;
        problem = "tensor \"" + tensors[i].name + "\" differs from the original at byte " + std::to_string(at);
      }
      model.release(*e);
      original.release(tensors[i]);
    }
    std::lock_guard lock(mutex);
    ++report.tensors_checked;
    if (!problem.empty() && i < first_bad) {
      first_bad = i;
      report.problem = problem;
    }
  });
  report.identical = report.problem.empty();
  return report;
}

}  // namespace zipserv::st
