// SPDX-License-Identifier: MIT
// nsfun benchmarks – spawning a container (issue 15): /bin/true in new pid, net, ipc, uts and
// mount namespaces with a busybox rootfs, measured in the same run as
//   BM_Container_Plain       nsfun::spawn with the rootfs and /proc only (the baseline);
//   BM_Container_Secured     the same plus the default capabilities (the rest dropped),
//                            no_new_privs, the container default seccomp profile, a read-only
//                            root and a minimal /dev: the target is <= 1.3x Plain;
//   BM_Container_SecuredMasks  Secured plus the default masked and read-only paths;
//   BM_Container_CapsSeccompOnly, BM_Container_FsOnly  the two halves of Secured apart;
//   BM_ContainerRef_Tools    the same container with the usual tools: unshare(1), a shell that
//                            mounts the rootfs, /proc, /dev (mknod, devpts, shm, links) and
//                            remounts the root read-only, setpriv(1) for the capabilities and
//                            no_new_privs, and this program as a seccomp-loading wrapper
//                            (--seccomp-exec: chroot, load a program compiled once beforehand,
//                            as bwrap --seccomp FD takes one, exec).
// Needs root; bench/compare_container.sh runs it and prints the ratios.
//
//   build/ci/bench/container_bench --benchmark_min_time=1
//
// Its own executable (not in nsfun_bench): main() also serves as the wrapper.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/container_fs.hpp>
#include <nsfun/detail/security.hpp>
#include <nsfun/seccomp.hpp>
#include <nsfun/spawn.hpp>

namespace {

using nsfun::NsType;

const nsfun::NsTypeSet kinds{NsType::pid, NsType::net, NsType::ipc, NsType::uts, NsType::mnt};

// A busybox rootfs (bin/true, bin/sh), the compiled seccomp program for the wrapper, removed at
// exit.
struct Setup {
  std::filesystem::path dir;  // /tmp/nsfun-bench-container-XXXXXX
  std::string root;           // dir/rootfs
  std::string bpf;            // dir/seccomp.bpf
  std::string self;           // this program, for the wrapper
  std::string error;          // why the setup failed; empty when it worked

  Setup() {
    char tmpl[] = "/tmp/nsfun-bench-container-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = tmpl;
    root = (dir / "rootfs").string();
    bpf = (dir / "seccomp.bpf").string();
    std::error_code ec;
    self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    for (const char* sub : {"", "/bin", "/dev", "/proc", "/sys", "/tmp", "/etc"}) {
      std::filesystem::create_directory(root + sub, ec);
    }
    if (!std::filesystem::copy_file("/bin/busybox", root + "/bin/busybox", ec) || ec) {
      error = "no /bin/busybox (Debian: busybox-static)";
      return;
    }
    std::filesystem::create_symlink("busybox", root + "/bin/true", ec);
    std::filesystem::create_symlink("busybox", root + "/bin/sh", ec);
    auto prog = nsfun::SeccompFilter::container_default().compile();
    if (!prog) {
      error = "seccomp: " + prog.error().message();
      return;
    }
    std::ofstream(bpf, std::ios::binary)
        .write(reinterpret_cast<const char*>(prog.value().insns.data()),  // NOLINT
               static_cast<std::streamsize>(prog.value().insns.size() * sizeof(sock_filter)));
  }

  Setup(const Setup&) = delete;
  Setup& operator=(const Setup&) = delete;

  ~Setup() {
    std::error_code ec;
    if (!dir.empty()) {
      std::filesystem::remove_all(dir, ec);
    }
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

nsfun::Command plain() {
  return nsfun::Command("/bin/true").namespaces(kinds).rootfs(setup().root).mount_proc();
}

nsfun::Command secured(bool masks) {
  auto fs = nsfun::ContainerFs().read_only_root().minimal_dev();
  if (masks) {
    fs.default_masks();
  }
  return plain()
      .filesystem(fs)
      .capabilities(nsfun::Capabilities::container_default())
      .no_new_privs()
      .seccomp(nsfun::SeccompFilter::container_default());
}

bool ready(benchmark::State& state) {
  if (!setup().error.empty()) {
    state.SkipWithError(setup().error.c_str());
    return false;
  }
  if (::geteuid() != 0) {
    state.SkipWithError("needs root");
    return false;
  }
  return true;
}

void run_spawns(benchmark::State& state, const nsfun::Command& cmd) {
  if (!ready(state)) {
    return;
  }
  auto first = nsfun::spawn(cmd);
  if (!first) {
    state.SkipWithError(("spawn: " + first.error().message()).c_str());
    return;
  }
  (void)first.value().wait();
  for (auto _ : state) {
    auto child = nsfun::spawn(cmd);
    if (!child || !child.value().wait().value().success()) {
      state.SkipWithError("spawn failed");
      return;
    }
  }
}

void BM_Container_Plain(benchmark::State& state) {
  run_spawns(state, plain());
}

BENCHMARK(BM_Container_Plain)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Container_Secured(benchmark::State& state) {
  run_spawns(state, secured(false));
}

BENCHMARK(BM_Container_Secured)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Container_SecuredMasks(benchmark::State& state) {
  run_spawns(state, secured(true));
}

BENCHMARK(BM_Container_SecuredMasks)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The two halves of Secured apart: what each costs.
void BM_Container_CapsSeccompOnly(benchmark::State& state) {
  run_spawns(state, plain()
                        .capabilities(nsfun::Capabilities::container_default())
                        .no_new_privs()
                        .seccomp(nsfun::SeccompFilter::container_default()));
}

BENCHMARK(BM_Container_CapsSeccompOnly)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Container_FsOnly(benchmark::State& state) {
  run_spawns(state, plain().filesystem(nsfun::ContainerFs().read_only_root().minimal_dev()));
}

BENCHMARK(BM_Container_FsOnly)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The shell part of the tools' container: what nsfun's Secured does, one tool at a time.
std::string tools_script() {
  std::string caps;
  nsfun::CapSet keep = nsfun::CapSet::container_default();
  for (int c = 0; c <= nsfun::CapSet::max_cap; ++c) {
    if (keep.contains(c)) {
      caps += ",+" + nsfun::CapSet::name(c).substr(4);
    }
  }
  return "R=$1; B=$2; W=$3; set -e; "
         "mount --rbind \"$R\" \"$R\"; "
         "mount -t proc proc \"$R/proc\"; "
         "mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs \"$R/dev\"; "
         "mknod -m 666 \"$R/dev/null\" c 1 3; mknod -m 666 \"$R/dev/zero\" c 1 5; "
         "mknod -m 666 \"$R/dev/full\" c 1 7; mknod -m 666 \"$R/dev/random\" c 1 8; "
         "mknod -m 666 \"$R/dev/urandom\" c 1 9; mknod -m 666 \"$R/dev/tty\" c 5 0; "
         "mkdir \"$R/dev/pts\" \"$R/dev/shm\"; "
         "mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts \"$R/dev/pts\"; "
         "mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm \"$R/dev/shm\"; "
         "ln -s pts/ptmx \"$R/dev/ptmx\"; ln -s /proc/self/fd \"$R/dev/fd\"; "
         "ln -s /proc/self/fd/0 \"$R/dev/stdin\"; ln -s /proc/self/fd/1 \"$R/dev/stdout\"; "
         "ln -s /proc/self/fd/2 \"$R/dev/stderr\"; ln -s /proc/kcore \"$R/dev/core\"; "
         "mount -o remount,bind,ro \"$R\"; "
         "exec setpriv --bounding-set -all" +
         caps + " --inh-caps -all --no-new-privs -- \"$W\" --seccomp-exec \"$B\" \"$R\" /bin/true";
}

bool run_tools(const std::string& script) {
  const Setup& s = setup();
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl("/usr/bin/unshare", "unshare", "--pid", "--net", "--ipc", "--uts", "--mount", "--fork",
            "--propagation", "private", "/bin/sh", "-c", script.c_str(), "sh", s.root.c_str(),
            s.bpf.c_str(), s.self.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void BM_ContainerRef_Tools(benchmark::State& state) {
  if (!ready(state)) {
    return;
  }
  std::string script = tools_script();
  if (!run_tools(script)) {
    state.SkipWithError("unshare + setpriv + wrapper failed (run the script by hand)");
    return;
  }
  for (auto _ : state) {
    if (!run_tools(script)) {
      state.SkipWithError("unshare + setpriv + wrapper failed");
      return;
    }
  }
}

BENCHMARK(BM_ContainerRef_Tools)->Unit(benchmark::kMicrosecond)->UseRealTime();

// --seccomp-exec BPF ROOT PROG [ARG...]: chroot to ROOT, load the classic BPF program in file
// BPF (no_new_privs is already set by setpriv), exec PROG.
int seccomp_exec(char** argv) {
  std::ifstream in(argv[0], std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nsfun::SeccompProgram prog;
  prog.insns.resize(bytes.size() / sizeof(sock_filter));
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(prog.insns.data()));  // NOLINT
  if (prog.insns.empty() || ::chroot(argv[1]) != 0 || ::chdir("/") != 0) {
    std::perror("seccomp-exec: chroot");
    return 126;
  }
  if (auto r = nsfun::detail::security::load_seccomp(prog); !r) {
    std::fprintf(stderr, "seccomp-exec: %s\n", r.error().message().c_str());
    return 126;
  }
  ::execv(argv[2], argv + 2);
  std::perror("seccomp-exec: exec");
  return 127;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::string_view(argv[1]) == "--seccomp-exec") {
    return seccomp_exec(argv + 2);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
