/*! \file random_access_engine.cpp
 *  \brief The "random-access" engine: a second, independent decoder (zipserv::decode_element,
 *         which finds each element by offsets and popcounts instead of walking the streams), and
 *         the worked example of plugging an implementation into the oracle.
 *
 *  This file is all it takes: a class overriding the stages it has, and one registration line.
 *  The file is listed in `_zipserv_oracle_plugin_sources` in tests/oracle/CMakeLists.txt, which
 *  links it into the oracle tests and into the `zipserv` command, so
 *  `zipserv check data/stories260K.safetensors --engine random-access` runs it.
 */
#include <memory>

#include "zipserv/reference/decode.h"
#include "zipserv/reference/fragment_layout.h"
#include "zipserv/oracle/engine.h"

namespace {

// Random access must agree with the sequential decoder everywhere, padding included, so it is
// checked at lane_fragments and decoded; it has no encoder and no GEMM (both reported "n/a").
class RandomAccessEngine final : public zipserv::oracle::Engine {
 public:
  std::string name() const override { return "random-access"; }

  std::optional<std::vector<uint32_t>> lane_fragments(const zipserv::CompressedMatrix& w) const override {
    zipserv::validate(w);  // decode_element trusts the offsets
    std::vector<uint32_t> regs(static_cast<size_t>(zipserv::lane_fragment_count(w)));
    for (int64_t t = 0; t < w.block_tiles(); ++t)
      for (int s = 0; s < zipserv::kStripsPerBlockTile; ++s)
        for (int q = 0; q < zipserv::kSlicesPerStrip; ++q) {
          const int64_t row0 = t / w.block_cols() * 64 + 16 * s, col0 = t % w.block_cols() * 64 + 16 * q;
          for (int lane = 0; lane < zipserv::kWarpLanes; ++lane)
            for (int reg = 0; reg < zipserv::kARegsPerLane; ++reg) {
              const zipserv::FragCoord lo = zipserv::a_frag_coord(lane, reg, 0);
              const zipserv::FragCoord hi = zipserv::a_frag_coord(lane, reg, 1);
              regs[zipserv::lane_fragment_index(t, s, q, lane, reg)] =
                  uint32_t{zipserv::decode_element(w, row0 + lo.row, col0 + lo.col)} |
                  uint32_t{zipserv::decode_element(w, row0 + hi.row, col0 + hi.col)} << 16;
            }
        }
    return regs;
  }

  std::optional<std::vector<uint16_t>> decode(const zipserv::CompressedMatrix& w) const override {
    zipserv::validate(w);
    std::vector<uint16_t> out(static_cast<size_t>(w.rows * w.cols));  // (rows, cols) row-major
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c) out[r * w.cols + c] = zipserv::decode_element(w, r, c);
    return out;
  }
};

// The registration line: runs when the program starts, before main().
const bool registered = zipserv::oracle::register_engine(
    "random-access", [] { return std::make_unique<RandomAccessEngine>(); });

}  // namespace
