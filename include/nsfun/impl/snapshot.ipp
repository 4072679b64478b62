// SPDX-License-Identifier: MIT
// nsfun – Snapshot: grouping a scan by namespace, nsfs bind mounts, diff and isolation: the
// implementation (see <nsfun/config.hpp>).
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/scan_internal.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/detail/work_queue.hpp>
#include <nsfun/snapshot.hpp>
#include <nsfun/unique_fd.hpp>

// The Snapshot's parts: nsfun::detail::snap (one translation unit holds every .ipp in header-only
// mode, so the generic names stay in a namespace of their own).
namespace nsfun::detail::snap {

// (type, inode) packed into one word: nsfs inodes fit in 32 bits, types in 4. Keys sort by
// inode, then type: the order lsns lists namespaces in, and the Snapshot's.
inline std::uint64_t key_of(NsType t, std::uint64_t ino) noexcept {
  return (ino << 4U) | static_cast<std::uint64_t>(t);
}

inline std::uint64_t key_of(const Namespace& ns) noexcept {
  return key_of(ns.type(), ns.ino());
}

// The number in "socket:[123]", "net:[4026531833]" or "123]"; 0 when there is none.
inline std::uint64_t parse_ino(std::string_view text) noexcept {
  std::size_t open = text.find('[');
  const char* first = text.data() + (open == std::string_view::npos ? 0 : open + 1);
  std::uint64_t ino = 0;
  std::from_chars(first, text.data() + text.size(), ino);
  return ino;
}

inline bool by_key(const NsSummary& a, const NsSummary& b) noexcept {
  return key_of(a.ns) < key_of(b.ns);
}

// The first summary in [first, last), sorted by key, that is not before `ns`.
template <class It>
It lower_bound_of(It first, It last, const Namespace& ns) {
  return std::lower_bound(first, last, key_of(ns),
                          [](const NsSummary& s, std::uint64_t k) { return key_of(s.ns) < k; });
}

// What a namespace's lowest process shows in USER, PPID and COMMAND.
struct ProcFacts {
  pid_t pid = 0;
  std::uint32_t uses = 0;  ///< namespaces it is the lowest pid of (counted when merging)
  uid_t uid = static_cast<uid_t>(-1);
  pid_t ppid = 0;
  std::string command;
};

inline ProcFacts read_facts(int proc_fd, pid_t pid, bool want_ppid) {
  ProcFacts f;
  f.pid = pid;
  detail::sys::PathBuf path;
  path.add(pid).add("/");
  std::size_t base = path.size();

  std::string text;
  uid_t owner = static_cast<uid_t>(-1);
  if (detail::read_at(proc_fd, path.truncate(base).add("cmdline").c_str(), text, &owner) == 0) {
    detail::join_cmdline(text);
    f.command = std::move(text);
  }
  f.uid = detail::process_owner(proc_fd, path.truncate(base).c_str(), owner);
  std::string comm;
  // /proc/PID/stat only when needed: for PPID, or for the name of a kernel thread.
  if ((want_ppid || f.command.empty()) &&
      detail::read_at(proc_fd, path.truncate(base).add("stat").c_str(), text) == 0) {
    detail::parse_stat(text, f.ppid, comm);
  }
  if (f.command.empty()) {
    f.command = std::move(comm);  // kernel threads have no command line: show the name, as lsns
  }
  return f;
}

// Inode of the namespace an nsfs ioctl returns (NS_GET_PARENT / NS_GET_USERNS) for `fd`.
inline std::uint64_t related_ino(int fd, unsigned long request) noexcept {
  int rel = ::ioctl(fd, request);
  if (rel < 0) {
    return 0;
  }

  struct stat st {};

  std::uint64_t ino = ::fstat(rel, &st) == 0 ? st.st_ino : 0;
  ::close(rel);
  return ino;
}

#ifndef SIOCGSKNS
inline constexpr unsigned long siocgskns = 0x894C;  // linux/sockios.h, Linux 4.9
#else
inline constexpr unsigned long siocgskns = SIOCGSKNS;
#endif
#ifndef SYS_pidfd_getfd
inline constexpr long sys_pidfd_getfd = 438;  // Linux 5.6
#else
inline constexpr long sys_pidfd_getfd = SYS_pidfd_getfd;
#endif

// The network namespace of socket `fd` of the process `pidfd` refers to: a copy of the socket
// (pidfd_getfd: needs PTRACE_MODE_ATTACH over the process), then SIOCGSKNS. With `sock_ino`,
// the copy must be that socket (the fd may have been closed and reused meanwhile). -1 and errno
// when not.
inline int socket_netns(int pidfd, int fd, std::uint64_t sock_ino) noexcept {
  long got = ::syscall(sys_pidfd_getfd, pidfd, fd, 0);
  if (got < 0) {
    return -1;
  }
  UniqueFd sock = UniqueFd::adopt(static_cast<int>(got));  // owns: pidfd_getfd's copy

  struct stat st {};

  if (sock_ino != 0 && (::fstat(sock.get(), &st) < 0 || st.st_ino != sock_ino)) {
    errno = ESRCH;
    return -1;
  }
  return ::ioctl(sock.get(), siocgskns);  // O_CLOEXEC, as every nsfs fd the kernel hands out
}

// An fd on namespace `s`, opened the way the Snapshot found it, or -1 and errno: its lowest
// pid's link, its first bind mount, its holder's fd or socket. The inode is checked: a pid
// reused, a mount replaced or an fd closed since the snapshot leads to another namespace.
inline int open_listed(int proc_fd, const NsSummary& s) noexcept {
  int fd = -1;
  detail::sys::PathBuf path;
  if (s.pid > 0) {
    path.add(s.pid).add("/ns/").add(name(s.ns.type()));
    fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } else if (!s.path.empty()) {
    fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  } else if (s.holder > 0 && s.holder_fd >= 0 && !s.holder_socket) {
    path.add(s.holder).add("/fd/").add(s.holder_fd);
    fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  } else if (s.holder > 0 && s.holder_fd >= 0) {
    long pidfd = ::syscall(detail::sys::sys_pidfd_open, s.holder, 0);
    if (pidfd >= 0) {
      UniqueFd pf = UniqueFd::adopt(static_cast<int>(pidfd));  // owns: pidfd_open's
      fd = socket_netns(pf.get(), s.holder_fd, 0);
    }
  } else {
    errno = ESRCH;
  }
  if (fd < 0) {
    return -1;
  }

  struct stat st {};

  if (::fstat(fd, &st) < 0 || st.st_ino != s.ns.ino()) {
    ::close(fd);
    errno = ESRCH;
    return -1;
  }
  return fd;
}

// The uid USER shows for a namespace no process is in: the creator of its user namespace (of
// itself, for a user namespace). lsns (2.41+) asks NS_GET_OWNER_UID of the namespace itself,
// which answers only for user namespaces and leaves 0 (root) for the others; the two agree
// wherever the owning user namespace is the initial one.
inline uid_t held_owner_uid(int fd, NsType t) noexcept {
  uid_t uid = static_cast<uid_t>(-1);
  if (t == NsType::user) {
    return ::ioctl(fd, detail::sys::ns_get_owner_uid, &uid) == 0 ? uid : static_cast<uid_t>(-1);
  }
  int user = ::ioctl(fd, detail::sys::ns_get_userns);
  if (user < 0) {
    return uid;
  }
  if (::ioctl(user, detail::sys::ns_get_owner_uid, &uid) < 0) {
    uid = static_cast<uid_t>(-1);
  }
  ::close(user);
  return uid;
}

// Fills PNS, ONS and the 64-bit id of one namespace, and USER of one no process is in, opened
// through its lowest pid, its bind mount or its holder.
inline void read_hierarchy(int proc_fd, NsSummary& s, bool hierarchy, bool ids, bool owner) {
  int fd = open_listed(proc_fd, s);
  if (fd < 0) {
    return;
  }
  UniqueFd ns = UniqueFd::adopt(fd);  // owns: just opened
  if (hierarchy) {
    if (s.ns.type() == NsType::pid || s.ns.type() == NsType::user) {
      s.parent = related_ino(fd, detail::sys::ns_get_parent);
    }
    s.owner = related_ino(fd, detail::sys::ns_get_userns);
  }
  if (ids) {
    std::uint64_t id = 0;
    if (::ioctl(fd, detail::sys::ns_get_id, &id) == 0) {
      s.ns = Namespace(s.ns.type(), s.ns.dev(), s.ns.ino(), id);
    }
  }
  if (owner && s.pid == 0) {
    s.uid = held_owner_uid(fd, s.ns.type());
  }
}

// An fd of a process that holds a namespace (key: key_of(type, inode)) or is a socket (key:
// the socket's inode), found by the fd walk.
struct FdHold {
  std::uint64_t key = 0;
  pid_t pid = 0;
  int fd = -1;

  friend bool operator<(const FdHold& a, const FdHold& b) noexcept {
    return a.key != b.key ? a.key < b.key : a.pid < b.pid;
  }
};

// What the fd walk (SnapshotOptions::fds) needs, read before the scan and then only read by
// the scanning threads.
struct FdWalk {
  int proc_fd = -1;
  std::uint64_t nsfs_dev = 0;
  std::uint64_t own_mnt = 0;         ///< the caller's mount namespace
  std::vector<std::string> targets;  ///< nsfs bind mount targets in it, sorted
  NsTypeSet types;
  bool sockets = false;  ///< net is asked for
};

// "net:[4026531833]" (how /proc/PID/fd shows an fd on an nsfs file) -> its namespace key; 0 for
// anything else ("pipe:[7]", "anon_inode:[eventfd]", "/dev/null").
inline std::uint64_t nsfs_link_key(std::string_view text, NsTypeSet types) noexcept {
  std::size_t open = text.find(":[");
  if (open == std::string_view::npos || text.back() != ']') {
    return 0;
  }
  std::string_view kind = text.substr(0, open);
  for (NsType t : types) {
    if (kind == name(t)) {
      std::uint64_t ino = 0;
      std::from_chars(text.data() + open + 2, text.data() + text.size() - 1, ino);
      return ino != 0 ? key_of(t, ino) : 0;
    }
  }
  return 0;
}

// Walks the open fds of process `p`, adding those on a namespace (of the types asked for) and
// its sockets (when net is asked for). A process whose fd directory cannot be read (gone, or
// not ours to see) is skipped, as lsns does.
inline void walk_fds(const FdWalk& w,
                     const ProcEntry& p,
                     std::vector<FdHold>& held,
                     std::vector<FdHold>& sockets) {
  detail::sys::PathBuf path;
  path.add(p.pid).add("/fd");
  int dfd = ::openat(w.proc_fd, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    return;
  }
  UniqueFd dir = UniqueFd::adopt(dfd);  // owns: just opened
  path.add("/");
  const std::size_t base = path.size();
  std::uint64_t mnt = p.ino[static_cast<std::size_t>(NsLink::mnt)];
  bool mnt_read = mnt != 0;
  detail::for_each_numbered(dir.get(), true, [&](int fd) {
    path.truncate(base).add(fd);
    char buf[256];
    ssize_t n = ::readlinkat(w.proc_fd, path.c_str(), buf, sizeof(buf));
    if (n <= 0) {
      return;
    }
    std::string_view text(buf, static_cast<std::size_t>(n));
    if (text.substr(0, 8) == "socket:[") {
      if (w.sockets) {
        sockets.push_back({parse_ino(text.substr(8)), p.pid, fd});
      }
      return;
    }
    if (text.front() != '/') {
      if (std::uint64_t key = nsfs_link_key(text, w.types)) {
        held.push_back({key, p.pid, fd});
      }
      return;
    }
    // A path: an fd opened through a bind mount shows the mount's path, and one whose bind
    // mount was detached since shows "/". Only those (and paths in another mount namespace,
    // which mean something else there) are worth a stat to tell an nsfs file.
    if (text != "/" && !std::binary_search(w.targets.begin(), w.targets.end(), text)) {
      if (!mnt_read) {
        mnt_read = true;
        detail::sys::PathBuf link;
        link.add(p.pid).add("/ns/mnt");
        char lbuf[64];
        ssize_t ln = ::readlinkat(w.proc_fd, link.c_str(), lbuf, sizeof(lbuf));
        mnt = ln > 0 ? parse_ino(std::string_view(lbuf, static_cast<std::size_t>(ln))) : 0;
      }
      if (mnt == w.own_mnt) {
        return;
      }
    }

    struct stat st {};

    if (::fstatat(w.proc_fd, path.c_str(), &st, 0) < 0 || st.st_dev != w.nsfs_dev) {
      return;
    }
    int nfd = ::openat(w.proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (nfd < 0) {
      return;
    }
    int kind = ::ioctl(nfd, detail::sys::ns_get_nstype);
    ::close(nfd);
    auto t = ns_type_from_clone_flag(kind);
    if (t && w.types.contains(*t)) {
      held.push_back({key_of(*t, st.st_ino), p.pid, fd});
    }
  });
}

// One namespace as one block of the scan saw it: how many of the block's processes are in it,
// and the lowest of them.
struct Group {
  std::uint64_t ino = 0;
  NsType type = NsType::net;
  pid_t pid = 0;
  std::uint32_t nprocs = 0;
  std::uint32_t facts = 0;  ///< index into GroupedBlock::facts (with commands)
};

// What the Snapshot keeps of one block: its namespaces in order of first appearance, the
// USER/PPID/COMMAND facts of the processes that first appear in one of them, and (with
// keep_procs) the entries themselves, in Part::procs.
struct GroupedBlock final : detail::BlockSink::Part {
  std::vector<Group> groups;
  std::vector<ProcFacts> facts;
  std::vector<FdHold> held;     ///< fds on namespaces (with fds)
  std::vector<FdHold> sockets;  ///< sockets (with fds, when net is asked for)
};

// Groups each block as soon as it is scanned, on the thread that scanned it, and reads the facts
// for the lowest pid of each namespace there too. The lowest pid of a namespace in the whole
// scan is the lowest in the first block that has the namespace (blocks are in pid order), so
// the facts needed are always among those read; the few extra (a namespace that spans blocks
// is read once per block) cost less than a second pass after the scan.
class Grouper final : public detail::BlockSink {
 public:
  Grouper(int proc_fd, const SnapshotOptions& o, const FdWalk* fds) noexcept
      : proc_fd_(proc_fd), o_(o), fds_(fds) {}

  std::unique_ptr<Part> take(std::vector<ProcEntry>& procs) override {
    auto part = std::make_unique<GroupedBlock>();
    std::unordered_map<std::uint64_t, std::uint32_t> index;
    index.reserve(procs.size() * 2);
    // Neighbouring processes mostly share namespaces: remember the previous process's
    // namespace of each type and skip the hash lookup when it repeats.
    std::array<std::uint64_t, ns_type_count> last_ino{};
    std::array<std::uint32_t, ns_type_count> last_group{};
    for (const ProcEntry& p : procs) {
      for (NsType t : o_.types) {
        std::size_t ti = static_cast<std::size_t>(t);
        std::uint64_t ino = p.ino[ti];
        if (ino == 0) {
          continue;
        }
        if (ino != last_ino[ti]) {
          auto [it, fresh] =
              index.try_emplace(key_of(t, ino), static_cast<std::uint32_t>(part->groups.size()));
          if (fresh) {
            part->groups.push_back({ino, t, p.pid, 0, facts_of(p.pid, *part)});
          }
          last_ino[ti] = ino;
          last_group[ti] = it->second;
        }
        ++part->groups[last_group[ti]].nprocs;
      }
      if (fds_ != nullptr && p.tid == p.pid) {
        walk_fds(*fds_, p, part->held, part->sockets);
      }
    }
    if (o_.keep_procs) {
      part->procs = std::move(procs);
    }
    return part;
  }

 private:
  // The index of pid's facts in the block, read now if this is the first group it leads. The
  // groups a process leads are made one after the other, so the last facts read are the ones
  // to reuse.
  std::uint32_t facts_of(pid_t pid, GroupedBlock& part) const {
    if (!o_.commands) {
      return 0;
    }
    if (part.facts.empty() || part.facts.back().pid != pid) {
      part.facts.push_back(read_facts(proc_fd_, pid, o_.ppid));
    }
    return static_cast<std::uint32_t>(part.facts.size() - 1);
  }

  int proc_fd_;
  const SnapshotOptions& o_;
  const FdWalk* fds_;
};

// The nsfs bind mounts in /proc's self/mountinfo.
[[nodiscard]] inline result<std::vector<NsfsMount>> nsfs_mounts_at(int proc_fd,
                                                                   std::uint64_t dev) noexcept {
  std::vector<NsfsMount> out;
  try {
    std::string text;
    if (int err = detail::read_at(proc_fd, "self/mountinfo", text)) {
      return errno_error(err, "read /proc/self/mountinfo");
    }
    std::string_view all(text);
    while (!all.empty()) {
      std::size_t nl = all.find('\n');
      std::string_view line = all.substr(0, nl);
      all.remove_prefix(nl == std::string_view::npos ? all.size() : nl + 1);
      std::size_t sep = line.find(" - ");
      if (sep == std::string_view::npos || line.substr(sep + 3, 5) != "nsfs ") {
        continue;
      }
      // id parent maj:min root mountpoint …: root is "net:[4026532288]".
      std::string_view fields[5];
      std::string_view rest = line.substr(0, sep);
      for (auto& f : fields) {
        std::size_t sp = rest.find(' ');
        f = rest.substr(0, sp);
        rest.remove_prefix(sp == std::string_view::npos ? rest.size() : sp + 1);
      }
      std::string_view root = fields[3];
      std::size_t colon = root.find(':');
      auto type = parse_ns_type(root.substr(0, colon));
      std::size_t open = root.find('[');
      if (!type || open == std::string_view::npos) {
        continue;
      }
      std::uint64_t ino = 0;
      std::from_chars(root.data() + open + 1, root.data() + root.size(), ino);
      out.push_back({Namespace(type.value(), dev, ino), detail::unescape_mount_path(fields[4])});
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read /proc/self/mountinfo");
  }
  return out;
}

// The sockets of one process, and the network namespace each was made in (0: not found).
struct SocketsOf {
  pid_t pid = 0;
  std::vector<FdHold> sockets;
  std::vector<std::uint64_t> netns;
};

// The network namespaces of the sockets the fd walk found, each socket asked once (through the
// lowest pid holding it), one pidfd per process, processes split across threads.
inline std::vector<SocketsOf> resolve_sockets(std::vector<FdHold>& sockets, unsigned workers) {
  std::sort(sockets.begin(), sockets.end());
  sockets.erase(std::unique(sockets.begin(), sockets.end(),
                            [](const FdHold& a, const FdHold& b) { return a.key == b.key; }),
                sockets.end());
  std::sort(sockets.begin(), sockets.end(), [](const FdHold& a, const FdHold& b) {
    return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
  });
  std::vector<SocketsOf> by_pid;
  for (const FdHold& h : sockets) {
    if (by_pid.empty() || by_pid.back().pid != h.pid) {
      by_pid.push_back({h.pid, {}, {}});
    }
    by_pid.back().sockets.push_back(h);
  }
  // A socket costs five syscalls, a process one more: split by the sockets, not the processes.
  if (workers == 0 && sockets.size() >= 300) {
    workers = std::min(std::max(1U, std::thread::hardware_concurrency()), 4U);
    workers = static_cast<unsigned>(std::min<std::size_t>(workers, by_pid.size()));
  }
  detail::parallel_for(by_pid.size(), workers, [&](std::size_t i) {
    SocketsOf& of = by_pid[i];
    of.netns.assign(of.sockets.size(), 0);
    long pidfd = ::syscall(detail::sys::sys_pidfd_open, of.pid, 0);
    if (pidfd < 0) {
      return;  // gone
    }
    UniqueFd pf = UniqueFd::adopt(static_cast<int>(pidfd));  // owns: pidfd_open's
    for (std::size_t k = 0; k < of.sockets.size(); ++k) {
      int ns = socket_netns(pf.get(), of.sockets[k].fd, of.sockets[k].key);
      if (ns < 0) {
        if (errno == EPERM || errno == EACCES) {
          return;  // not ours to copy from: the same for every socket of it
        }
        continue;
      }

      struct stat st {};

      if (::fstat(ns, &st) == 0) {
        of.netns[k] = st.st_ino;
      }
      ::close(ns);
    }
  });
  return by_pid;
}

// What the fd walk needs of the caller: its mount namespace and the nsfs bind mount targets.
inline FdWalk fd_walk_for(int proc_fd,
                          std::uint64_t dev,
                          const SnapshotOptions& o,
                          const std::vector<NsfsMount>& mounts) {
  FdWalk w;
  w.proc_fd = proc_fd;
  w.nsfs_dev = dev;
  w.types = o.types;
  w.sockets = o.types.contains(NsType::net);

  struct stat st {};

  if (::fstatat(proc_fd, "thread-self/ns/mnt", &st, 0) == 0) {
    w.own_mnt = st.st_ino;
  }
  for (const NsfsMount& m : mounts) {
    w.targets.push_back(m.path);
  }
  std::sort(w.targets.begin(), w.targets.end());
  return w;
}

}  // namespace nsfun::detail::snap

namespace nsfun {

NSFUN_INLINE result<std::vector<NsfsMount>> nsfs_mounts() noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(std::uint64_t dev, detail::nsfs_dev(proc.get()));
  return detail::snap::nsfs_mounts_at(proc.get(), dev);
}

NSFUN_INLINE result<Snapshot> Snapshot::take(const SnapshotOptions& options) noexcept {
  using namespace detail::snap;  // the Snapshot's parts
  ProcScanOptions scan_options;
  scan_options.types = options.types;
  scan_options.workers = options.workers;
  scan_options.task_iter = options.task_iter;
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(std::uint64_t dev, detail::nsfs_dev(proc.get()));
  Snapshot snap;
  snap.nsfs_dev_ = dev;
  try {
    std::vector<NsfsMount> mounts;
    if (options.mounts || options.fds) {
      if (auto found = nsfs_mounts_at(proc.get(), dev)) {
        mounts = std::move(found).value();
      }
    }
    std::optional<FdWalk> walk;
    if (options.fds) {
      walk = fd_walk_for(proc.get(), dev, options, mounts);
    }
    Grouper grouper(proc.get(), options, walk ? &*walk : nullptr);
    detail::ScannedBlocks scanned = detail::scan_blocks_at(proc.get(), scan_options, grouper);
    snap.stats_ = scanned.stats;

    // The blocks' groups, sorted by namespace (the order lsns lists them in) and, within one
    // namespace, by block: the first block to have a namespace has its lowest pid and its facts.
    struct Ref {
      std::uint64_t key;  ///< key_of the namespace
      std::uint32_t block;
      std::uint32_t group;
    };

    auto block_of = [&](std::size_t b) -> GroupedBlock& {
      return static_cast<GroupedBlock&>(*scanned.parts[b]);
    };
    std::size_t ngroups = 0;
    for (std::size_t b = 0; b < scanned.parts.size(); ++b) {
      ngroups += block_of(b).groups.size();
    }
    std::vector<Ref> refs;
    refs.reserve(ngroups);
    for (std::uint32_t b = 0; b < scanned.parts.size(); ++b) {
      const GroupedBlock& block = block_of(b);
      for (std::uint32_t g = 0; g < block.groups.size(); ++g) {
        refs.push_back({key_of(block.groups[g].type, block.groups[g].ino), b, g});
      }
    }
    std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
      return a.key != b.key ? a.key < b.key : a.block < b.block;
    });
    snap.namespaces_.reserve(refs.size() + mounts.size());
    // Each run of refs is one namespace; its first ref is its lowest pid's block and group.
    auto for_each_namespace = [&](auto&& fn) {
      for (std::size_t i = 0; i < refs.size();) {
        std::size_t end = i + 1;
        while (end < refs.size() && refs[end].key == refs[i].key) {
          ++end;
        }
        GroupedBlock& block = block_of(refs[i].block);
        fn(block, block.groups[refs[i].group], i, end);
        i = end;
      }
    };
    if (options.commands) {
      // A pid is often the lowest of several namespaces: count them, so that the last one
      // takes its command line instead of a copy.
      for_each_namespace([](GroupedBlock& block, const Group& g, std::size_t, std::size_t) {
        ++block.facts[g.facts].uses;
      });
    }
    for_each_namespace([&](GroupedBlock& block, const Group& g, std::size_t i, std::size_t end) {
      NsSummary& s = snap.namespaces_.emplace_back();
      s.ns = Namespace(g.type, dev, g.ino);
      s.pid = g.pid;
      if (options.commands) {
        ProcFacts& f = block.facts[g.facts];
        s.uid = f.uid;
        s.ppid = f.ppid;
        s.command = --f.uses == 0 ? std::move(f.command) : f.command;
      }
      for (; i < end; ++i) {
        s.nprocs += block_of(refs[i].block).groups[refs[i].group].nprocs;
      }
    });
    snap.procs_ = detail::join_procs(scanned.parts);
    // Namespaces no process is in are appended after the others (then merged into place): the
    // entry for `ns`, made when new.
    auto& all = snap.namespaces_;
    const auto held = static_cast<std::ptrdiff_t>(all.size());
    auto entry_for = [&](const Namespace& ns) -> NsSummary& {
      auto it = lower_bound_of(all.begin(), all.begin() + held, ns);
      if (it == all.begin() + held || it->ns != ns) {
        it = std::find_if(all.begin() + held, all.end(),
                          [&](const NsSummary& a) { return a.ns == ns; });
        if (it == all.end()) {
          it = all.emplace(all.end());
          it->ns = ns;
        }
      }
      return *it;
    };
    // Held by a bind mount: NSFS, every mount point once, in mountinfo order.
    if (options.mounts) {
      for (NsfsMount& m : mounts) {
        if (!options.types.contains(m.ns.type())) {
          continue;
        }
        NsSummary& s = entry_for(m.ns);
        if (std::find(s.nsfs.begin(), s.nsfs.end(), m.path) == s.nsfs.end()) {
          s.nsfs.push_back(std::move(m.path));
        }
      }
      for (NsSummary& s : all) {
        if (!s.nsfs.empty()) {
          s.path = s.nsfs.front();
        }
      }
    }
    // Held by an fd: the lowest pid holding each (fds).
    if (walk) {
      std::vector<FdHold> fds;
      std::vector<FdHold> sockets;
      for (std::size_t b = 0; b < scanned.parts.size(); ++b) {
        GroupedBlock& block = block_of(b);
        fds.insert(fds.end(), block.held.begin(), block.held.end());
        sockets.insert(sockets.end(), block.sockets.begin(), block.sockets.end());
      }
      std::sort(fds.begin(), fds.end());
      auto hold = [&](const Namespace& ns, const FdHold& h, bool socket) {
        NsSummary& s = entry_for(ns);
        if (s.nprocs == 0 && s.holder == 0) {
          s.holder = h.pid;
          s.holder_fd = h.fd;
          s.holder_socket = socket;
        }
      };
      for (const FdHold& h : fds) {
        auto t = static_cast<NsType>(h.key & 0xFU);
        hold(Namespace(t, dev, h.key >> 4U), h, false);
      }
      for (const SocketsOf& of : resolve_sockets(sockets, options.workers)) {
        for (std::size_t k = 0; k < of.sockets.size(); ++k) {
          if (of.netns[k] != 0) {
            hold(Namespace(NsType::net, dev, of.netns[k]), of.sockets[k], true);
          }
        }
      }
    }
    std::sort(all.begin() + held, all.end(), by_key);
    std::inplace_merge(all.begin(), all.begin() + held, all.end(), by_key);
    // A handful of syscalls per namespace: split across threads like the scan. USER of a
    // namespace no process is in comes from its owning user namespace (with commands).
    const bool owners = options.commands && all.end() - all.begin() > held;
    if (options.hierarchy || options.ids || owners) {
      detail::parallel_for(all.size(), options.workers, [&](std::size_t i) {
        NsSummary& s = all[i];
        bool owner = options.commands && s.pid == 0;
        if (options.hierarchy || options.ids || owner) {
          read_hierarchy(proc.get(), s, options.hierarchy, options.ids, owner);
        }
      });
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "group namespaces");
  }
  return snap;
}

NSFUN_INLINE result<NsFd> open_namespace(const NsSummary& s) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  int fd = detail::snap::open_listed(proc.get(), s);
  if (fd < 0) {
    int err = errno == ENOENT ? ESRCH : errno;
    return errno_error(err, "open").on(name(s.ns.type()), ":[", s.ns.ino(), "]");
  }
  return NsFd::adopt(UniqueFd::adopt(fd), s.ns.type());  // owns: just opened
}

NSFUN_INLINE const NsSummary* Snapshot::find(const Namespace& ns) const noexcept {
  using detail::snap::lower_bound_of;
  auto it = lower_bound_of(namespaces_.begin(), namespaces_.end(), ns);
  return it != namespaces_.end() && it->ns == ns ? &*it : nullptr;
}

NSFUN_INLINE std::vector<pid_t> Snapshot::processes_in(const Namespace& ns) const {
  std::vector<pid_t> pids;
  for (const ProcEntry& p : procs_) {
    if (p.tid == p.pid && p.ino[static_cast<std::size_t>(ns.type())] == ns.ino()) {
      pids.push_back(p.pid);
    }
  }
  return pids;
}

NSFUN_INLINE result<std::vector<NsDiffEntry>> diff(pid_t a, pid_t b) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(std::uint64_t dev, detail::nsfs_dev(proc.get()));
  NSFUN_TRY(ProcEntry pa, detail::scan_proc_at(proc.get(), a, {}));
  NSFUN_TRY(ProcEntry pb, detail::scan_proc_at(proc.get(), b, {}));
  std::vector<NsDiffEntry> out;
  try {
    for (NsLink l : all_ns_links) {
      out.push_back({l, pa.ns(l, dev), pb.ns(l, dev)});
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "diff");
  }
  return out;
}

}  // namespace nsfun

namespace nsfun::detail::snap {

inline Isolation compare(const ProcEntry& p, const ProcEntry& r) noexcept {
  Isolation out;
  for (NsType t : all_ns_types) {
    std::size_t i = static_cast<std::size_t>(t);
    if (p.ino[i] == 0 || r.ino[i] == 0) {
      out.unknown.insert(t);
    } else if (p.ino[i] != r.ino[i]) {
      out.types.insert(t);
    }
  }
  return out;
}

// Reads process `pid` (a thread id works too) for isolated_from, naming it in errors.
inline result<ProcEntry> read_for_isolation(int proc_fd, pid_t pid) noexcept {
  auto e = detail::scan_proc_at(proc_fd, pid, {});
  if (!e) {
    return std::move(e).assume_error().with_context("isolated_from");
  }
  return e;
}

// isolation_reference() on an open /proc.
[[nodiscard]] inline result<IsolationReference> isolation_reference_at(int proc_fd) noexcept {
  IsolationReference out;
  auto init = detail::scan_proc_at(proc_fd, 1, {});
  bool readable = init.has_value();
  for (std::size_t i = 0; readable && i < ns_link_count; ++i) {
    readable = init.value().ino[i] != 0;
  }
  if (readable) {
    out.kind = Isolation::Reference::init;
    out.proc = std::move(init).assume_value();
    return out;
  }
  out.kind = Isolation::Reference::caller;
  NSFUN_TRY(out.proc, read_for_isolation(proc_fd, ::gettid()));
  return out;
}

}  // namespace nsfun::detail::snap

namespace nsfun {

NSFUN_INLINE result<IsolationReference> isolation_reference() noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  return detail::snap::isolation_reference_at(proc.get());
}

NSFUN_INLINE result<Isolation> isolated_from(pid_t pid) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(ProcEntry p, detail::snap::read_for_isolation(proc.get(), pid));
  NSFUN_TRY(IsolationReference ref, detail::snap::isolation_reference_at(proc.get()));
  Isolation out = detail::snap::compare(p, ref.proc);
  out.reference = ref.kind;
  out.reference_pid = ref.proc.pid;
  return out;
}

NSFUN_INLINE result<Isolation> isolated_from(pid_t pid, pid_t reference) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(ProcEntry p, detail::snap::read_for_isolation(proc.get(), pid));
  NSFUN_TRY(ProcEntry r, detail::snap::read_for_isolation(proc.get(), reference));
  Isolation out = detail::snap::compare(p, r);
  out.reference = Isolation::Reference::process;
  out.reference_pid = reference;
  return out;
}

}  // namespace nsfun
