// decompress_file() and verify_files(): decode every entry band by band (checksum checked) and
// either write each band at its original offset or compare it with the original file. Memory:
// one band per thread (CompressedModel::decode_entry_in_pieces()).
#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>

#include "progress_line.h"
#include "row_bands.h"
#include "zipserv/container/atomic_output.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/parallel_for.h"

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
  parallel_for(static_cast<int64_t>(entries.size()), options.threads, [&](size_t i) {
    const uint64_t begin = data_offset + entries[i].original_begin;
    // A checksum error after some pieces were written leaves them in the temporary file, which
    // is removed: the output never appears.
    model.decode_entry_in_pieces(entries[i], [&](uint64_t offset, std::span<const uint8_t> bytes) {
      out.write_at(begin + offset, bytes);
    });
    model.release(entries[i]);
    line.step(entries[i].original_bytes);
  });
  model.file().check_intact();
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
  parallel_for(static_cast<int64_t>(tensors.size()), threads, [&](size_t i) {
    const ModelEntry* e = model.find(tensors[i].name);
    std::string problem;
    if (!e) {
      problem = "tensor \"" + tensors[i].name + "\" is missing from " + compressed_path;
    } else {
      const auto expected = original.bytes(tensors[i]);
      detail::SequentialRelease read(original, expected);
      // Equal headers give equal sizes; the first differing byte is kept, and the checksum,
      // checked after the last piece, still throws for damaged data as a whole decode would.
      uint64_t first_difference = UINT64_MAX;
      model.decode_entry_in_pieces(*e, [&](uint64_t offset, std::span<const uint8_t> decoded) {
        if (first_difference == UINT64_MAX && offset + decoded.size() <= expected.size()) {
          const auto mismatch = std::mismatch(decoded.begin(), decoded.end(), expected.begin() + offset);
          if (mismatch.first != decoded.end()) first_difference = offset + (mismatch.first - decoded.begin());
        }
        read.done_until(offset + decoded.size());
      });
      original.check_intact();  // a difference must be the file's, not zeros past a shrunken end
      if (first_difference != UINT64_MAX)
        problem = "tensor \"" + tensors[i].name + "\" differs from the original at byte " + std::to_string(first_difference);
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
