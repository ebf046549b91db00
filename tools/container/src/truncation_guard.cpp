// The SIGBUS handler behind TruncationGuard (truncation_guard.h). Everything the handler touches
// is a fixed table of atomics: a signal handler may not lock or allocate.
#include "truncation_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace zipserv::st::detail {
namespace {

struct Slot {
  std::atomic<bool> taken{false};   // claimed by a guard
  std::atomic<uintptr_t> begin{0};  // the mapping; begin == end while being (un)registered
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> faulted{false};
};

Slot g_slots[TruncationGuard::kSlots];
struct sigaction g_previous {};
uintptr_t g_page_size = 4096;

void pass_on(int sig, siginfo_t* info, void* context) {
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
  } else {
    // What would have happened without us: the default action, death by SIGBUS. (Ignoring a
    // fault is not possible; the instruction would fault again forever.) The signal is blocked
    // in this handler, so it arrives as soon as the handler returns.
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
  }
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(info->si_addr);
  if (info->si_code == BUS_ADRERR) {
    for (Slot& s : g_slots) {
      if (!s.taken.load(std::memory_order_acquire)) continue;
      const uintptr_t begin = s.begin.load(std::memory_order_acquire), end = s.end.load(std::memory_order_acquire);
      if (at < begin || at >= end) continue;
      // The file ends before `at`, so it ends before everything after it too: one mapping of
      // zero pages to the end of ours, and this fault is the last.
      const uintptr_t page = at / g_page_size * g_page_size;
      if (mmap(reinterpret_cast<void*>(page), end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
          MAP_FAILED)
        break;
      s.faulted.store(true, std::memory_order_release);
      return;  // the faulting read runs again and reads zeros
    }
  }
  pass_on(sig, info, context);
}

void install_handler() {
  g_page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &g_previous);
}

}  // namespace

TruncationGuard::TruncationGuard(const void* begin, size_t size) {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_slots[i].taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    g_slots[i].faulted.store(false, std::memory_order_relaxed);
    g_slots[i].begin.store(reinterpret_cast<uintptr_t>(begin), std::memory_order_release);
    g_slots[i].end.store(reinterpret_cast<uintptr_t>(begin) + size, std::memory_order_release);
    slot_ = i;
    return;
  }
}

TruncationGuard::~TruncationGuard() {
  if (slot_ < 0) return;
  Slot& s = g_slots[slot_];
  s.end.store(0, std::memory_order_release);
  s.begin.store(0, std::memory_order_release);
  s.taken.store(false, std::memory_order_release);
}

bool TruncationGuard::shrank() const { return slot_ >= 0 && g_slots[slot_].faulted.load(std::memory_order_acquire); }

}  // namespace zipserv::st::detail
