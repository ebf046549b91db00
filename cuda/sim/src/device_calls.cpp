// The CPU side of the device primitives (device_calls.h): barrier and mma waits, cp.async with
// its groups, and the shared / global access checks.
#include "zipserv/cuda/sim/device_calls.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "sim_state.h"

namespace zipserv::cuda::sim {

using detail::BlockState;
using detail::ByteShadow;
using detail::kNoThread;
using detail::ThreadState;
using detail::ThreadWait;

namespace {

/// The poison pattern of shared bytes whose cp.async has not landed.
constexpr unsigned char kPoisonByte = 0xFF;

// Offset of [p, p + bytes) in the block's shared memory, or -1 (reported) when outside.
int64_t shared_offset(ThreadState& t, const void* p, size_t bytes, const std::source_location& where,
                      HazardKind kind) {
  BlockState& b = *t.block;
  const auto* q = static_cast<const unsigned char*>(p);
  if (b.shared == nullptr || q < b.shared || q + bytes > b.shared + b.shared_bytes) {
    report(b, kind, t.tid, where, -1, {}, -1,
           "an access of " + std::to_string(bytes) + " bytes lies outside the launch's " +
               std::to_string(b.shared_bytes) + " bytes of dynamic shared memory:");
    return -1;
  }
  return q - b.shared;
}

// A write by t to bytes [off, off + n): reports a race with another thread's write or read in
// this barrier interval, and (check_pending) a write over a cp.async still in flight.
void shadow_write(ThreadState& t, int64_t off, size_t n, const std::source_location& where, bool check_pending) {
  BlockState& b = *t.block;
  const auto tid = static_cast<uint16_t>(t.tid);
  bool reported = false;
  for (size_t i = 0; i < n; ++i) {
    ByteShadow& s = (*b.shadow)[static_cast<size_t>(off) + i];
    if (!reported) {
      if (check_pending && s.pending_block == b.block_serial) {
        report(b, HazardKind::cp_async_not_landed, t.tid, where, s.pending_thread, s.pending_at,
               off + static_cast<int64_t>(i), "a shared byte is written while a cp.async to it is in flight:");
        reported = true;
      } else if (s.write_interval == b.interval && s.writer != tid) {
        report(b, HazardKind::shared_race, t.tid, where, s.writer, s.write_at, off + static_cast<int64_t>(i),
               "write after write with no __syncthreads() between:");
        reported = true;
      } else if (s.read_interval == b.interval && (s.reader1 != tid || s.reader2 != kNoThread)) {
        const bool first = s.reader1 != tid;
        report(b, HazardKind::shared_race, t.tid, where, first ? s.reader1 : s.reader2, first ? s.read1_at : s.read2_at,
               off + static_cast<int64_t>(i), "write after read with no __syncthreads() between:");
        reported = true;
      }
    }
    s.writer = tid;
    s.write_interval = b.interval;
    s.write_at = where;
  }
  b.stats.shared_bytes_checked += static_cast<int64_t>(n);
}

void land(ThreadState& t, detail::PendingCopy& copy) {
  BlockState& b = *t.block;
  std::memcpy(copy.dst, copy.data.data(), 16);
  const int64_t off = copy.dst - b.shared;
  for (int i = 0; i < 16; ++i) {
    ByteShadow& s = (*b.shadow)[static_cast<size_t>(off + i)];
    if (s.pending_block == b.block_serial && s.pending_thread == t.tid) s.pending_block = 0;
  }
  shadow_write(t, off, 16, copy.at, false);
}

void wait_here(ThreadState& t, ThreadWait what, const std::source_location& where) {
  t.wait = what;
  t.wait_at = where;
  t.fiber->yield();
}

}  // namespace

void block_barrier(const std::source_location& where) {
  ThreadState* t = detail::current_thread;
  if (t == nullptr) throw std::logic_error("cuda-sim: __syncthreads() called outside a kernel launch");
  wait_here(*t, ThreadWait::barrier, where);
}

void cp_async_16(void* dst_shared, const void* src_global, int src_bytes, const std::source_location& where) {
  ThreadState* t = detail::current_thread;
  std::array<unsigned char, 16> data{};
  if (t == nullptr) {  // a host test calling a staging step directly: a plain copy
    std::memcpy(dst_shared, src_global, static_cast<size_t>(src_bytes));
    std::memset(static_cast<unsigned char*>(dst_shared) + src_bytes, 0, static_cast<size_t>(16 - src_bytes));
    return;
  }
  BlockState& b = *t->block;
  ++b.stats.cp_async;
  const auto dst_addr = reinterpret_cast<uintptr_t>(dst_shared), src_addr = reinterpret_cast<uintptr_t>(src_global);
  if (src_bytes < 0 || src_bytes > 16 || dst_addr % 16 != 0 || (src_bytes > 0 && src_addr % 16 != 0)) {
    report(b, HazardKind::cp_async_bad_address, t->tid, where, -1, {}, -1,
           "cp.async needs 16-B aligned addresses and 0..16 source bytes (dst % 16 = " +
               std::to_string(dst_addr % 16) + ", src % 16 = " + std::to_string(src_addr % 16) +
               ", src bytes " + std::to_string(src_bytes) + "):");
    return;
  }
  const int64_t off = shared_offset(*t, dst_shared, 16, where, HazardKind::cp_async_bad_address);
  if (off < 0) return;
  if (src_bytes > 0 && !is_registered_global(src_global, static_cast<size_t>(src_bytes))) {
    report(b, HazardKind::cp_async_bad_address, t->tid, where, -1, {}, off,
           "cp.async reads " + std::to_string(src_bytes) + " bytes outside every registered global allocation:");
    return;
  }
  std::memcpy(data.data(), src_global, static_cast<size_t>(src_bytes));
  detail::PendingCopy copy{static_cast<unsigned char*>(dst_shared), data, where};
  if (b.options->landing == CpAsyncLanding::at_issue) {
    shadow_write(*t, off, 16, where, true);
    std::memcpy(copy.dst, data.data(), 16);
    return;
  }
  shadow_write(*t, off, 16, where, true);  // the copy may land any time from now: conflicts start here
  std::memset(copy.dst, kPoisonByte, 16);
  for (int i = 0; i < 16; ++i) {
    ByteShadow& s = (*b.shadow)[static_cast<size_t>(off + i)];
    s.pending_block = b.block_serial;
    s.pending_thread = static_cast<uint16_t>(t->tid);
    s.pending_at = where;
  }
  t->open_group.push_back(copy);
}

void cp_async_commit() {
  ThreadState* t = detail::current_thread;
  if (t == nullptr) return;
  t->committed.push_back(std::move(t->open_group));
  t->open_group.clear();
}

void cp_async_wait_group(int pending, const std::source_location& where) {
  (void)where;
  ThreadState* t = detail::current_thread;
  if (t == nullptr) return;
  while (static_cast<int>(t->committed.size()) > pending) {
    for (detail::PendingCopy& c : t->committed.front()) land(*t, c);
    t->committed.erase(t->committed.begin());
  }
}

void mma_m16n8k16_bf16_f32(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                           const std::source_location& where) {
  ThreadState* t = detail::current_thread;
  if (t == nullptr) throw std::logic_error("cuda-sim: mma.sync called outside a kernel launch");
  BlockState& blk = *t->block;
  detail::WarpState& w = blk.warps[static_cast<size_t>(t->warp)];
  t->mma_c = &c;
  t->mma_a = &a;
  t->mma_b = &b;
  if (w.arrived == 0) {
    w.site = where;
  } else if (!detail::same_location(w.site, where)) {
    int other = -1;
    const int lanes = static_cast<int>(blk.threads.size()) - t->warp * 32;
    for (int l = 0; l < 32 && l < lanes && other < 0; ++l)
      if (blk.threads[static_cast<size_t>(t->warp * 32 + l)].wait == ThreadWait::mma) other = t->warp * 32 + l;
    report(blk, HazardKind::divergent_warp_collective, t->tid, where, other, w.site, -1,
           "lanes of one warp reach different mma.sync instructions:");
    blk.fatal = true;
    wait_here(*t, ThreadWait::mma, where);  // never resumed: the block stops
    return;
  }
  if (++w.arrived == 32) {
    detail::complete_mma(blk, t->warp);
    w.arrived = 0;
    for (int l = 0; l < 32; ++l) {  // 32 arrived: the warp is whole
      ThreadState& lane = blk.threads[static_cast<size_t>(t->warp * 32 + l)];
      if (lane.wait == ThreadWait::mma) lane.wait = ThreadWait::runnable;
    }
    return;
  }
  wait_here(*t, ThreadWait::mma, where);
}

unsigned char* dynamic_shared_memory() {
  ThreadState* t = detail::current_thread;
  return t == nullptr ? nullptr : t->block->shared;
}

void check_shared_read(const void* p, size_t bytes, const std::source_location& where) {
  ThreadState* t = detail::current_thread;
  if (t == nullptr) return;
  BlockState& b = *t->block;
  const int64_t off = shared_offset(*t, p, bytes, where, HazardKind::shared_out_of_bounds);
  if (off < 0) throw detail::StopBlock{};
  const auto tid = static_cast<uint16_t>(t->tid);
  bool reported = false;
  for (size_t i = 0; i < bytes; ++i) {
    ByteShadow& s = (*b.shadow)[static_cast<size_t>(off) + i];
    if (!reported) {
      if (s.pending_block == b.block_serial) {
        report(b, HazardKind::cp_async_not_landed, t->tid, where, s.pending_thread, s.pending_at,
               off + static_cast<int64_t>(i),
               "a shared byte is read before the cp.async that writes it has landed (no covering "
               "cp.async.wait_group + __syncthreads):");
        reported = true;
      } else if (s.write_interval == b.interval && s.writer != tid) {
        report(b, HazardKind::shared_race, t->tid, where, s.writer, s.write_at, off + static_cast<int64_t>(i),
               "read after write with no __syncthreads() between:");
        reported = true;
      }
    }
    if (s.read_interval != b.interval) {
      s.read_interval = b.interval;
      s.reader1 = tid;
      s.reader2 = kNoThread;
      s.read1_at = where;
    } else if (s.reader1 != tid && s.reader2 == kNoThread) {
      s.reader2 = tid;
      s.read2_at = where;
    }
  }
  b.stats.shared_bytes_checked += static_cast<int64_t>(bytes);
}

void check_shared_write(const void* p, size_t bytes, const std::source_location& where) {
  ThreadState* t = detail::current_thread;
  if (t == nullptr) return;
  const int64_t off = shared_offset(*t, p, bytes, where, HazardKind::shared_out_of_bounds);
  if (off < 0) throw detail::StopBlock{};
  shadow_write(*t, off, bytes, where, true);
}

void check_global_access(const void* p, size_t bytes, bool write, const std::source_location& where) {
  ThreadState* t = detail::current_thread;
  if (t == nullptr) return;
  if (is_registered_global(p, bytes)) return;
  report(*t->block, HazardKind::global_out_of_bounds, t->tid, where, -1, {}, -1,
         std::string("a global ") + (write ? "write" : "read") + " of " + std::to_string(bytes) +
             " bytes lies outside every registered device allocation:");
  throw detail::StopBlock{};
}

}  // namespace zipserv::cuda::sim
