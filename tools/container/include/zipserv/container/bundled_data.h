/*! \file bundled_data.h
 *  \brief Where the real weights and the tokenizer that ship with zipserv are found at run time:
 *         data/ of the source tree a build came from, or share/zipserv of an installation.
 *
 *  `cmake --install` copies the bundled files (stories260K.safetensors, use-lite-en.safetensors,
 *  tok512.bin and their provenance and licence note, PROVENANCE.md) to
 *  PREFIX/share/zipserv, so an installed `zipserv` or oracle finds them after the source tree
 *  is gone. An installation moved to another prefix (`cmake --install --prefix`) is found
 *  through the environment variable ZIPSERV_DATA_DIR.
 */
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace zipserv::st {

/// \addtogroup container
/// \{

/// returns the directories searched for a bundled file, in order: only $ZIPSERV_DATA_DIR when
/// it is set and not empty (an explicit choice is never second-guessed); otherwise the source
/// tree's data/ this library was built from, then PREFIX/share/zipserv of the installation
/// prefix it was configured with.
std::vector<std::filesystem::path> bundled_data_dirs();

/// returns the path of the bundled file `name` (e.g. "stories260K.safetensors") in the first of
/// bundled_data_dirs() that holds it. Throws std::runtime_error naming every path looked at, and
/// ZIPSERV_DATA_DIR, when none does.
std::string bundled_data_file(const std::string& name);

/// \}

}  // namespace zipserv::st
