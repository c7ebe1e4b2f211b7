// Row ranges over a pool of threads. Generic code; the pool holds no per-call state, so any
// number of callers (and later Dask workers) may use it.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>
#if defined(__linux__)
#include <sched.h>
#endif

#include "fasttopk/arrays.hpp"

namespace fasttopk {

// Work below this many elements stays on the calling thread: waking threads costs more.
constexpr index_t min_parallel_elements = index_t(1) << 16;

class ThreadPool {
   public:
    // Starts up to n_threads - 1 workers. A start that fails (thread limits, address-space
    // limits) ends the loop: the pool runs with the threads it has, and size() says how many.
    // Throwing instead would unwind past workers already waiting on our condition variables.
    explicit ThreadPool(int n_threads) {
        // Never more than 8 threads per CPU of the machine (at least 64): more only
        // oversubscribes, and hundreds of 8 MiB stacks can use up an address-space limit, where
        // glibc aborts inside pthread_create instead of failing it.
        const int ceiling = int(std::max(64u, 8u * std::thread::hardware_concurrency()));
        const int wanted = std::max(1, std::min(n_threads, ceiling));
        workers_.reserve(std::size_t(wanted - 1));
        for (int i = 1; i < wanted; ++i) {
            try {
                workers_.emplace_back([this] { work(); });
            } catch (const std::system_error&) {
                break;
            }
        }
        n_threads_ = int(workers_.size()) + 1;
    }
    ~ThreadPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Calls fn(begin, end) over [0, n_items) in chunks, on this thread and the workers. If the
    // pool is busy with another caller, the whole range runs on this thread instead.
    void for_each_range(index_t n_items, index_t n_chunks,
                        const std::function<void(index_t, index_t)>& fn) {
        n_chunks = std::max<index_t>(1, std::min(n_chunks, n_items));
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (n_threads_ == 1 || n_chunks == 1 || !busy.owns_lock()) {
            if (n_items > 0) fn(0, n_items);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &fn;
            job_items_ = n_items;
            job_chunks_ = n_chunks;
            next_chunk_.store(0);
            done_chunks_ = 0;
            ++generation_;
        }
        wake_.notify_all();
        run_chunks();
        std::unique_lock<std::mutex> lock(mutex_);
        finished_.wait(lock, [this] { return done_chunks_ == job_chunks_ && active_ == 0; });
        job_ = nullptr;
    }

   private:
    void run_chunks() {
        index_t done = 0;
        for (;;) {
            index_t c = next_chunk_.fetch_add(1);
            if (c >= job_chunks_) break;
            index_t begin = job_items_ * c / job_chunks_;
            index_t end = job_items_ * (c + 1) / job_chunks_;
            (*job_)(begin, end);
            ++done;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        done_chunks_ += done;
        if (done_chunks_ == job_chunks_) finished_.notify_all();
    }

    void work() {
        std::uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && job_ != nullptr); });
                if (stopping_) return;
                seen = generation_;
                ++active_;
            }
            run_chunks();
            std::lock_guard<std::mutex> lock(mutex_);
            --active_;
            if (active_ == 0) finished_.notify_all();
        }
    }

    int n_threads_ = 1;  // the calling thread and the workers that started
    std::vector<std::thread> workers_;
    std::mutex busy_;  // one caller at a time
    std::mutex mutex_;
    std::condition_variable wake_, finished_;
    const std::function<void(index_t, index_t)>* job_ = nullptr;
    index_t job_items_ = 0, job_chunks_ = 0, done_chunks_ = 0;
    std::atomic<index_t> next_chunk_{0};
    std::uint64_t generation_ = 0;
    int active_ = 0;
    bool stopping_ = false;
};

// FASTTOPK_NUM_THREADS wins when set to a positive number (capped: a typo must not ask for a
// million threads). Otherwise the CPUs this process may run on: its affinity mask (taskset,
// container cpusets) and, on Linux, the cgroup v2 CPU quota (docker --cpus), rounded up.
constexpr int max_threads = 4096;

inline int cgroup_cpu_quota() {
#if defined(__linux__)
    if (std::FILE* f = std::fopen("/sys/fs/cgroup/cpu.max", "r")) {
        char quota[32] = {0};
        long long period = 0;
        const int got = std::fscanf(f, "%31s %lld", quota, &period);
        std::fclose(f);
        if (got == 2 && period > 0 && std::strcmp(quota, "max") != 0) {
            const long long q = std::atoll(quota);
            if (q > 0) return int(std::min<long long>(max_threads, (q + period - 1) / period));
        }
    }
#endif
    return max_threads;
}

inline int usable_cpu_count() {
    int n = int(std::max(1u, std::thread::hardware_concurrency()));
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = std::max(1, CPU_COUNT(&set));
#endif
    return std::max(1, std::min(n, cgroup_cpu_quota()));
}

inline int default_thread_count() {
    if (const char* env = std::getenv("FASTTOPK_NUM_THREADS")) {
        const long n = std::strtol(env, nullptr, 10);
        if (n > 0) return int(std::min<long>(n, max_threads));
    }
    return usable_cpu_count();
}

}  // namespace fasttopk
