// Fibers on Boost.Context's fcontext (fiber.h). With AddressSanitizer every switch is announced
// (__sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber), so ASan knows which stack
// is live and reports no false stack-buffer overflows.
#include "fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#define ZIPSERV_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZIPSERV_SIM_ASAN 1
#endif
#endif

#if ZIPSERV_SIM_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace zipserv::cuda::sim::detail {

namespace bctx = boost::context::detail;

namespace {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// The two halves of an announced switch; no-ops without ASan.
inline void before_switch([[maybe_unused]] void** fake_stack_save, [[maybe_unused]] const void* to_bottom,
                          [[maybe_unused]] size_t to_size) {
#if ZIPSERV_SIM_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, to_bottom, to_size);
#endif
}
inline void after_switch([[maybe_unused]] void* fake_stack_save, [[maybe_unused]] const void** from_bottom,
                         [[maybe_unused]] size_t* from_size) {
#if ZIPSERV_SIM_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, from_bottom, from_size);
#endif
}

}  // namespace

Fiber::Fiber(size_t stack_bytes) {
  const size_t page = page_size();
  stack_bytes_ = (stack_bytes + page - 1) / page * page + page;  // + one guard page below
  stack_ = mmap(nullptr, stack_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack_ == MAP_FAILED) throw std::bad_alloc();
  mprotect(stack_, page, PROT_NONE);  // a stack overflow faults instead of corrupting memory
}

Fiber::~Fiber() { munmap(stack_, stack_bytes_); }

void Fiber::start(Entry entry, void* arg) {
  entry_ = entry;
  arg_ = arg;
  finished_ = false;
  const size_t page = page_size();
  void* top = static_cast<char*>(stack_) + stack_bytes_;
  fiber_ctx_ = bctx::make_fcontext(top, stack_bytes_ - page, &Fiber::trampoline);
}

void Fiber::resume() {
  const size_t page = page_size();
  before_switch(&fake_stack_, static_cast<char*>(stack_) + page, stack_bytes_ - page);
  const bctx::transfer_t back = bctx::jump_fcontext(fiber_ctx_, this);
  after_switch(fake_stack_, nullptr, nullptr);
  fiber_ctx_ = back.fctx;  // where the fiber paused (unused once finished)
}

void Fiber::yield() {
  void* fake = nullptr;
  before_switch(&fake, scheduler_stack_bottom_, scheduler_stack_size_);
  const bctx::transfer_t back = bctx::jump_fcontext(scheduler_ctx_, nullptr);
  after_switch(fake, &scheduler_stack_bottom_, &scheduler_stack_size_);
  scheduler_ctx_ = back.fctx;
}

void Fiber::trampoline(bctx::transfer_t from) {
  auto* self = static_cast<Fiber*>(from.data);
  self->scheduler_ctx_ = from.fctx;
  after_switch(nullptr, &self->scheduler_stack_bottom_, &self->scheduler_stack_size_);
  self->entry_(self->arg_);  // must not throw: the entry catches everything
  self->finished_ = true;
  // Leave for good: a null fake-stack slot tells ASan this stack is done.
  before_switch(nullptr, self->scheduler_stack_bottom_, self->scheduler_stack_size_);
  bctx::jump_fcontext(self->scheduler_ctx_, nullptr);
}

}  // namespace zipserv::cuda::sim::detail
