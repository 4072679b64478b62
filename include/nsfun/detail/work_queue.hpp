// SPDX-License-Identifier: MIT
// nsfun – private: the one small thread pool of the scanner and the Snapshot.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace nsfun::detail {

// Items pushed by one thread and taken, in push order, by the caller and up to a few helper
// threads that all run the same loop (`while (Item* i = q.take()) …`). Items may be pushed while
// the helpers already work (the scanner lists /proc as its helpers scan), and stay in the queue
// (std::deque: pushing never moves the items a thread is working on), so their results can be
// read in order once every thread is done. The first exception any thread throws stops every
// thread and is rethrown by rethrow(). A helper that cannot be made is simply not there: the
// caller's own loop does its share. The destructor joins, so no way out leaves a thread running.
template <class Item>
class WorkQueue {
 public:
  WorkQueue() = default;
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  ~WorkQueue() { join(); }

  void push(Item item) {
    {
      std::lock_guard lock(m_);
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
  }

  // No more items will be pushed: take() returns nullptr once every item is handed out.
  void finish() noexcept {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_all();
  }

  // The next item; nullptr once every item was handed out and no more will come, or once a
  // thread failed.
  Item* take() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return next_ < items_.size() || done_ || failure_; });
    return next_ < items_.size() && !failure_ ? &items_[next_++] : nullptr;
  }

  // Runs `work` on the calling thread; an exception stops every thread and is kept for
  // rethrow().
  template <class F>
  void run(F&& work) noexcept {
    try {
      std::forward<F>(work)();
    } catch (...) {
      {
        std::lock_guard lock(m_);
        if (!failure_) {
          failure_ = std::current_exception();
        }
      }
      cv_.notify_all();
    }
  }

  // Starts up to `n` helper threads, each running run(work) (a copy of `work`); returns how many
  // started (fewer when the system makes no more threads).
  template <class F>
  unsigned start(unsigned n, const F& work) {
    unsigned started = 0;
    for (; started < n; ++started) {
      try {
        threads_.emplace_back([this, work] { run(work); });
      } catch (const std::system_error&) {
        break;
      }
    }
    return started;
  }

  // finish(), then waits for every helper.
  void join() noexcept {
    finish();
    for (auto& t : threads_) {
      t.join();
    }
    threads_.clear();
  }

  // After join(): the first exception a thread threw, if any.
  void rethrow() const {
    if (failure_) {
      std::rethrow_exception(failure_);
    }
  }

  // After join(): every item, in push order.
  [[nodiscard]] std::deque<Item>& items() noexcept { return items_; }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Item> items_;
  std::size_t next_ = 0;
  bool done_ = false;
  std::exception_ptr failure_;
  std::vector<std::thread> threads_;
};

// Runs fn(i) for i in [0, n), split in contiguous ranges over up to `workers` threads (the caller
// and helpers of a WorkQueue; 0: one per CPU, at most 4, and only when n is large enough to pay
// for a thread). The first exception fn throws is rethrown here, once every thread has stopped.
template <class F>
void parallel_for(std::size_t n, unsigned workers, F&& fn) {
  if (n == 0) {
    return;
  }
  constexpr std::size_t per_thread_minimum = 300;
  if (workers == 0) {
    unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
    workers = static_cast<unsigned>(std::min<std::size_t>({cpus, 4U, n / per_thread_minimum}));
  }
  workers = std::max(1U, workers);
  const std::size_t per = (n + workers - 1) / workers;

  struct Range {
    std::size_t begin;
    std::size_t end;
  };

  WorkQueue<Range> queue;
  for (std::size_t a = 0; a < n; a += per) {
    queue.push({a, std::min(n, a + per)});
  }
  queue.finish();
  auto loop = [&] {
    while (Range* r = queue.take()) {
      for (std::size_t i = r->begin; i < r->end; ++i) {
        fn(i);
      }
    }
  };
  queue.start(workers - 1, loop);
  queue.run(loop);
  queue.join();
  queue.rethrow();
}

}  // namespace nsfun::detail
