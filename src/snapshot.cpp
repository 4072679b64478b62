// SPDX-License-Identifier: MIT
// nsfun – Snapshot: grouping a scan by namespace, nsfs bind mounts, diff and isolation.

#include <algorithm>
#include <unordered_map>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nsfun/snapshot.hpp>

#include "proc_util.hpp"
#include "scan_internal.hpp"
#include "sys.hpp"

namespace nsfun {

namespace {

// (type, inode) packed into one word: nsfs inodes fit in 32 bits, types in 4.
std::uint64_t key_of(NsType t, std::uint64_t ino) noexcept {
  return (ino << 4U) | static_cast<std::uint64_t>(t);
}

// What a namespace's lowest process shows in USER, PPID and COMMAND.
struct ProcFacts {
  uid_t uid = static_cast<uid_t>(-1);
  pid_t ppid = 0;
  std::string command;
};

ProcFacts read_facts(int proc_fd, pid_t pid, bool want_ppid) {
  ProcFacts f;
  detail::ProcPath path;
  path.add(pid).add("/");
  std::size_t base = path.size();

  std::string text;
  uid_t owner = static_cast<uid_t>(-1);
  if (detail::read_at(proc_fd, path.truncate(base).add("cmdline").c_str(), text, &owner) == 0) {
    detail::join_cmdline(text);
    f.command = std::move(text);
  }
  f.uid = owner;
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
std::uint64_t related_ino(int fd, unsigned long request) noexcept {
  int rel = ::ioctl(fd, request);
  if (rel < 0) {
    return 0;
  }

  struct stat st {};

  std::uint64_t ino = ::fstat(rel, &st) == 0 ? st.st_ino : 0;
  ::close(rel);
  return ino;
}

// Fills PNS, ONS and the 64-bit id of one namespace, opened through its lowest pid or its
// bind mount.
void read_hierarchy(int proc_fd, NsSummary& s, bool hierarchy, bool ids) {
  int fd = -1;
  if (s.pid > 0) {
    detail::ProcPath path;
    path.add(s.pid).add("/ns/").add(name(s.ns.type()));
    fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  } else if (!s.path.empty()) {
    fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  }
  if (fd < 0) {
    return;
  }
  UniqueFd ns = UniqueFd::adopt(fd);  // owns: just opened

  struct stat st {};

  if (::fstat(fd, &st) < 0 || st.st_ino != s.ns.ino()) {
    return;  // the process exited and its pid was reused: not the namespace we listed
  }
  if (hierarchy) {
    if (s.ns.type() == NsType::pid || s.ns.type() == NsType::user) {
      s.parent = related_ino(fd, sys::ns_get_parent);
    }
    s.owner = related_ino(fd, sys::ns_get_userns);
  }
  if (ids) {
    std::uint64_t id = 0;
    if (::ioctl(fd, sys::ns_get_id, &id) == 0) {
      s.ns = Namespace(s.ns.type(), s.ns.dev(), s.ns.ino(), id);
    }
  }
}

}  // namespace

result<std::vector<NsfsMount>> nsfs_mounts() noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(std::uint64_t dev, detail::nsfs_dev(proc.get()));
  return detail::nsfs_mounts_at(proc.get(), dev);
}

result<std::vector<NsfsMount>> detail::nsfs_mounts_at(int proc_fd, std::uint64_t dev) noexcept {
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

result<Snapshot> Snapshot::take(const SnapshotOptions& options) noexcept {
  ProcScanOptions scan_options;
  scan_options.types = options.types;
  scan_options.workers = options.workers;
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(std::uint64_t dev, detail::nsfs_dev(proc.get()));
  NSFUN_TRY(ProcScan scan, detail::scan_procs_at(proc.get(), dev, scan_options));
  Snapshot snap;
  snap.stats_ = scan.stats;
  snap.nsfs_dev_ = scan.nsfs_dev;
  try {
    std::unordered_map<std::uint64_t, std::size_t> index;
    index.reserve(256);
    // Neighbouring processes mostly share namespaces: remember the previous process's
    // namespace of each type and skip the hash lookup when it repeats.
    std::array<std::uint64_t, ns_type_count> last_ino{};
    std::array<std::size_t, ns_type_count> last_slot{};
    for (const ProcEntry& p : scan.procs) {
      for (NsType t : options.types) {
        std::size_t ti = static_cast<std::size_t>(t);
        std::uint64_t ino = p.ino[ti];
        if (ino == 0) {
          continue;
        }
        std::size_t slot = last_slot[ti];
        if (ino != last_ino[ti]) {
          auto [it, fresh] = index.try_emplace(key_of(t, ino), snap.namespaces_.size());
          if (fresh) {
            NsSummary s;
            s.ns = Namespace(t, scan.nsfs_dev, ino);
            s.pid = p.pid;  // pids come in ascending order: the first is the lowest
            snap.namespaces_.push_back(std::move(s));
          }
          slot = it->second;
          last_ino[ti] = ino;
          last_slot[ti] = slot;
        }
        ++snap.namespaces_[slot].nprocs;
      }
    }
    if (options.mounts) {
      auto mounts = detail::nsfs_mounts_at(proc.get(), dev);
      if (mounts) {
        for (NsfsMount& m : mounts.value()) {
          if (!options.types.contains(m.ns.type())) {
            continue;
          }
          auto [it, fresh] =
              index.try_emplace(key_of(m.ns.type(), m.ns.ino()), snap.namespaces_.size());
          if (fresh) {
            NsSummary s;
            s.ns = m.ns;
            snap.namespaces_.push_back(std::move(s));
          }
          NsSummary& s = snap.namespaces_[it->second];
          if (s.path.empty()) {
            s.path = std::move(m.path);
          }
        }
      }
    }
    if (options.commands) {
      // Most namespaces share their lowest pid (the init namespaces all have the same one):
      // read each distinct one once, split across threads like the scan when there are many.
      std::unordered_map<pid_t, std::size_t> slot;
      std::vector<pid_t> pids;
      for (const NsSummary& s : snap.namespaces_) {
        if (s.pid != 0 && slot.try_emplace(s.pid, pids.size()).second) {
          pids.push_back(s.pid);
        }
      }
      std::vector<ProcFacts> facts(pids.size());
      detail::parallel_for(pids.size(), options.workers, [&](std::size_t i) {
        facts[i] = read_facts(proc.get(), pids[i], options.ppid);
      });
      for (NsSummary& s : snap.namespaces_) {
        if (s.pid != 0) {
          const ProcFacts& f = facts[slot[s.pid]];
          s.uid = f.uid;
          s.ppid = f.ppid;
          s.command = f.command;
        }
      }
    }
    if (options.hierarchy || options.ids) {
      for (NsSummary& s : snap.namespaces_) {
        read_hierarchy(proc.get(), s, options.hierarchy, options.ids);
      }
    }
    std::sort(snap.namespaces_.begin(), snap.namespaces_.end(),
              [](const NsSummary& a, const NsSummary& b) {
                return a.ns.ino() != b.ns.ino() ? a.ns.ino() < b.ns.ino()
                                                : a.ns.type() < b.ns.type();
              });
    if (options.keep_procs) {
      snap.procs_ = std::move(scan.procs);
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "group namespaces");
  }
  return snap;
}

const NsSummary* Snapshot::find(const Namespace& ns) const noexcept {
  auto it = std::lower_bound(
      namespaces_.begin(), namespaces_.end(), ns, [](const NsSummary& s, const Namespace& n) {
        return s.ns.ino() != n.ino() ? s.ns.ino() < n.ino() : s.ns.type() < n.type();
      });
  return it != namespaces_.end() && it->ns == ns ? &*it : nullptr;
}

std::vector<pid_t> Snapshot::processes_in(const Namespace& ns) const {
  std::vector<pid_t> pids;
  for (const ProcEntry& p : procs_) {
    if (p.tid == p.pid && p.ino[static_cast<std::size_t>(ns.type())] == ns.ino()) {
      pids.push_back(p.pid);
    }
  }
  return pids;
}

result<std::vector<NsDiffEntry>> diff(pid_t a, pid_t b) noexcept {
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

result<NsTypeSet> isolated_from(pid_t pid, pid_t reference) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(ProcEntry p, detail::scan_proc_at(proc.get(), pid, {}));
  NSFUN_TRY(ProcEntry r, detail::scan_proc_at(proc.get(), reference, {}));
  NsTypeSet differs;
  for (NsType t : all_ns_types) {
    std::size_t i = static_cast<std::size_t>(t);
    if (p.ino[i] != 0 && r.ino[i] != 0 && p.ino[i] != r.ino[i]) {
      differs.insert(t);
    }
  }
  return differs;
}

}  // namespace nsfun
