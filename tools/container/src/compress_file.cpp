// compress_file(): plan every tensor (sizes, checksums), write the header first, then encode
// tensors in parallel, each band of block-tile rows by band, and pwrite each band's slice of the
// seven arrays at its place in the file. Memory: one band per thread (block_tile_band.h).
#include <cstring>

#include "compression_plan.h"
#include "progress_line.h"
#include "row_bands.h"
#include "zipserv/container/atomic_output.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/encode.h"
#include "zipserv/reference/parallel_for.h"

namespace zipserv::st {
namespace {

template <class T>
std::span<const uint8_t> as_bytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

// A raw tensor: copied from the mapping to the output in pieces (pwrite reads the mapping
// directly, so no buffer holds it), each piece's pages released once written.
void write_raw(const SafetensorsFile& file, const TensorInfo& t, AtomicOutputFile& out, uint64_t offset) {
  const auto bytes = file.bytes(t);
  detail::SequentialRelease read(file, bytes);
  for (size_t at = 0; at < bytes.size(); at += detail::kPieceBytes) {
    const size_t n = std::min(detail::kPieceBytes, bytes.size() - at);
    try {
      out.write_at(offset + at, bytes.subspan(at, n));
    } catch (const ContainerError&) {
      // pwrite() reading past a shrunken end of the mapping fails with EFAULT (no SIGBUS):
      // name the cause, not "Bad address".
      file.check_intact();
      throw;
    }
    read.done_until(at + n);
  }
}

// A TCA-TBE tensor, band by band. Each band's rows are encoded as a matrix of their own with the
// planned window; its arrays are then the band's slice of the whole matrix's, once its global
// offsets are moved by the stream lengths of the bands before it (block_tile_band.h).
void write_tca_tbe(const std::string& input, const SafetensorsFile& file, const detail::TensorPlan& p,
                   const detail::CompressedLayout& layout, size_t d, AtomicOutputFile& out) {
  const TensorInfo& t = *p.tensor;
  const int64_t rows = t.shape[0], cols = t.shape[1], KB = pad_to_block_tile(cols) / kBlockTileDim;
  const uint8_t start_exp = p.sizes.window.start_exp();
  const std::span<const uint8_t> bytes = file.bytes(t);
  detail::SequentialRelease read(file, bytes);
  const uint64_t* offset = &layout.layout.file_offsets[d];
  const uint64_t* planned = &layout.layout.byte_sizes[d];
  int64_t hf_end = 0, fb_end = 0;  // stream lengths of the bands written so far
  auto internal_error = [&](int a) {
    return ContainerError(input + ": internal error: planned and encoded sizes differ for \"" + t.name +
                          kArraySuffixes[a] + "\"");
  };
  detail::for_each_row_band(bytes, rows, cols, [&](const uint16_t* values, int64_t r0, int64_t n, std::span<const uint8_t> band_bytes) {
    CompressedMatrix band = encode_with_start_exp(values, n, cols, start_exp);
    file.check_intact();  // the band encoded was the file's, not zeros read past a shrunken end
    for (size_t i = 0; i < band.global_offsets.size(); i += 2) {
      band.global_offsets[i] += static_cast<int32_t>(hf_end);
      band.global_offsets[i + 1] += static_cast<int32_t>(fb_end);
    }
    const int64_t first_tile = r0 / kBlockTileDim * KB;
    // Where this band's slice of each array starts, in bytes from the array's start.
    const uint64_t at[7] = {static_cast<uint64_t>(first_tile) * kFragTilesPerBlockTile * 8,
                            static_cast<uint64_t>(first_tile) * kFragTilesPerBlockTile * 8,
                            static_cast<uint64_t>(first_tile) * kFragTilesPerBlockTile * 8,
                            static_cast<uint64_t>(first_tile) * 2 * 4,  // pairs first_tile .. end
                            static_cast<uint64_t>(first_tile) * 8 * 4,
                            static_cast<uint64_t>(fb_end) * 2,
                            static_cast<uint64_t>(hf_end)};
    const std::span<const uint8_t> arrays[7] = {as_bytes(band.bitmap1),        as_bytes(band.bitmap2),
                                                as_bytes(band.bitmap3),        as_bytes(band.global_offsets),
                                                as_bytes(band.median_offsets), as_bytes(band.full),
                                                as_bytes(band.sign_mantissa)};
    // The header is already on disk: a band must land inside its planned arrays.
    for (int a = 0; a < 7; ++a) {
      if (at[a] + arrays[a].size() > planned[a]) throw internal_error(a);
      out.write_at(offset[a] + at[a], arrays[a]);
    }
    hf_end += static_cast<int64_t>(band.sign_mantissa.size());
    fb_end += static_cast<int64_t>(band.full.size());
    read.done_until(static_cast<size_t>(band_bytes.data() - bytes.data()) + band_bytes.size());
  });
  if (static_cast<uint64_t>(fb_end) * 2 != planned[5]) throw internal_error(5);
  if (static_cast<uint64_t>(hf_end) != planned[6]) throw internal_error(6);
}

}  // namespace

ConvertSummary compress_file(const std::string& input, const std::string& output, const ConvertOptions& options) {
  check_output_path(input, output, options.force);
  const SafetensorsFile file = SafetensorsFile::open(input);
  if (is_compressed_model(file)) throw ContainerError(input + ": already a zipserv compressed model");
  const std::vector<detail::TensorPlan> plans = detail::plan_compression(file, options.threads, options.progress);
  const detail::CompressedLayout layout = detail::layout_compressed(file, plans);

  AtomicOutputFile out(output, layout.layout.file_size);
  out.write_at(0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(layout.layout.prefix.data()),
                                           layout.layout.prefix.size()));
  detail::ProgressLine line("zipserv: compressing", plans.size(), options.progress);
  parallel_for(static_cast<int64_t>(plans.size()), options.threads, [&](size_t i) {
    const detail::TensorPlan& p = plans[i];
    const size_t d = layout.first_decl[i];
    if (p.storage == Storage::raw)
      write_raw(file, *p.tensor, out, layout.layout.file_offsets[d]);
    else
      write_tca_tbe(input, file, p, layout, d, out);
    file.release(*p.tensor);
    line.step(p.tensor->byte_size());
  });
  file.check_intact();
  out.commit();

  ConvertSummary summary;
  summary.tensors = static_cast<int>(plans.size());
  for (const auto& p : plans) summary.compressed += p.storage == Storage::tca_tbe;
  summary.input_bytes = file.file_size();
  summary.output_bytes = layout.layout.file_size;
  return summary;
}

}  // namespace zipserv::st
