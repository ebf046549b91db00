// Where the bundled files are found (bundled_data.h). The two directories compiled in are set by
// tools/container/CMakeLists.txt: the source tree's data/ and the installation's share/zipserv.
#include "zipserv/container/bundled_data.h"

#include <cstdlib>
#include <stdexcept>

namespace zipserv::st {

std::vector<std::filesystem::path> bundled_data_dirs() {
  const char* chosen = std::getenv("ZIPSERV_DATA_DIR");
  if (chosen != nullptr && chosen[0] != '\0') return {std::filesystem::path(chosen)};
  return {std::filesystem::path(ZIPSERV_SOURCE_DATA_DIR), std::filesystem::path(ZIPSERV_INSTALLED_DATA_DIR)};
}

std::string bundled_data_file(const std::string& name) {
  std::string looked;
  for (const std::filesystem::path& dir : bundled_data_dirs()) {
    const std::filesystem::path candidate = dir / name;
    std::error_code ec;  // an unreadable directory is one more place it is not
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
    looked += (looked.empty() ? "" : ", ") + candidate.string();
  }
  throw std::runtime_error("bundled file " + name + " not found (looked at " + looked +
                           "); set ZIPSERV_DATA_DIR to the folder that holds it, e.g. <prefix>/share/zipserv");
}

}  // namespace zipserv::st
