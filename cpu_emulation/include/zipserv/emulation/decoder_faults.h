/*! \file decoder_faults.h
 *  \brief Test-only mutation hooks in the emulation's fragment decoder: arm one fault (a stream
 *         cursor off by one, two lanes' registers swapped, one lane reading the wrong stream) at
 *         one block tile, warp and slice, and every decode of the emulation carries it.
 *
 *  Why: the oracle is only as good as its ability to name where an engine went wrong. Damaging
 *  an engine's *outputs* tests the comparison; damaging the engine itself, inside the decoder a
 *  kernel would have, tests that a real bug of each kind is caught and located at the slice and
 *  lane where it happened (tests/oracle/tests/emulation_fault_test.cpp).
 *
 *  Cost when nothing is armed: one atomic load per decoded strip. Not thread-safe to arm while
 *  another thread decodes; tests arm, run, disarm (ScopedDecoderFault).
 */
#pragma once

#include <cstdint>

#include "zipserv/emulation/lane_decode.h"

namespace zipserv::emu {

/// \addtogroup stage_lane_fragments
/// \{

/// The kinds of decoder bug a test can inject.
enum class DecoderFaultKind {
  hf_cursor_off_by_one,  ///< the slice starts reading sign_mantissa one byte late (and so does the rest of the strip)
  swapped_lanes,         ///< lanes `lane` and `lane2` exchange all four registers of the slice
  wrong_stream_read,     ///< lane `lane`'s register `reg`, low half, reads the other stream at the same index
};

/// Where and what: the fault applies to slice `slice` of warp (strip) `warp` of block tile `block_tile`.
struct DecoderFault {
  DecoderFaultKind kind = DecoderFaultKind::hf_cursor_off_by_one;  ///< what goes wrong
  int64_t block_tile = 0;  ///< t
  int warp = 0;            ///< strip s, 0..3
  int slice = 0;           ///< k16 slice q, 0..3
  int lane = 0;            ///< swapped_lanes, wrong_stream_read: the lane
  int lane2 = 0;           ///< swapped_lanes: the other lane
  int reg = 0;             ///< wrong_stream_read: the register a0..a3
};

/// Arms `fault` for every later decode until disarmed; the object must outlive the arming.
void arm_decoder_fault(const DecoderFault* fault);

/// The armed fault, or nullptr (the decoder's check).
const DecoderFault* armed_decoder_fault();

/// Arms a fault for the lifetime of the object.
class ScopedDecoderFault {
 public:
  /// Arms `fault` (copied).
  explicit ScopedDecoderFault(const DecoderFault& fault) : fault_(fault) { arm_decoder_fault(&fault_); }
  ~ScopedDecoderFault() { arm_decoder_fault(nullptr); }
  ScopedDecoderFault(const ScopedDecoderFault&) = delete;
  ScopedDecoderFault& operator=(const ScopedDecoderFault&) = delete;

 private:
  DecoderFault fault_;
};

/// The cursors slice (t, s, q) starts from under `fault` (unchanged unless it is a cursor fault there).
StreamCursors faulty_slice_cursors(const DecoderFault& fault, int64_t t, int s, int q, StreamCursors cursors);

/// Applies a register fault to the decoded slice (t, s, q): `regs` is (R4, T32), decoded from
/// `bitmaps` starting at `cursors` out of `streams`.
void apply_register_fault(const DecoderFault& fault, int64_t t, int s, int q, const SliceBitmaps& bitmaps,
                          StreamCursors cursors, const StagedStreams& streams, uint32_t* regs);

/// \}

}  // namespace zipserv::emu
