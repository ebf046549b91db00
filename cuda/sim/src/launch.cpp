// cuda-sim's launch: blocks spread over CPU workers, each block's threads run as fibers by a
// scheduler that resumes warps in a seeded order and releases barriers only when every thread
// of the block has reached the same one; and the registry of global allocations.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "sim_state.h"
#include "zipserv/cuda/sim/device_calls.h"

namespace zipserv::cuda::sim {

using detail::BlockState;
using detail::Fiber;
using detail::ThreadState;
using detail::ThreadWait;

// ---- registered global memory -------------------------------------------------------------

namespace {

std::shared_mutex registry_mutex;
std::map<uintptr_t, size_t>& registry() {
  static std::map<uintptr_t, size_t> allocations;  // base -> bytes
  return allocations;
}

}  // namespace

void register_global(const void* base, size_t bytes) {
  std::unique_lock lock(registry_mutex);
  registry()[reinterpret_cast<uintptr_t>(base)] = bytes;
}

void unregister_global(const void* base) {
  std::unique_lock lock(registry_mutex);
  registry().erase(reinterpret_cast<uintptr_t>(base));
}

bool is_registered_global(const void* p, size_t bytes) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  std::shared_lock lock(registry_mutex);
  const auto& r = registry();
  auto it = r.upper_bound(a);
  if (it == r.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second && a + bytes >= a;
}

// ---- one block ----------------------------------------------------------------------------

namespace detail {
namespace {

// splitmix64: a small, portable generator, so a seed gives the same schedule on every platform.
uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void thread_entry(void* arg) {
  auto* t = static_cast<ThreadState*>(arg);
  BlockState& b = *t->block;
  try {
    (*b.body)();
  } catch (const StopBlock&) {
    b.fatal = true;  // already reported
  } catch (const std::exception& e) {
    report(b, HazardKind::kernel_exception, t->tid, {}, -1, {}, -1,
           std::string("the kernel threw: ") + e.what() + ";");
    b.fatal = true;
  } catch (...) {
    report(b, HazardKind::kernel_exception, t->tid, {}, -1, {}, -1, "the kernel threw a non-standard exception;");
    b.fatal = true;
  }
  // Copies never waited for: reported, then landed (on a GPU they would still complete).
  bool pending = !t->open_group.empty();
  for (const auto& g : t->committed) pending = pending || !g.empty();
  if (pending && !b.fatal) {
    const PendingCopy& first = !t->open_group.empty() ? t->open_group.front()
                                                      : *std::find_if(t->committed.begin(), t->committed.end(),
                                                                      [](const auto& g) { return !g.empty(); })->begin();
    report(b, HazardKind::cp_async_pending_at_exit, t->tid, first.at, -1, {}, first.dst - b.shared,
           "the thread exits with cp.async copies never covered by a cp.async.wait_group, issued");
  }
  t->open_group.clear();
  t->committed.clear();
}

// Nobody can run: release the barrier everyone waits at, or say why the block is stuck.
bool resolve_stall(BlockState& b, uint32_t& worker_interval) {
  const int n = static_cast<int>(b.threads.size());
  int at_barrier = 0, first_barrier = -1, first_finished = -1;
  for (const ThreadState& t : b.threads) {
    if (t.wait == ThreadWait::barrier) {
      ++at_barrier;
      if (first_barrier < 0) first_barrier = t.tid;
    } else if (t.wait == ThreadWait::finished && first_finished < 0) {
      first_finished = t.tid;
    }
  }
  if (at_barrier > 0 && at_barrier == n - b.finished) {
    const ThreadState& lead = b.threads[static_cast<size_t>(first_barrier)];
    if (b.finished > 0) {
      report(b, HazardKind::exit_before_barrier, first_barrier, lead.wait_at, first_finished, {}, -1,
             "a thread has exited while the others wait at __syncthreads() (the barrier can never complete):");
      return false;
    }
    for (const ThreadState& t : b.threads)
      if (!same_location(t.wait_at, lead.wait_at)) {
        report(b, HazardKind::divergent_barrier, lead.tid, lead.wait_at, t.tid, t.wait_at, -1,
               "threads of one block wait at different __syncthreads() call sites:");
        return false;
      }
    for (ThreadState& t : b.threads) t.wait = ThreadWait::runnable;
    b.interval = ++worker_interval;
    ++b.stats.barriers;
    return true;
  }
  // Some lanes wait at a warp collective that can never complete.
  for (const ThreadState& t : b.threads)
    if (t.wait == ThreadWait::mma) {
      int other = -1;
      for (int l = 0; l < 32 && other < 0 && t.warp * 32 + l < n; ++l) {
        const ThreadState& u = b.threads[static_cast<size_t>(t.warp * 32 + l)];
        if (u.wait != ThreadWait::mma) other = u.tid;
      }
      if (other < 0 && t.warp * 32 + 32 > n) {  // a warp of fewer than 32 threads can never complete it
        report(b, HazardKind::divergent_warp_collective, t.tid, t.wait_at, -1, {}, -1,
               "mma.sync needs all 32 lanes of a warp, and this block's last warp has only " +
                   std::to_string(n - t.warp * 32) + " threads:");
        return false;
      }
      const ThreadState* o = other >= 0 ? &b.threads[static_cast<size_t>(other)] : nullptr;
      report(b, HazardKind::divergent_warp_collective, t.tid, t.wait_at, other, o ? o->wait_at : std::source_location{},
             -1,
             std::string("lanes of one warp wait at mma.sync while another lane ") +
                 (o && o->wait == ThreadWait::finished ? "has exited:" : "waits elsewhere:"));
      return false;
    }
  report(b, HazardKind::deadlock, first_barrier, first_barrier >= 0 ? b.threads[static_cast<size_t>(first_barrier)].wait_at
                                                                     : std::source_location{},
         -1, {}, -1, "no thread of the block can run and the block has not finished:");
  return false;
}

}  // namespace

void run_block(BlockState& b, std::vector<std::unique_ptr<Fiber>>& fibers, uint32_t& worker_interval) {
  const int n = static_cast<int>(b.threads.size());
  const int warps = (n + 31) / 32;
  for (int i = 0; i < n; ++i) {
    ThreadState& t = b.threads[static_cast<size_t>(i)];
    t.block = &b;
    t.tid = i;
    t.warp = i / 32;
    t.wait = ThreadWait::runnable;
    t.fiber = fibers[static_cast<size_t>(i)].get();
    t.fiber->start(&thread_entry, &t);
  }
  b.warps.assign(static_cast<size_t>(warps), WarpState{});
  b.interval = ++worker_interval;
  uint64_t rng = b.options->seed ^ (0xD1B54A32D192ED03ull * (1 + b.block_serial_for_seed));
  std::vector<int> order(static_cast<size_t>(warps));
  for (int w = 0; w < warps; ++w) order[static_cast<size_t>(w)] = w;

  blockIdx = b.block_idx;
  blockDim = b.block_dim;
  gridDim = b.grid;
  while (!b.fatal && b.finished < n) {
    for (int i = warps - 1; i > 0; --i)  // Fisher-Yates with the block's own generator
      std::swap(order[static_cast<size_t>(i)], order[splitmix(rng) % static_cast<uint64_t>(i + 1)]);
    for (int w : order)
      for (int lane = 0; lane < 32 && !b.fatal; ++lane) {
        const int tid = w * 32 + lane;
        if (tid >= n) break;
        ThreadState& t = b.threads[static_cast<size_t>(tid)];
        while (t.wait == ThreadWait::runnable && !b.fatal) {
          current_thread = &t;
          threadIdx = Dim3{static_cast<unsigned>(tid), 0, 0};
          t.fiber->resume();
          current_thread = nullptr;
          if (t.fiber->finished()) {
            t.wait = ThreadWait::finished;
            ++b.finished;
          }
        }
      }
    if (b.fatal || b.finished == n) break;
    bool runnable = false;
    for (const ThreadState& t : b.threads) runnable = runnable || t.wait == ThreadWait::runnable;
    if (runnable) continue;
    if (!resolve_stall(b, worker_interval)) b.fatal = true;
  }
  // Fibers of a stopped block are abandoned where they wait; their stacks are reused.
  b.stats.blocks = 1;
  b.stats.threads = n;
}

}  // namespace detail

// ---- launch -------------------------------------------------------------------------------

namespace {

thread_local LaunchStats last_stats;

// One CPU worker's reusable resources.
struct Worker {
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<unsigned char> shared_storage;
  detail::SharedShadow shadow;
  uint32_t interval = 0;
  uint32_t serial = 0;
};

Worker& worker_for_this_thread() {
  thread_local Worker w;
  return w;
}

}  // namespace

const LaunchStats& last_launch_stats() { return last_stats; }

LaunchStats launch(const char* kernel_name, Dim3 grid, Dim3 block, size_t shared_bytes, const Options& options,
                   const std::function<void()>& thread_body) {
  if (block.y != 1 || block.z != 1 || block.x == 0 || block.x > 1024)
    throw std::invalid_argument("cuda-sim: blocks must be one-dimensional with 1..1024 threads (got " +
                                std::to_string(block.x) + "x" + std::to_string(block.y) + "x" +
                                std::to_string(block.z) + ")");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) throw std::invalid_argument("cuda-sim: empty grid");
  if (detail::current_thread != nullptr) throw std::logic_error("cuda-sim: a launch from inside a kernel");
  const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
  const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const int workers = static_cast<int>(std::min<uint64_t>(options.workers > 0 ? options.workers : hw, blocks));

  std::atomic<uint64_t> next{0};
  std::mutex merge_mutex;
  std::vector<std::pair<uint64_t, LaunchStats>> per_block;  // only blocks with hazards
  LaunchStats total;

  auto work = [&] {
    Worker& w = worker_for_this_thread();
    while (w.fibers.size() < block.x) w.fibers.push_back(std::make_unique<Fiber>(detail::kFiberStackBytes));
    const size_t storage = shared_bytes + 128;
    if (w.shared_storage.size() < storage) w.shared_storage.resize(storage);
    if (w.shadow.size() < shared_bytes) w.shadow.resize(shared_bytes);
    unsigned char* shared = w.shared_storage.data();
    shared += (128 - reinterpret_cast<uintptr_t>(shared) % 128) % 128;
    LaunchStats mine;
    for (uint64_t linear = next++; linear < blocks; linear = next++) {
      BlockState b;
      b.kernel = kernel_name;
      b.options = &options;
      b.grid = grid;
      b.block_dim = block;
      b.block_idx = Dim3{static_cast<unsigned>(linear % grid.x), static_cast<unsigned>(linear / grid.x % grid.y),
                         static_cast<unsigned>(linear / (uint64_t{grid.x} * grid.y))};
      b.block_serial = ++w.serial == 0 ? ++w.serial : w.serial;
      b.block_serial_for_seed = linear;
      b.shared = shared_bytes > 0 ? shared : nullptr;
      b.shared_bytes = shared_bytes;
      std::memset(shared, 0xFF, shared_bytes);  // uninitialized shared memory reads as a NaN pattern
      b.shadow = &w.shadow;
      b.threads.assign(block.x, ThreadState{});
      b.body = &thread_body;
      detail::run_block(b, w.fibers, w.interval);
      mine.blocks += 1;
      mine.threads += b.stats.threads;
      mine.barriers += b.stats.barriers;
      mine.mma += b.stats.mma;
      mine.cp_async += b.stats.cp_async;
      mine.shared_bytes_checked += b.stats.shared_bytes_checked;
      if (!b.stats.hazards.empty()) {
        std::lock_guard lock(merge_mutex);
        per_block.emplace_back(linear, std::move(b.stats));
      }
    }
    std::lock_guard lock(merge_mutex);
    total.blocks += mine.blocks;
    total.threads += mine.threads;
    total.barriers += mine.barriers;
    total.mma += mine.mma;
    total.cp_async += mine.cp_async;
    total.shared_bytes_checked += mine.shared_bytes_checked;
  };
  std::vector<std::thread> helpers;
  std::exception_ptr failure;
  for (int i = 1; i < workers; ++i)
    helpers.emplace_back([&] {
      try {
        work();
      } catch (...) {
        std::lock_guard lock(merge_mutex);
        failure = std::current_exception();
      }
    });
  try {
    work();
  } catch (...) {
    std::lock_guard lock(merge_mutex);
    failure = std::current_exception();
  }
  for (std::thread& h : helpers) h.join();
  if (failure) std::rethrow_exception(failure);

  // Hazards in block order, identical ones (same kind and places) merged across blocks.
  std::sort(per_block.begin(), per_block.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& [linear, stats] : per_block)
    for (Hazard& h : stats.hazards) {
      bool merged = false;
      for (Hazard& t : total.hazards)
        if (t.kind == h.kind && detail::same_location(t.where, h.where) &&
            detail::same_location(t.other_where, h.other_where)) {
          t.occurrences += h.occurrences;
          merged = true;
          break;
        }
      if (!merged) total.hazards.push_back(std::move(h));
    }
  last_stats = total;
  if (!total.hazards.empty() && options.throw_on_hazard) throw HazardError(total);
  return total;
}

}  // namespace zipserv::cuda::sim
