// SPDX-License-Identifier: MIT
// nsfun – Snapshot: grouping a scan by namespace, nsfs bind mounts, diff and isolation: the
// implementation (see <nsfun/config.hpp>).
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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

// Fills PNS, ONS and the 64-bit id of one namespace, opened through its lowest pid or its
// bind mount.
inline void read_hierarchy(int proc_fd, NsSummary& s, bool hierarchy, bool ids) {
  int fd = -1;
  if (s.pid > 0) {
    detail::sys::PathBuf path;
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
};

// Groups each block as soon as it is scanned, on the thread that scanned it, and reads the facts
// for the lowest pid of each namespace there too. The lowest pid of a namespace in the whole
// scan is the lowest in the first block that has the namespace (blocks are in pid order), so
// the facts needed are always among those read; the few extra (a namespace that spans blocks
// is read once per block) cost less than a second pass after the scan.
class Grouper final : public detail::BlockSink {
 public:
  Grouper(int proc_fd, const SnapshotOptions& o) noexcept : proc_fd_(proc_fd), o_(o) {}

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
    Grouper grouper(proc.get(), options);
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
    std::vector<NsfsMount> mounts;
    if (options.mounts) {
      if (auto found = nsfs_mounts_at(proc.get(), dev)) {
        mounts = std::move(found).value();
      }
    }
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
    // Namespaces held by a bind mount: their path, and those no process is in (appended, then
    // merged into place).
    const auto held = static_cast<std::ptrdiff_t>(snap.namespaces_.size());
    for (NsfsMount& m : mounts) {
      if (!options.types.contains(m.ns.type())) {
        continue;
      }
      auto& all = snap.namespaces_;
      auto it = lower_bound_of(all.begin(), all.begin() + held, m.ns);
      if (it == all.begin() + held || it->ns != m.ns) {
        // Not held by a process: one entry, however many mounts hold it.
        it = std::find_if(all.begin() + held, all.end(),
                          [&](const NsSummary& a) { return a.ns == m.ns; });
        if (it == all.end()) {
          it = all.emplace(all.end());
          it->ns = m.ns;
        }
      }
      if (it->path.empty()) {
        it->path = std::move(m.path);
      }
    }
    auto& all = snap.namespaces_;
    std::sort(all.begin() + held, all.end(), by_key);
    std::inplace_merge(all.begin(), all.begin() + held, all.end(), by_key);
    if (options.hierarchy || options.ids) {
      // A handful of syscalls per namespace: split across threads like the scan.
      detail::parallel_for(snap.namespaces_.size(), options.workers, [&](std::size_t i) {
        read_hierarchy(proc.get(), snap.namespaces_[i], options.hierarchy, options.ids);
      });
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "group namespaces");
  }
  return snap;
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
