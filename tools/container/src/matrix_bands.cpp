// Plain safetensors weights walked band by band (matrix_bands.h).
#include "zipserv/container/matrix_bands.h"

#include "row_bands.h"

namespace zipserv::st {

int64_t matrix_band_rows(int64_t cols) { return detail::rows_per_band(cols); }

void for_each_matrix_band(const SafetensorsFile& file, const TensorInfo& tensor, const MatrixBandVisitor& visit) {
  if (tensor.dtype != "BF16" || tensor.shape.size() != 2)
    throw ContainerError(file.path() + ": tensor \"" + tensor.name + "\" is not a 2-D BF16 matrix");
  if (tensor.shape[0] == 0 || tensor.shape[1] == 0) return;  // no band (and no band height for 0 columns)
  const std::span<const uint8_t> bytes = file.bytes(tensor);
  detail::SequentialRelease read(file, bytes);
  const int64_t cols = tensor.shape[1];
  detail::for_each_row_band(bytes, tensor.shape[0], cols,
                            [&](const uint16_t* values, int64_t first_row, int64_t rows, std::span<const uint8_t> band) {
                              file.check_intact();  // not zeros read past a shrunken end (a copied band)
                              visit(MatrixBand{first_row, rows, cols, values, nullptr});
                              file.check_intact();  // nor while the visitor read the mapping
                              read.done_until(static_cast<size_t>(band.data() + band.size() - bytes.data()));
                            });
}

}  // namespace zipserv::st
