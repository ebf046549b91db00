// st::bundled_data_file() finds the bundled files in the source tree of this build, looks only
// where ZIPSERV_DATA_DIR points when it is set, and names every place it looked when a file is
// in none of them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include <unistd.h>  // getpid

#include "zipserv/container/bundled_data.h"

namespace zipserv::st {
namespace {

namespace fs = std::filesystem;

// Sets (or, with nullopt, unsets) ZIPSERV_DATA_DIR for one scope and restores what was there.
class DataDirVariable {
 public:
  explicit DataDirVariable(const std::optional<std::string>& value) {
    if (const char* old = std::getenv("ZIPSERV_DATA_DIR")) saved_ = old;
    if (value) setenv("ZIPSERV_DATA_DIR", value->c_str(), 1);
    else unsetenv("ZIPSERV_DATA_DIR");
  }
  ~DataDirVariable() {
    if (saved_) setenv("ZIPSERV_DATA_DIR", saved_->c_str(), 1);
    else unsetenv("ZIPSERV_DATA_DIR");
  }

 private:
  std::optional<std::string> saved_;
};

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("zipserv_bundled_data_test_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(BundledData, SourceTreeFilesAreFoundWithoutTheVariable) {
  const DataDirVariable unset(std::nullopt);
  for (const char* name : {"stories260K.safetensors", "use-lite-en.safetensors", "tok512.bin", "PROVENANCE.md"}) {
    const std::string path = bundled_data_file(name);
    EXPECT_TRUE(fs::equivalent(path, fs::path(ZIPSERV_DATA_DIR) / name)) << path;
  }
  ASSERT_EQ(bundled_data_dirs().size(), 2u);  // the source tree's data/, then the installation's
  EXPECT_TRUE(fs::equivalent(bundled_data_dirs()[0], ZIPSERV_DATA_DIR));
  EXPECT_EQ(bundled_data_dirs()[1].filename(), "zipserv");
}

TEST(BundledData, TheVariableIsTheOnlyPlaceLookedAt) {
  const fs::path dir = fresh_dir("chosen");
  std::ofstream(dir / "tok512.bin") << "not a real tokenizer";
  const DataDirVariable chosen(dir.string());
  EXPECT_EQ(fs::path(bundled_data_file("tok512.bin")), dir / "tok512.bin");
  // The source tree has this file, but the variable chose a folder without it.
  try {
    bundled_data_file("stories260K.safetensors");
    FAIL() << "found stories260K.safetensors outside " << dir;
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find((dir / "stories260K.safetensors").string()), std::string::npos) << message;
    EXPECT_NE(message.find("ZIPSERV_DATA_DIR"), std::string::npos) << message;
    EXPECT_EQ(message.find(ZIPSERV_DATA_DIR), std::string::npos) << message;
  }
  fs::remove_all(dir);
}

TEST(BundledData, AMissingFileNamesEveryPlaceLookedAt) {
  const DataDirVariable unset(std::nullopt);
  try {
    bundled_data_file("no-such-model.safetensors");
    FAIL() << "found a file that does not exist";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    for (const fs::path& dir : bundled_data_dirs())
      EXPECT_NE(message.find((dir / "no-such-model.safetensors").string()), std::string::npos) << message;
  }
}

TEST(BundledData, AnEmptyVariableCountsAsUnset) {
  const DataDirVariable empty(std::string{});
  EXPECT_EQ(bundled_data_dirs().size(), 2u);
  EXPECT_NO_THROW(bundled_data_file("tok512.bin"));
}

}  // namespace
}  // namespace zipserv::st
