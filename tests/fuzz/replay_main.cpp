// A main() for a fuzz target built without libFuzzer (GCC, the ordinary test build): runs
// LLVMFuzzerTestOneInput once on every file named on the command line, or every file inside a
// named folder, and prints how many it ran. A crash or abort() fails the run, so each checked-in
// seed corpus is a ctest.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int ran = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) {
          if (!run_file(entry.path())) return 1;
          ++ran;
        }
    } else {
      if (!run_file(arg)) return 1;
      ++ran;
    }
  }
  std::printf("replay: %d inputs ran without a crash or a failed check\n", ran);
  return ran > 0 ? 0 : 1;
}
