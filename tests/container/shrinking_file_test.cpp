// A file that another program truncates while it is mapped: every reader of the library throws
// ContainerError naming the file and saying it shrank, instead of dying of SIGBUS (a read of a
// mapped page past the end of its file). Both ways are covered: the file is already shorter when
// the reader asks for bytes (seen by fstat), and it shrinks under a read already in progress
// (the SIGBUS is caught). A SIGBUS that is not a read of a guarded mapping still kills.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "container_test_util.h"
#include "zipserv/container/bf16_weights.h"
#include "zipserv/container/compressed_model.h"
#include "zipserv/container/safetensors.h"
#include "zipserv/container/safetensors_writer.h"

namespace {

using zipserv::st::CompressedModel;
using zipserv::st::ContainerError;
using zipserv::st::SafetensorsFile;
using zipserv::test::bf16_weights;
using zipserv::test::ScratchDir;

// Three 512 x 1024 BF16 weights (1 MiB each, two bands of block-tile rows each).
std::string write_model(const ScratchDir& dir) {
  std::vector<zipserv::st::TensorData> tensors;
  uint32_t seed = 7;
  for (const char* name : {"w0", "w1", "w2"})
    tensors.push_back({{name, "BF16", {512, 1024}}, bf16_weights(512 * 1024, seed++)});
  const std::string path = dir.file("model.safetensors");
  zipserv::st::write_safetensors(path, tensors, {});
  return path;
}

void truncate_to(const std::string& path, off_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, size), 0);
  ::close(fd);
}

// `body` throws ContainerError whose message names `path` and says the file shrank.
template <class F>
void expect_shrank_error(F body, const std::string& path) {
  try {
    body();
    ADD_FAILURE() << "no error for a file that shrank";
  } catch (const ContainerError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with(path + ": ")) << what;
    EXPECT_NE(what.find("shrank"), std::string::npos) << what;
  }
}

TEST(ShrinkingFile, BytesOfATensorPastTheNewEndThrow) {
  ScratchDir dir;
  const std::string path = write_model(dir);
  const SafetensorsFile file = SafetensorsFile::open(path);
  truncate_to(path, static_cast<off_t>(file.data_offset() + 4096));
  expect_shrank_error([&] { (void)file.bytes(file.tensors().back()); }, path);
  expect_shrank_error([&] { file.check_intact(); }, path);
}

// The span was handed out before the file shrank: reading it past the new end would be SIGBUS.
// It reads zeros instead, and check_intact() says why they must not be used.
TEST(ShrinkingFile, AReadAlreadyInProgressIsCaught) {
  ScratchDir dir;
  const std::string path = write_model(dir);
  const SafetensorsFile file = SafetensorsFile::open(path);
  const std::span<const uint8_t> last = file.bytes(file.tensors().back());
  const volatile uint8_t touched = last[0];  // a page of it is resident while the file is whole
  (void)touched;
  truncate_to(path, static_cast<off_t>(file.data_offset() + 4096));
  uint64_t sum = 0;
  for (uint8_t b : last) sum += b;  // every page of it lies past the new end
  EXPECT_EQ(sum, 0u) << "the pages past the new end read as zeros";
  try {
    file.check_intact();
    ADD_FAILURE() << "no error after a read past the new end";
  } catch (const ContainerError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": the file shrank while it was being read"), std::string::npos)
        << e.what();
  }
}

TEST(ShrinkingFile, CompressedModelReadersThrow) {
  ScratchDir dir;
  const std::string packed = dir.file("m.zipserv");
  zipserv::st::compress_file(write_model(dir), packed);
  const CompressedModel model = CompressedModel::open(packed);
  truncate_to(packed, static_cast<off_t>(model.file().data_offset() + 4096));
  const auto& last = model.entries().back();
  expect_shrank_error([&] { (void)model.decode_entry(last); }, packed);
  expect_shrank_error([&] { (void)model.read_matrix(last); }, packed);
}

// A streaming decode of a weight: the file shrinks after the first band was given out, so the
// second band's arrays lie past the new end while they are being read.
TEST(ShrinkingFile, ShrinkingBetweenTwoBandsOfADecodeIsCaught) {
  ScratchDir dir;
  const std::string packed = dir.file("m.zipserv");
  zipserv::st::compress_file(write_model(dir), packed);
  const CompressedModel model = CompressedModel::open(packed);
  const auto& entry = model.entries().front();
  ASSERT_EQ(entry.storage, zipserv::st::Storage::tca_tbe);
  int pieces = 0;
  expect_shrank_error(
      [&] {
        model.decode_entry_in_pieces(entry, [&](uint64_t, std::span<const uint8_t>) {
          if (++pieces == 1) truncate_to(packed, static_cast<off_t>(model.file().data_offset() + 4096));
        });
      },
      packed);
  EXPECT_EQ(pieces, 1) << "no piece may be given out once the file shrank";
}

// A visitor of a plain file's weights reads them in place; the file shrinks under it.
TEST(ShrinkingFile, ForEachWeightStopsWhenTheFileShrinks) {
  ScratchDir dir;
  const std::string path = write_model(dir);
  int visited = 0;
  expect_shrank_error(
      [&] {
        zipserv::st::for_each_bf16_weight(path, [&](const zipserv::st::Bf16Weight&) {
          if (++visited == 1) truncate_to(path, 4096);
        });
      },
      path);
  EXPECT_EQ(visited, 1);
}

// How a SIGBUS the library does not take ends the process. Normally: killed by SIGBUS. Under
// AddressSanitizer the signal goes on to ASan's own handler (installed before the library's),
// which reports "AddressSanitizer: BUS" and ends the process itself.
#if defined(__SANITIZE_ADDRESS__)
bool died_of_sigbus(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }
constexpr const char* kSigbusReport = "AddressSanitizer: BUS";
#else
bool died_of_sigbus(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS; }
constexpr const char* kSigbusReport = "";
#endif

// The handler only takes faults inside a file it guards: any other SIGBUS kills as it always did.
TEST(ShrinkingFileDeathTest, OtherSigbusStillKills) {
  ScratchDir dir;
  const std::string path = write_model(dir);
  const SafetensorsFile file = SafetensorsFile::open(path);  // the handler is installed
  EXPECT_EXIT(raise(SIGBUS), died_of_sigbus, kSigbusReport);
  // A mapping of its own, not the library's, read past its file's end.
  const std::string other = dir.file("other");
  zipserv::test::write_bytes(other, std::vector<uint8_t>(3 * 4096, 1));
  const int fd = ::open(other.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  auto* map = static_cast<volatile uint8_t*>(mmap(nullptr, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0));
  ASSERT_NE(map, MAP_FAILED);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  EXPECT_EXIT((void)map[2 * 4096], died_of_sigbus, kSigbusReport);
  munmap(const_cast<uint8_t*>(map), 3 * 4096);
  ::close(fd);
}

}  // namespace
