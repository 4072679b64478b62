// SPDX-License-Identifier: MIT
// nsfun benchmarks – the /proc scanner, grouping and lookups at 100, 1,000 and 5,000 processes.
//
//   build/ci/bench/nsfun_bench --benchmark_filter='ProcScan|Snapshot'
//
// The load is made of this process's own sleeping children: half plain, half in new uts+ipc
// namespaces (when privileged) so that grouping has distinct namespaces to find. They are killed
// and reaped when the benchmark ends, or when the load size changes.

#include <vector>

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <nsfun/nsfun.hpp>

namespace {

class Load {
 public:
  Load() = default;
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  ~Load() { resize(0); }

  // Grows or shrinks the set of sleeping children to `n`; false when fork fails.
  bool resize(std::size_t n) {
    while (pids_.size() > n) {
      ::kill(pids_.back(), SIGKILL);
      ::waitpid(pids_.back(), nullptr, 0);
      pids_.pop_back();
    }
    while (pids_.size() < n) {
      bool isolate = pids_.size() % 2 == 1;
      pid_t pid = ::fork();
      if (pid < 0) {
        return false;
      }
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (isolate) {
          (void)::unshare(CLONE_NEWUTS | CLONE_NEWIPC);  // unprivileged: stays plain
        }
        for (;;) {
          ::pause();
        }
      }
      pids_.push_back(pid);
    }
    return true;
  }

 private:
  std::vector<pid_t> pids_;
};

Load& load() {
  static Load l;
  return l;
}

bool with_load(benchmark::State& state) {
  if (!load().resize(static_cast<std::size_t>(state.range(0)))) {
    state.SkipWithError("cannot fork the load");
    return false;
  }
  return true;
}

void BM_ProcScan_AllProcesses(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  std::size_t procs = 0;
  bool task_iter = false;
  for (auto _ : state) {
    auto scan = nsfun::scan_procs();
    procs = scan.value().procs.size();
    task_iter = scan.value().stats.task_iter;
    benchmark::DoNotOptimize(scan);
  }
  state.counters["procs"] = static_cast<double>(procs);
  state.counters["task_iter"] = task_iter ? 1 : 0;  // the links came from the BPF task iterator
  state.counters["per_proc"] =
      benchmark::Counter(static_cast<double>(procs) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_ProcScan_AllProcesses)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

// The same through /proc only: one readlinkat per link per process, never the task iterator.
void BM_ProcScan_ProcOnly(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  nsfun::ProcScanOptions o;
  o.task_iter = false;
  for (auto _ : state) {
    auto scan = nsfun::scan_procs(o);
    if (!scan || scan.value().stats.task_iter) {
      state.SkipWithError("scan failed, or took the task iterator");
      return;
    }
    benchmark::DoNotOptimize(scan);
  }
}

BENCHMARK(BM_ProcScan_ProcOnly)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_ProcScan_OneWorker(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  nsfun::ProcScanOptions o;
  o.workers = 1;
  for (auto _ : state) {
    auto scan = nsfun::scan_procs(o);
    benchmark::DoNotOptimize(scan);
  }
}

BENCHMARK(BM_ProcScan_OneWorker)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_ProcScan_WithExtras(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  nsfun::ProcScanOptions o;
  o.ppid = o.uid = o.cmdline = true;
  for (auto _ : state) {
    auto scan = nsfun::scan_procs(o);
    benchmark::DoNotOptimize(scan);
  }
}

BENCHMARK(BM_ProcScan_WithExtras)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

// Scan plus grouping, without the per-namespace reads (commands, mounts).
void BM_Snapshot_Group(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  nsfun::SnapshotOptions o;
  o.commands = false;
  o.mounts = false;
  for (auto _ : state) {
    auto snap = nsfun::Snapshot::take(o);
    benchmark::DoNotOptimize(snap);
  }
}

BENCHMARK(BM_Snapshot_Group)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

// What `lsns` shows: scan, group, USER and COMMAND of each namespace's lowest pid, nsfs mounts.
void BM_Snapshot_LsnsTable(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  for (auto _ : state) {
    auto snap = nsfun::Snapshot::take();
    benchmark::DoNotOptimize(snap);
  }
}

BENCHMARK(BM_Snapshot_LsnsTable)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);

// Lookups in a snapshot: find() of every namespace, and the processes of one namespace.
void BM_Snapshot_Find(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  nsfun::SnapshotOptions o;
  o.keep_procs = true;
  auto snap = nsfun::Snapshot::take(o).value();
  for (auto _ : state) {
    for (const auto& s : snap.namespaces()) {
      benchmark::DoNotOptimize(snap.find(s.ns));
    }
  }
  state.counters["namespaces"] = static_cast<double>(snap.namespaces().size());
}

BENCHMARK(BM_Snapshot_Find)->Arg(100)->Arg(1000)->Arg(5000);

void BM_Snapshot_ProcessesIn(benchmark::State& state) {
  if (!with_load(state)) {
    return;
  }
  nsfun::SnapshotOptions o;
  o.keep_procs = true;
  auto snap = nsfun::Snapshot::take(o).value();
  auto mine = nsfun::NsFd::current(nsfun::NsType::net).value().identity();
  for (auto _ : state) {
    benchmark::DoNotOptimize(snap.processes_in(mine));
  }
}

BENCHMARK(BM_Snapshot_ProcessesIn)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMicrosecond);

void BM_Diff_Self(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(nsfun::diff(::getpid(), ::getpid()));
  }
}

BENCHMARK(BM_Diff_Self)->Unit(benchmark::kMicrosecond);

}  // namespace
