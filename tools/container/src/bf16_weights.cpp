// for_each_bf16_weight(): one loop over the 2-D BF16 weights of plain and compressed models.
#include "zipserv/container/bf16_weights.h"

#include "bf16_span.h"
#include "zipserv/container/checksum.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/reference/decode.h"
#include "zipserv/container/safetensors.h"

namespace zipserv::st {

void for_each_bf16_weight(const std::string& path, const std::function<void(const Bf16Weight&)>& visit) {
  bool compressed = false;
  {
    const SafetensorsFile file = SafetensorsFile::open(path);
    compressed = is_compressed_model(file);
    if (!compressed) {
      for (const TensorInfo& t : file.tensors()) {
        if (t.dtype != "BF16" || t.shape.size() != 2) continue;
        const detail::Bf16Span values(file.bytes(t));
        visit(Bf16Weight{t.name, t.shape[0], t.shape[1], {values.data(), values.size()}, nullptr});
        file.check_intact();  // what `visit` read was the file, not zeros past a shrunken end
      }
      return;
    }
  }
  const CompressedModel model = CompressedModel::open(path);
  for (const ModelEntry& e : model.entries()) {
    if (e.dtype != "BF16" || e.shape.size() != 2) continue;
    if (e.storage == Storage::tca_tbe) {
      const CompressedMatrix m = model.read_matrix(e, false);  // validated
      const std::vector<uint16_t> values = decode(m);
      if (xxh3_128_hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()), values.size() * 2)) !=
          e.checksum)
        throw ContainerError(path + ": tensor \"" + e.name + "\": decoded weights do not match the original checksum");
      visit(Bf16Weight{e.name, e.shape[0], e.shape[1], values, &m});
    } else {
      const std::vector<uint8_t> bytes = model.decode_entry(e);
      const detail::Bf16Span values(bytes);
      visit(Bf16Weight{e.name, e.shape[0], e.shape[1], {values.data(), values.size()}, nullptr});
    }
  }
}

}  // namespace zipserv::st
