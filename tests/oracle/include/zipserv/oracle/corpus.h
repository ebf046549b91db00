/*! \file corpus.h
 *  \brief The named cases every engine must pass: exhaustive BF16 patterns under extreme
 *         windows, every tile-edge shape, adversarial windows, and the real fixtures.
 *
 *  Shape names follow XNNPACK: where the dimension sits relative to a tile (8 FragTile, 16 slice,
 *  64 block tile), e.g. m_lt_64_k_gt_64 is 63 x 65: one row short of a block tile, one column
 *  into the next. The same list is applied to every engine.
 */
#pragma once

#include <string>
#include <vector>

#include "zipserv/oracle/oracle.h"

namespace zipserv::oracle {

/// \addtogroup oracle
/// \{

/// All 65,536 BF16 patterns as one 256 x 256 matrix (pattern p at row p / 256, column p % 256)
/// under the windows lo = 0 (start_exp 255: the official sign bug, spec G.1), lo = 1, the best
/// window, and lo = 249 (exponent 255, Inf and NaN, inside the window).
std::vector<Case> exhaustive_cases();

/// Gaussian (sigma 0.02) weights in every tile-edge shape: 1x1, 7x9, 8x8, 15x17, 16x16, 63x65,
/// 64x64, 65x64, 64x65, 127x129, 172x64, 16x4096, 4096x16.
std::vector<Case> shape_cases();

/// Windows that stress one path each: all_fallback (no weight inside the window),
/// all_inside (no fallback at all), window_at_0 (zeros and subnormals frequent, start_exp 255),
/// window_at_249_nan_inf (Inf and NaN payloads inside the window), small_integer_weights
/// (integers in [-8, 8]: the GEMM is exact in every order, see gemm_rule.h).
std::vector<Case> adversarial_cases();

/// Every 2-D BF16 tensor of a plain safetensors file, named "<file stem>/<tensor>" (read with
/// zipserv::container; a file it cannot read throws its error).
std::vector<Case> fixture_cases(const std::string& path);

/// The bundled fixtures, stories260K.safetensors and use-lite-en.safetensors, from data/ of the
/// source tree this library was built from or share/zipserv of its installation
/// (st::bundled_data_file(); ZIPSERV_DATA_DIR chooses another folder). Throws naming the paths
/// looked at when they are not there.
std::vector<Case> bundled_fixture_cases();

/// Which parts of the corpus to build.
struct CorpusOptions {
  bool exhaustive = true;   ///< exhaustive_cases()
  bool shapes = true;       ///< shape_cases()
  bool adversarial = true;  ///< adversarial_cases()
  bool fixtures = true;     ///< bundled_fixture_cases()
};

/// The whole corpus (or the parts selected), in the order above.
std::vector<Case> corpus(const CorpusOptions& options = {});

/// \}

}  // namespace zipserv::oracle
