// Hazard reports of cuda-sim: one readable paragraph each (what, where, which threads, the seed),
// identical hazards merged and counted.
#include <cstring>
#include <sstream>
#include <string>

#include "sim_state.h"

namespace zipserv::cuda::sim {

const char* hazard_kind_name(HazardKind kind) {
  switch (kind) {
    case HazardKind::shared_race: return "shared_race";
    case HazardKind::cp_async_not_landed: return "cp_async_not_landed";
    case HazardKind::cp_async_pending_at_exit: return "cp_async_pending_at_exit";
    case HazardKind::cp_async_bad_address: return "cp_async_bad_address";
    case HazardKind::shared_out_of_bounds: return "shared_out_of_bounds";
    case HazardKind::global_out_of_bounds: return "global_out_of_bounds";
    case HazardKind::divergent_barrier: return "divergent_barrier";
    case HazardKind::exit_before_barrier: return "exit_before_barrier";
    case HazardKind::divergent_warp_collective: return "divergent_warp_collective";
    case HazardKind::deadlock: return "deadlock";
    case HazardKind::kernel_exception: return "kernel_exception";
  }
  return "unknown";
}

namespace {

std::string where_text(const std::source_location& at) {
  if (at.line() == 0) return "(unknown location)";
  const char* file = at.file_name();
  // Paths are printed from the project's top folder down (cuda/src/..., cuda/include/...).
  for (const char* marker : {"/cuda/", "/tests/", "/walkthrough/", "/bench/"})
    if (const char* p = std::strstr(file, marker)) {
      file = p + 1;
      break;
    }
  return std::string(file) + ":" + std::to_string(at.line());
}

std::string thread_text(int tid) {
  return "thread " + std::to_string(tid) + " (warp " + std::to_string(tid / 32) + ", lane " + std::to_string(tid % 32) +
         ")";
}

}  // namespace

HazardError::HazardError(LaunchStats stats)
    : std::runtime_error([&] {
        std::string text = "cuda-sim found " + std::to_string(stats.hazards.size()) + " hazard kind(s):";
        for (const Hazard& h : stats.hazards) text += "\n" + h.paragraph;
        return text;
      }()),
      stats_(std::move(stats)) {}

namespace detail {

void report(BlockState& b, HazardKind kind, int thread, const std::source_location& where, int other_thread,
            const std::source_location& other_where, int64_t offset, const std::string& detail) {
  for (Hazard& h : b.stats.hazards)
    if (h.kind == kind && detail::same_location(h.where, where) && detail::same_location(h.other_where, other_where)) {
      ++h.occurrences;
      return;
    }
  Hazard h;
  h.kind = kind;
  h.kernel = b.kernel;
  h.block = b.block_idx;
  h.thread = thread;
  h.other_thread = other_thread;
  h.where = where;
  h.other_where = other_where;
  h.offset = offset;
  h.seed = b.options->seed;
  std::ostringstream s;
  s << "cuda-sim " << hazard_kind_name(kind) << " in " << b.kernel << ", block (" << b.block_idx.x << ", "
    << b.block_idx.y << ", " << b.block_idx.z << "): " << detail;
  if (thread >= 0) s << " " << thread_text(thread) << " at " << where_text(where);
  if (other_thread >= 0) s << "; " << thread_text(other_thread) << " at " << where_text(other_where);
  if (offset >= 0) s << "; shared byte offset " << offset << " of " << b.shared_bytes;
  s << ". Seed " << b.options->seed << " (the same seed reproduces this run).";
  h.paragraph = s.str();
  b.stats.hazards.push_back(std::move(h));
}

}  // namespace detail
}  // namespace zipserv::cuda::sim
