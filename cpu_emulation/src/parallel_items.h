/*! \file parallel_items.h
 *  \brief Runs independent work items on std::threads, handed out in order by one atomic counter.
 *
 *  The GEMMs give every item a disjoint piece of the output, so which thread runs which item
 *  cannot change a single bit of the result: outputs are identical for every thread count.
 */
#pragma once

#include <cstdint>
#include <functional>

namespace zipserv::emu {

/// Returns `threads` if positive, else the number of hardware threads (at least 1).
int resolve_threads(int threads);

/// Calls body(i) exactly once for every i in [0, count), on min(threads, count) threads (the
/// calling thread is one of them). Returns when all items are done.
void parallel_for_items(int64_t count, int threads, const std::function<void(int64_t)>& body);

}  // namespace zipserv::emu
