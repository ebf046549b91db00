// Fuzz target: the compressed-model loader on arbitrary bytes (CompressedModel::from_bytes), then
// every entry read back: the TCA-TBE matrices through validate() and the reference decoder with
// their checksums, the raw ones copied out. Damage must end in ContainerError or FormatError;
// a crash, a sanitizer report or any other exception is a bug.
#include <cstdint>
#include <span>

#include "zipserv/reference/compressed_matrix.h"
#include "zipserv/container/compressed_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zipserv;
  try {
    const st::CompressedModel model = st::CompressedModel::from_bytes(std::span<const uint8_t>(data, size), "fuzz input");
    for (const st::ModelEntry& e : model.entries()) {
      try {
        if (e.storage == st::Storage::tca_tbe) (void)model.read_matrix(e, /*verify_checksum=*/true);
        (void)model.decode_entry(e);
      } catch (const st::ContainerError&) {
      } catch (const FormatError&) {
      }
    }
  } catch (const st::ContainerError&) {
  } catch (const FormatError&) {
  }
  return 0;
}
