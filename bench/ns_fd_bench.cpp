// SPDX-License-Identifier: MIT
// nsfun benchmarks – opening, identifying, entering and creating namespaces.
//
//   build/ci/bench/nsfun_bench --benchmark_min_time=0.2

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <nsfun/nsfun.hpp>

namespace {

void BM_NsFd_OpenSelf(benchmark::State& state) {
  for (auto _ : state) {
    auto ns = nsfun::NsFd::current(nsfun::NsType::net);
    benchmark::DoNotOptimize(ns);
  }
}

BENCHMARK(BM_NsFd_OpenSelf);

// The floor: what any open-and-identify costs (open, fstat, close).
void BM_Raw_OpenStatSelf(benchmark::State& state) {
  for (auto _ : state) {
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

    struct stat st {};

    ::fstat(fd, &st);
    ::close(fd);
    benchmark::DoNotOptimize(st.st_ino);
  }
}

BENCHMARK(BM_Raw_OpenStatSelf);

void BM_NsFd_OpenPidAll(benchmark::State& state) {
  pid_t self = ::getpid();
  for (auto _ : state) {
    auto set = nsfun::NsFdSet::open(self, nsfun::NsTypeSet::all());
    benchmark::DoNotOptimize(set);
  }
}

BENCHMARK(BM_NsFd_OpenPidAll);

void BM_Namespace_Compare(benchmark::State& state) {
  auto a = nsfun::NsFd::current(nsfun::NsType::net).value().identity();
  auto b = nsfun::NsFd::current(nsfun::NsType::net).value().identity();
  for (auto _ : state) {
    benchmark::DoNotOptimize(a == b);
  }
}

BENCHMARK(BM_Namespace_Compare);

void BM_Acquire_Net(benchmark::State& state) {
  if (!nsfun::acquire<nsfun::NsType::uts>()) {
    state.SkipWithError("needs CAP_SYS_ADMIN");
    return;
  }
  for (auto _ : state) {
    auto net = nsfun::acquire<nsfun::NsType::net>();
    benchmark::DoNotOptimize(net);
  }
}

BENCHMARK(BM_Acquire_Net)->Unit(benchmark::kMicrosecond);

void BM_Enter_RoundTrip(benchmark::State& state) {
  auto uts = nsfun::acquire<nsfun::NsType::uts>();
  if (!uts) {
    state.SkipWithError("needs CAP_SYS_ADMIN");
    return;
  }
  for (auto _ : state) {
    nsfun::ScopedEnter in_ns;
    auto r = in_ns.enter(uts.value());
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_Enter_RoundTrip)->Unit(benchmark::kMicrosecond);

void BM_RunIn_Uts(benchmark::State& state) {
  auto uts = nsfun::acquire<nsfun::NsType::uts>();
  if (!uts) {
    state.SkipWithError("needs CAP_SYS_ADMIN");
    return;
  }
  for (auto _ : state) {
    auto r = nsfun::run_in(uts.value(), [] { return 1; });
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_RunIn_Uts)->Unit(benchmark::kMicrosecond);

}  // namespace
