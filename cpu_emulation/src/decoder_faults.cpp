// The test-only decoder faults (decoder_faults.h): where the armed fault lives, and the scalar
// code that damages a decoded slice the way each kind of bug would.
#include "zipserv/emulation/decoder_faults.h"

#include <atomic>
#include <bit>
#include <utility>

#include "zipserv/reference/element_code.h"

namespace zipserv::emu {
namespace {

std::atomic<const DecoderFault*> g_armed{nullptr};

bool at(const DecoderFault& f, int64_t t, int s, int q) { return f.block_tile == t && f.warp == s && f.slice == q; }

}  // namespace

void arm_decoder_fault(const DecoderFault* fault) { g_armed.store(fault, std::memory_order_release); }

const DecoderFault* armed_decoder_fault() { return g_armed.load(std::memory_order_acquire); }

StreamCursors faulty_slice_cursors(const DecoderFault& fault, int64_t t, int s, int q, StreamCursors cursors) {
  if (fault.kind == DecoderFaultKind::hf_cursor_off_by_one && at(fault, t, s, q)) ++cursors.hf;
  return cursors;
}

void apply_register_fault(const DecoderFault& fault, int64_t t, int s, int q, const SliceBitmaps& bitmaps,
                          StreamCursors cursors, const StagedStreams& streams, uint32_t* regs) {
  if (!at(fault, t, s, q)) return;
  if (fault.kind == DecoderFaultKind::swapped_lanes) {
    for (int reg = 0; reg < kARegsPerLane; ++reg)
      std::swap(regs[reg * kWarpLanes + fault.lane], regs[reg * kWarpLanes + fault.lane2]);
  } else if (fault.kind == DecoderFaultKind::wrong_stream_read) {
    // The cursors of FragTile `reg`: the slice's, advanced past the FragTiles before it.
    for (int i = 0; i < fault.reg; ++i) {
      const int n = std::popcount(bitmaps[i].b1 | bitmaps[i].b2 | bitmaps[i].b3);
      cursors.hf += n;
      cursors.full += 64 - n;
    }
    const FragTileBitmaps& b = bitmaps[fault.reg];
    const uint64_t indicator = b.b1 | b.b2 | b.b3;
    const int p = 2 * fault.lane;  // the register's low half: element 2 * lane of the FragTile
    const int before = std::popcount(indicator & ((uint64_t{1} << p) - 1));
    uint16_t wrong;
    if ((indicator >> p) & 1) {
      wrong = streams.full[cursors.full + before];  // a high-frequency element read from `full`
    } else {  // a fallback element read from sign_mantissa, as if it had code 1
      wrong = rebuild_bf16(1, streams.sign_mantissa[cursors.hf + (p - before)], streams.start_exp);
    }
    uint32_t& r = regs[fault.reg * kWarpLanes + fault.lane];
    r = (r & 0xFFFF0000u) | wrong;
  }
}

}  // namespace zipserv::emu
