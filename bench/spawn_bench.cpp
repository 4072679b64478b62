// SPDX-License-Identifier: MIT
// nsfun benchmarks – spawning /bin/true in new namespaces, against a bare clone3 + execve and
// against unshare(1), measured in the same run.
//
//   build/ci/bench/nsfun_bench --benchmark_filter=Spawn --benchmark_min_time=1
//
// Compare BM_Spawn_* with BM_SpawnRef_Bare* (same namespaces, only clone3 + execve + waitid)
// and BM_SpawnRef_Unshare1* (fork + exec of `unshare … --fork /bin/true`, as a shell would).

#include <cstdint>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <nsfun/nsfun.hpp>

namespace {

using nsfun::NsType;

const nsfun::NsTypeSet kinds{NsType::uts, NsType::ipc, NsType::mnt, NsType::pid};

struct CloneArgs {
  std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

char true_path[] = "/bin/true";
char* const true_argv[] = {true_path, nullptr};
char* const no_env[] = {nullptr};

// The floor: clone3 into the namespaces, execve, wait. With a user namespace the parent writes
// the maps before the child may exec (one pipe to hold it back), as any correct tool must.
bool bare_spawn(int flags, bool map_root) {
  int hold[2] = {-1, -1};
  if (map_root && ::pipe2(hold, O_CLOEXEC) < 0) {
    return false;
  }
  CloneArgs args{};
  args.flags = static_cast<std::uint64_t>(static_cast<unsigned>(flags));
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0) {
    if (map_root) {
      char c = 0;
      ::close(hold[1]);
      if (::read(hold[0], &c, 1) != 1) {
        ::_exit(1);
      }
    }
    ::execve(true_path, true_argv, no_env);
    ::_exit(127);
  }
  if (pid < 0) {
    return false;
  }
  bool ok = true;
  if (map_root) {
    ::close(hold[0]);
    std::string base = "/proc/" + std::to_string(pid);
    std::string uid = "0 " + std::to_string(::geteuid()) + " 1";
    std::string gid = "0 " + std::to_string(::getegid()) + " 1";
    for (auto [file, text] : {std::pair{"/uid_map", uid}, std::pair{"/gid_map", gid}}) {
      int fd = ::open((base + file).c_str(), O_WRONLY | O_CLOEXEC);
      ok = ok && fd >= 0 && ::write(fd, text.data(), text.size()) > 0;
      ::close(fd);
    }
    (void)!::write(hold[1], "g", 1);
    ::close(hold[1]);
  }
  int status = 0;
  ::waitpid(static_cast<pid_t>(pid), &status, 0);
  return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool run_unshare1(const char* const* argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], const_cast<char* const*>(argv));  // NOLINT: execv's signature
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool privileged() {
  static const bool ok = nsfun::spawn(nsfun::Command("/bin/true").namespaces(kinds)).has_value();
  return ok;
}

void BM_Spawn_UtsIpcMntPid(benchmark::State& state) {
  if (!privileged()) {
    state.SkipWithError("needs CAP_SYS_ADMIN");
    return;
  }
  bool init = state.range(0) != 0;
  nsfun::Command cmd = nsfun::Command("/bin/true").namespaces(kinds).init(init);
  for (auto _ : state) {
    auto child = nsfun::spawn(cmd);
    if (!child || !child.value().wait().value().success()) {
      state.SkipWithError("spawn failed");
      return;
    }
  }
  state.SetLabel(init ? "with init" : "no init");
}

BENCHMARK(BM_Spawn_UtsIpcMntPid)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_SpawnRef_Bare_UtsIpcMntPid(benchmark::State& state) {
  if (!privileged()) {
    state.SkipWithError("needs CAP_SYS_ADMIN");
    return;
  }
  for (auto _ : state) {
    if (!bare_spawn(kinds.clone_flags(), false)) {
      state.SkipWithError("clone3 failed");
      return;
    }
  }
}

BENCHMARK(BM_SpawnRef_Bare_UtsIpcMntPid)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_SpawnRef_Unshare1_UtsIpcMntPid(benchmark::State& state) {
  const char* argv[] = {"/usr/bin/unshare", "--uts",     "--ipc", "--mount", "--pid",
                        "--fork",           "/bin/true", nullptr};
  if (!privileged()) {
    state.SkipWithError("needs CAP_SYS_ADMIN");
    return;
  }
  for (auto _ : state) {
    if (!run_unshare1(argv)) {
      state.SkipWithError("unshare(1) failed");
      return;
    }
  }
}

BENCHMARK(BM_SpawnRef_Unshare1_UtsIpcMntPid)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Spawn_UserRoot(benchmark::State& state) {
  nsfun::Command cmd = nsfun::Command("/bin/true")
                           .namespaces(kinds | nsfun::NsTypeSet{NsType::user})
                           .user_map(nsfun::UserMap::root_is(::geteuid(), ::getegid()).value());
  if (!nsfun::spawn(cmd)) {
    state.SkipWithError("needs user namespaces");
    return;
  }
  for (auto _ : state) {
    auto child = nsfun::spawn(cmd);
    if (!child || !child.value().wait().value().success()) {
      state.SkipWithError("spawn failed");
      return;
    }
  }
}

BENCHMARK(BM_Spawn_UserRoot)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_SpawnRef_Bare_UserRoot(benchmark::State& state) {
  int flags = (kinds | nsfun::NsTypeSet{NsType::user}).clone_flags();
  for (auto _ : state) {
    if (!bare_spawn(flags, true)) {
      state.SkipWithError("clone3 failed");
      return;
    }
  }
}

BENCHMARK(BM_SpawnRef_Bare_UserRoot)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_SpawnRef_Unshare1_UserRoot(benchmark::State& state) {
  const char* argv[] = {"/usr/bin/unshare", "--user", "--map-root-user", "--uts",     "--ipc",
                        "--mount",          "--pid",  "--fork",          "/bin/true", nullptr};
  for (auto _ : state) {
    if (!run_unshare1(argv)) {
      state.SkipWithError("unshare(1) failed");
      return;
    }
  }
}

BENCHMARK(BM_SpawnRef_Unshare1_UserRoot)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
