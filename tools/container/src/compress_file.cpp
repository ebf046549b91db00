// compress_file(): plan every tensor (sizes, checksums), write the header first, then encode
// tensors in parallel and pwrite each array at its planned offset.
#include <cstring>

#include "bf16_span.h"
#include "compression_plan.h"
#include "parallel_tasks.h"
#include "zipserv/atomic_output.h"
#include "zipserv/compressed_model.h"
#include "zipserv/encode.h"

namespace zipserv::st {
namespace {

template <class T>
std::span<const uint8_t> as_bytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
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
  detail::run_parallel(plans.size(), options.threads, [&](size_t i) {
    const detail::TensorPlan& p = plans[i];
    const size_t d = layout.first_decl[i];
    const auto bytes = file.bytes(*p.tensor);
    if (p.storage == Storage::raw) {
      out.write_at(layout.layout.file_offsets[d], bytes);
    } else {
      const detail::Bf16Span values(bytes);
      const CompressedMatrix m = encode(values.data(), p.tensor->shape[0], p.tensor->shape[1]);
      const std::span<const uint8_t> arrays[7] = {as_bytes(m.bitmap1),        as_bytes(m.bitmap2),
                                                  as_bytes(m.bitmap3),        as_bytes(m.global_offsets),
                                                  as_bytes(m.median_offsets), as_bytes(m.full),
                                                  as_bytes(m.sign_mantissa)};
      // The header is already on disk: the encoder must produce exactly the planned sizes.
      if (m.start_exp != p.sizes.window.start_exp())
        throw ContainerError(input + ": internal error: sizing and encoding chose different windows for \"" +
                             p.tensor->name + "\"");
      for (int a = 0; a < 7; ++a) {
        if (arrays[a].size() != layout.layout.byte_sizes[d + a])
          throw ContainerError(input + ": internal error: planned and encoded sizes differ for \"" +
                               p.tensor->name + kArraySuffixes[a] + "\"");
        out.write_at(layout.layout.file_offsets[d + a], arrays[a]);
      }
    }
    file.release(*p.tensor);
    line.step(bytes.size());
  });
  out.commit();

  ConvertSummary summary;
  summary.tensors = static_cast<int>(plans.size());
  for (const auto& p : plans) summary.compressed += p.storage == Storage::tca_tbe;
  summary.input_bytes = file.file_size();
  summary.output_bytes = layout.layout.file_size;
  return summary;
}

}  // namespace zipserv::st
