/*! \file parallel_for.h
 *  \brief The one parallel loop of the project: independent work items handed out one at a time
 *         to std::threads, the calling thread among them, and a worker's exception carried back
 *         to the caller.
 *
 *  Every multithreaded part uses it: the reference encoder and decoder (block-tile rows), the
 *  CPU emulation's decode and ZipGEMM (block-tile rows, GEMM work items), the container
 *  (tensors of a file). Each item writes its own part of the output, so which thread runs which
 *  item never changes a bit of the result: outputs are identical for every thread count.
 */
#pragma once

#include <cstdint>
#include <functional>

namespace zipserv {

/// The number of threads a request for `threads` means when there are `items` work items:
/// `threads` itself if positive, else one per hardware thread; never more than `items`, never
/// less than 1.
int resolve_threads(int threads, int64_t items);

/// Calls body(i) exactly once for every i in [0, count), on resolve_threads(threads, count)
/// threads; the calling thread is one of them. Items are handed out in order, one at a time, to
/// whichever thread is free (an atomic counter), so uneven items still keep every thread busy.
///
/// If a body throws, no new item starts (items already running finish), and once every thread
/// has stopped, the first exception is rethrown to the caller. If the system refuses to start a
/// thread, the items run on the threads that did start. count <= 0 calls nothing.
void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& body);

}  // namespace zipserv
