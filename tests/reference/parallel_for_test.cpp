// parallel_for(): every item exactly once, the calling thread working too, threads that really
// run at the same time, a worker's exception rethrown to the caller with no new item started
// after it, and 0 threads meaning one per hardware thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "zipserv/reference/parallel_for.h"

namespace zipserv {
namespace {

int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

TEST(ParallelFor, EveryItemRunsExactlyOnce) {
  for (int threads : {1, 2, 8, 0, -1}) {
    for (int64_t count : {0, 1, 2, 7, 8, 9, 1000}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", count " + std::to_string(count));
      std::vector<std::atomic<int>> runs(static_cast<size_t>(count));
      parallel_for(count, threads, [&](int64_t i) { runs[static_cast<size_t>(i)].fetch_add(1); });
      for (int64_t i = 0; i < count; ++i) ASSERT_EQ(runs[static_cast<size_t>(i)].load(), 1) << "item " << i;
    }
  }
}

TEST(ParallelFor, NegativeCountCallsNothing) {
  bool called = false;
  parallel_for(-3, 4, [&](int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ParallelFor, ZeroThreadsMeansOnePerHardwareThreadAndNeverMoreThanItems) {
  EXPECT_EQ(resolve_threads(0, 1 << 20), hardware_threads());
  EXPECT_EQ(resolve_threads(-5, 1 << 20), hardware_threads());
  EXPECT_EQ(resolve_threads(8, 1 << 20), 8);
  EXPECT_EQ(resolve_threads(8, 3), 3);   // never more threads than items
  EXPECT_EQ(resolve_threads(8, 0), 1);   // never fewer than one
  EXPECT_EQ(resolve_threads(1, 100), 1);
}

TEST(ParallelFor, OneThreadRunsEveryItemInOrderOnTheCallingThread) {
  std::vector<int64_t> order;
  const std::thread::id caller = std::this_thread::get_id();
  bool all_on_caller = true;
  parallel_for(20, 1, [&](int64_t i) {
    order.push_back(i);
    all_on_caller = all_on_caller && std::this_thread::get_id() == caller;
  });
  std::vector<int64_t> expected(20);
  for (int64_t i = 0; i < 20; ++i) expected[static_cast<size_t>(i)] = i;
  EXPECT_EQ(order, expected);
  EXPECT_TRUE(all_on_caller);
}

// The first `threads` items wait for one another, so they can only all finish if that many
// threads run at once; the calling thread must be one of them.
TEST(ParallelFor, RequestedThreadsRunAtOnceTheCallerAmongThem) {
  for (int threads : {2, 8}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    std::atomic<int> arrived{0};
    int most_waiting_together = 0;
    std::mutex mutex;
    std::set<std::thread::id> ids;
    parallel_for(threads, threads, [&](int64_t) {
      {
        std::lock_guard lock(mutex);
        ids.insert(std::this_thread::get_id());
      }
      arrived.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (arrived.load() < threads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      std::lock_guard lock(mutex);
      most_waiting_together = std::max(most_waiting_together, arrived.load());
    });
    EXPECT_EQ(most_waiting_together, threads);
    EXPECT_EQ(ids.size(), static_cast<size_t>(threads));
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 1u) << "the calling thread did not work";
  }
}

TEST(ParallelFor, OneThreadStopsAtTheThrowingItemAndRethrowsIt) {
  std::vector<int64_t> ran;
  try {
    parallel_for(10, 1, [&](int64_t i) {
      ran.push_back(i);
      if (i == 3 || i == 5) throw std::runtime_error("item " + std::to_string(i));
    });
    FAIL() << "the exception of item 3 did not reach the caller";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "item 3");
  }
  EXPECT_EQ(ran, (std::vector<int64_t>{0, 1, 2, 3}));
}

// Item 0 throws; every other item waits until it has thrown, then takes 20 ms. Without the stop
// all 1000 items would run (about 20 s / threads); with it, each other thread finishes the item
// it holds and starts at most one more (taken just before the stop became visible).
TEST(ParallelFor, AnExceptionReachesTheCallerAndStopsNewItems) {
  for (int threads : {1, 2, 8}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    constexpr int64_t kCount = 1000;
    std::atomic<bool> thrown{false};
    std::atomic<int64_t> started{0}, running{0};
    bool caught = false;
    try {
      parallel_for(kCount, threads, [&](int64_t i) {
        started.fetch_add(1);
        running.fetch_add(1);
        if (i == 0) {
          running.fetch_sub(1);
          thrown.store(true);
          throw std::invalid_argument("bad item 0");
        }
        while (!thrown.load()) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        running.fetch_sub(1);
      });
    } catch (const std::invalid_argument& e) {
      caught = true;
      EXPECT_STREQ(e.what(), "bad item 0");
    }
    EXPECT_TRUE(caught) << "the exception did not reach the caller";
    EXPECT_EQ(running.load(), 0) << "items still running after parallel_for returned";
    EXPECT_LE(started.load(), 1 + 2 * (threads - 1));
  }
}

TEST(ParallelFor, AnExceptionOfAnyWorkerReachesTheCaller) {
  for (int threads : {1, 2, 8}) {
    for (int64_t thrower : {int64_t{0}, int64_t{7}, int64_t{63}}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", throwing item " + std::to_string(thrower));
      EXPECT_THROW(parallel_for(64, threads, [&](int64_t i) {
                     if (i == thrower) throw std::out_of_range("item");
                   }),
                   std::out_of_range);
    }
  }
}

}  // namespace
}  // namespace zipserv
