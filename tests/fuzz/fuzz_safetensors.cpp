// Fuzz target: the safetensors reader on arbitrary bytes (SafetensorsFile::from_bytes, no file
// system). Any input must either be rejected with ContainerError or give tensors whose bytes()
// lie inside the input; a crash, a sanitizer report or any other exception is a bug.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "zipserv/container/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace zipserv::st;
  try {
    const SafetensorsFile file = SafetensorsFile::from_bytes(std::span<const uint8_t>(data, size), "fuzz input");
    uint64_t covered = 0, checksum = 0;
    for (const TensorInfo& t : file.tensors()) {
      const auto bytes = file.bytes(t);
      if (bytes.size() != t.byte_size()) std::abort();
      covered += bytes.size();
      for (uint8_t b : bytes) checksum += b;  // touch every byte: ASan sees any read outside
      if (file.find(t.name) == nullptr) std::abort();
    }
    // open() promises the tensors tile the data section exactly.
    if (file.data_offset() + covered != file.file_size()) std::abort();
    volatile uint64_t sink = checksum;  // keeps the byte loop: its reads are what ASan checks
    (void)sink;
  } catch (const ContainerError&) {
    // Rejected with a message: the expected outcome for damaged input.
  }
  return 0;
}
