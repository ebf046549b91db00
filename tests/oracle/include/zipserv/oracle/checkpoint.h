/*! \file checkpoint.h
 *  \brief The oracle's checkpoints (the pipeline stages every implementation is compared at) and
 *         the shape of a result: pass, or the first divergence with its exact place and bits.
 *
 *  The checkpoints, in pipeline order (an implementation reports those it has):
 *
 *      window          start_exp, the one byte that fixes the exponent window
 *      bitmaps         the three 64-bit words of every FragTile (= every element's 3-bit code)
 *      streams         sign_mantissa, full, median_offsets, global_offsets
 *      lane_fragments  every lane's a0..a3 for every block tile / warp (strip) / k16 slice
 *      decoded         the logical rows x cols BF16 matrix
 *      gemm_output     Y = W X for the oracle's activation inputs
 *
 *  A failure at one checkpoint makes every later one untrustworthy (a wrong bitmap shifts every
 *  stream cursor after it), so the oracle reports the FIRST divergence and marks later
 *  checkpoints as not reached.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zipserv::oracle {

/// \defgroup oracle The oracle
/// \brief One oracle that compares every implementation with the reference, checkpoint by
///        checkpoint and bit for bit, and names the first divergence.
/// \{

/// A pipeline stage at which the oracle compares an implementation with the reference.
enum class Checkpoint { window, bitmaps, streams, lane_fragments, decoded, gemm_output };

/// All checkpoints in pipeline order.
inline constexpr std::array<Checkpoint, 6> kCheckpoints = {
    Checkpoint::window,         Checkpoint::bitmaps, Checkpoint::streams,
    Checkpoint::lane_fragments, Checkpoint::decoded, Checkpoint::gemm_output};

/// The checkpoint's name as printed and accepted on command lines ("window", "bitmaps", ...).
const char* checkpoint_name(Checkpoint c);

/// The outcome of one checkpoint for one implementation.
enum class Status {
  pass,            ///< bit for bit equal (or, for gemm_output, inside the stated rule)
  fail,            ///< differs; the Divergence says where
  not_reached,     ///< an earlier checkpoint failed, so this one is not trusted and not run
  not_applicable,  ///< the implementation does not produce this stage (e.g. it does not encode)
};

/// "pass", "FAIL", "not reached", "n/a".
const char* status_name(Status s);

/// Where a compared word lives in the tile hierarchy and in the matrix; -1 = not meaningful.
struct Place {
  int64_t block_tile = -1;  ///< t = gm * KB + gk; for gemm_output the block-tile row gm
  int warp = -1;            ///< strip s (0..3) of the block tile; the warp that decodes it
  int slice = -1;           ///< k16 slice q (0..3) of the strip
  int lane = -1;            ///< 0..31
  int reg = -1;             ///< a0..a3 for weights; c0..c3 (accumulator) for gemm_output
  int64_t fragtile = -1;    ///< index into the bitmap arrays
  int bit = -1;             ///< element index 8r + c inside the FragTile
  int64_t row = -1;         ///< matrix row of the (first) element
  int64_t col = -1;         ///< matrix column of the (first) element
  int64_t row2 = -1;        ///< row of a register's second element (lane_fragments only)
  int64_t col2 = -1;        ///< column of a register's second element (lane_fragments only)
  bool padding = false;     ///< the element lies in the padding beyond rows x cols
};

/// The first place where an implementation's checkpoint differs from the reference's.
struct Divergence {
  Checkpoint checkpoint = Checkpoint::window;  ///< the stage
  std::string array;       ///< what was compared: "start_exp", "bitmap2", "full", "Y(small_integer)", ...
  int64_t index = -1;      ///< position in that array; -1 when the sizes differ or a stage threw
  int bits = 0;            ///< width of expected/actual in bits (8, 16, 32 or 64)
  uint64_t expected = 0;   ///< the reference's raw bits
  uint64_t actual = 0;     ///< the implementation's raw bits
  Place place;             ///< translated with tile_layout.h / fragment_layout.h
  std::string note;        ///< size mismatch, exception text, or the GEMM rule that was applied

  /// One line: checkpoint, array[index], block tile / warp / slice / lane / register,
  /// (row, col), expected vs actual in hex, note.
  std::string describe() const;
};

/// The outcome of one checkpoint.
struct CheckpointResult {
  Checkpoint checkpoint = Checkpoint::window;  ///< which checkpoint
  Status status = Status::not_reached;         ///< its outcome
  std::optional<Divergence> divergence;        ///< set when status == fail
  std::string detail;                          ///< what was compared (sizes, rule used)
  /// Set when Options::stop_at_first_divergence was off and an earlier checkpoint already failed:
  /// the comparison was still run, but its result is a consequence, not a cause.
  bool after_first_divergence = false;
};

/// Everything the oracle found for one implementation on one case.
struct Report {
  std::string engine;                   ///< Engine::name()
  std::string case_name;                ///< Case::name
  std::vector<CheckpointResult> results;///< one per checkpoint, in pipeline order

  /// True when no checkpoint failed.
  bool passed() const;
  /// The first failing checkpoint's divergence, or nullptr.
  const Divergence* first_divergence() const;
  /// The result of checkpoint `c`.
  const CheckpointResult& at(Checkpoint c) const;
};

/// Hex of the low `bits` bits of `v`, zero-padded: hex(0x3f80, 16) == "0x3f80".
std::string hex(uint64_t v, int bits);

/// \}

}  // namespace zipserv::oracle
