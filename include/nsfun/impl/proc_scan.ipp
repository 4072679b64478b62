// SPDX-License-Identifier: MIT
// nsfun – the /proc scanner: the implementation (see <nsfun/config.hpp>).
//
// Per process the bare scan makes one readlinkat per namespace type, relative to a single
// /proc dirfd ("PID/ns/net"): no open/close of /proc/PID, no stat. Everything else is read only
// when asked for. Processes come and go while we read: ENOENT/ESRCH mean "gone", EACCES/EPERM
// mean "not ours to see"; both are counted and skipped, as lsns does.
//
// Where it may (root, a recent kernel, a whole-system scan of a few hundred processes or more),
// the scan takes every process's links from one pass of a BPF task iterator instead
// (task_iter.hpp): /proc is still listed, so the processes are the ones /proc shows, and a pid
// the iterator did not see is read through /proc as above. A pid is listed a few milliseconds
// after the iterator passed it, the same kind of race as a process that exits after its links
// were read.
#pragma once

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <iterator>
#include <latch>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/scan_internal.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/detail/task_iter.hpp>
#include <nsfun/detail/work_queue.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/unique_fd.hpp>

// The scanner's parts: nsfun::detail::scan (one translation unit holds every .ipp in header-only
// mode, so the generic names stay in a namespace of their own).
namespace nsfun::detail::scan {

enum class Outcome { ok, vanished, denied };

inline Outcome outcome_of(int err) noexcept {
  return err == EACCES || err == EPERM ? Outcome::denied : Outcome::vanished;
}

// "net:[4026531833]" -> 4026531833; 0 when malformed.
inline std::uint64_t parse_ns_link(const char* buf, std::size_t n) noexcept {
  const char* open = static_cast<const char*>(std::memchr(buf, '[', n));
  if (open == nullptr) {
    return 0;
  }
  std::uint64_t ino = 0;
  std::from_chars(open + 1, buf + n, ino);
  return ino;
}

class Scanner {
 public:
  // With `table`, a process found there takes its links from it instead of readlinkat.
  Scanner(int proc_fd,
          const ProcScanOptions& o,
          const detail::TaskNsTable* table = nullptr) noexcept
      : proc_fd_(proc_fd), o_(o), table_(table) {
    // user and pid first: the links a zombie keeps, so the first read decides "gone".
    for (NsType t : {NsType::user, NsType::pid}) {
      if (o.types.contains(t)) {
        add_link(link_of(t));
      }
    }
    for (NsType t : o.types - NsTypeSet{NsType::user, NsType::pid}) {
      add_link(link_of(t));
    }
    if (o.for_children) {
      if (o.types.contains(NsType::pid)) {
        add_link(NsLink::pid_for_children);
      }
      if (o.types.contains(NsType::time)) {
        add_link(NsLink::time_for_children);
      }
    }
  }

  // Reads one process (tid == pid) or thread into `e`.
  Outcome scan(pid_t pid, pid_t tid, ProcEntry& e) const noexcept {
    e.pid = pid;
    e.tid = tid;
    detail::sys::PathBuf path;
    path.add(pid).add("/");
    if (const detail::TaskNs* t = table_ != nullptr && tid == pid ? table_->find(pid) : nullptr) {
      return from_table(*t, path, e);
    }
    if (tid != pid) {
      path.add("task/").add(tid).add("/");
    }
    std::size_t base = path.size();
    path.add("ns/");
    std::size_t ns_base = path.size();
    // A link that cannot be read is left at 0 and the others are still read, as lsns does: a
    // zombie keeps only its user and pid links and is counted in those namespaces. Only a
    // process none of whose links could be read is skipped.
    for (std::size_t i = 0; i < nlinks_; ++i) {
      NsLink l = links_[i];
      path.truncate(ns_base).add(name(l));
      char buf[64];
      ssize_t n = ::readlinkat(proc_fd_, path.c_str(), buf, sizeof(buf));
      if (n < 0) {
        if (i == 0) {
          // Gone, or not ours to read: the other links would fail the same way. (user and pid
          // come first, and a zombie still has those.)
          return outcome_of(errno);
        }
        continue;  // this link only: the process exited mid-read, or is a zombie
      }
      e.ino[static_cast<std::size_t>(l)] = parse_ns_link(buf, static_cast<std::size_t>(n));
    }
    if (tid != pid) {
      return Outcome::ok;  // threads: namespaces only
    }
    path.truncate(base);
    return read_extras(path, e);
  }

  // Adds the threads of process `pid`, whose links are `ino`, whose namespaces differ from it.
  // Both by value: the process's own entry is usually in `out`, which the entries added here may
  // move.
  void scan_threads(pid_t pid,
                    const std::array<std::uint64_t, ns_link_count> ino,
                    std::vector<ProcEntry>& out,
                    ProcScanStats& stats) const {
    detail::sys::PathBuf path;
    path.add(pid).add("/task");
    int fd = ::openat(proc_fd_, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return;
    }
    UniqueFd dir = UniqueFd::adopt(fd);  // owns: just opened
    detail::for_each_pid(dir.get(), [&](pid_t tid) {
      if (tid == pid) {
        return;
      }
      ProcEntry t;
      Outcome r = scan(pid, tid, t);
      if (r == Outcome::vanished) {
        ++stats.vanished;
      } else if (r == Outcome::denied) {
        ++stats.denied;
      } else if (t.ino != ino) {
        out.push_back(std::move(t));
      }
    });
  }

 private:
  void add_link(NsLink l) noexcept {
    if (kernel_has(l)) {
      links_[nlinks_++] = l;
    }
  }

  // The links as the task iterator saw them; a process without any is gone, as with readlinkat.
  Outcome from_table(const detail::TaskNs& t,
                     detail::sys::PathBuf& path,
                     ProcEntry& e) const noexcept {
    bool any = false;
    for (std::size_t i = 0; i < nlinks_; ++i) {
      auto l = static_cast<std::size_t>(links_[i]);
      e.ino[l] = t.ino[l];
      any = any || t.ino[l] != 0;
    }
    return any ? read_extras(path, e) : Outcome::vanished;
  }

  // A link this kernel lacks (time before 5.6, cgroup before 4.6) would make every process
  // look vanished; leave it out instead. The answer never changes, so it is computed once.
  static bool kernel_has(NsLink l) noexcept {
    static const std::array<bool, ns_link_count> have = [] {
      std::array<bool, ns_link_count> h{};
      for (NsLink link : all_ns_links) {
        detail::sys::PathBuf p;
        p.add("/proc/self/ns/").add(name(link));
        h[static_cast<std::size_t>(link)] =
            ::faccessat(AT_FDCWD, p.c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
      }
      return h;
    }();
    return have[static_cast<std::size_t>(l)];
  }

  // The optional fields; `path` is "PID/". The owner (uid) comes from fstat on the first file
  // read anyway (a /proc/PID file belongs to the process's euid, unless it is non-dumpable:
  // process_owner then asks /proc/PID itself); when no file is read, from /proc/PID at once.
  Outcome read_extras(detail::sys::PathBuf& path, ProcEntry& e) const noexcept {
    std::size_t base = path.size();
    uid_t* owner = o_.uid ? &e.uid : nullptr;
    if (owner != nullptr && !o_.ppid && !o_.cmdline && !o_.nspid) {
      struct stat st {};

      if (::fstatat(proc_fd_, path.truncate(base).add(".").c_str(), &st, 0) < 0) {
        return outcome_of(errno);
      }
      e.uid = st.st_uid;
      return Outcome::ok;
    }
    // Reads PID/name into `out`, taking the owner along on the first read.
    auto read_file = [&](const char* name, std::string& out) {
      int err = detail::read_at(proc_fd_, path.truncate(base).add(name).c_str(), out, owner);
      owner = nullptr;
      return err;
    };
    try {
      if (o_.ppid) {
        std::string stat;
        if (int err = read_file("stat", stat)) {
          return outcome_of(err);
        }
        detail::parse_stat(stat, e.ppid, e.comm);
      }
      if (o_.cmdline) {
        if (int err = read_file("cmdline", e.cmdline)) {
          return outcome_of(err);
        }
        detail::join_cmdline(e.cmdline);
      }
      if (o_.nspid) {
        std::string status;
        if (int err = read_file("status", status)) {
          return outcome_of(err);
        }
        detail::parse_nspid(status, e.nspid);
      }
    } catch (const std::bad_alloc&) {
      return Outcome::vanished;
    }
    if (o_.uid) {
      e.uid = detail::process_owner(proc_fd_, path.truncate(base).c_str(), e.uid);
    }
    return Outcome::ok;
  }

  int proc_fd_;
  const ProcScanOptions& o_;
  const detail::TaskNsTable* table_;
  std::array<NsLink, ns_link_count> links_{};
  std::size_t nlinks_ = 0;
};

// Scans the pids of one block into `out` (cleared first), counting what it skipped.
inline void scan_range(const Scanner& s,
                       const ProcScanOptions& o,
                       const std::vector<pid_t>& pids,
                       std::vector<ProcEntry>& out,
                       ProcScanStats& stats) {
  out.clear();
  out.reserve(pids.size());
  for (pid_t pid : pids) {
    out.emplace_back();
    Outcome r = s.scan(pid, pid, out.back());
    if (r != Outcome::ok) {
      out.pop_back();
      ++(r == Outcome::denied ? stats.denied : stats.vanished);
      continue;
    }
    if (o.threads) {
      s.scan_threads(pid, out.back().ino, out, stats);
    }
  }
}

// Pids travel from the reader of /proc to the scanning threads in blocks of this many: small
// enough to keep two threads evenly busy, large enough that the lock is never noticed.
inline constexpr std::size_t block_size = 256;

// Past this many pids a second thread pays for itself (measured: it did from ~600 processes on
// two cores).
inline constexpr std::size_t parallel_threshold = 600;

// How many pids the scan is about to see. procfs gives its root one link per process on the
// system (nr_processes(), plus a few of its own), so one fstat tells before the listing starts
// whether helpers will pay: listing the first few hundred pids alone takes milliseconds.
inline std::size_t expected_pids(int proc_fd, const ProcScanOptions& o) noexcept {
  if (o.pids) {
    return o.pids->size();
  }

  struct stat st {};

  return ::fstat(proc_fd, &st) == 0 ? std::size_t{st.st_nlink} : 0;
}

// Past this many pids the task iterator pays for itself: loading it costs about as much as
// reading the links of 200 processes (measured: 4.5 ms to load, 6 ms to read 5,700 processes).
inline constexpr std::size_t task_iter_threshold = 300;

// The task iterator's table, read once by whichever scanning thread asks first (a helper, while
// the reader is still listing /proc); every other thread waits for it.
class SharedTable {
 public:
  // `expected`: about how many processes the table will hold; 0 when it is not wanted. With
  // `iter`, the table is one pass of that loaded iterator; without, the iterator is loaded.
  explicit SharedTable(std::size_t expected, const detail::TaskIterLink* iter = nullptr) noexcept
      : expected_(expected), iter_(iter) {}

  // The table, or nullptr when it is not wanted or could not be read.
  const detail::TaskNsTable* get(int proc_fd) noexcept {
    if (expected_ == 0) {
      return nullptr;
    }
    if (!claimed_.exchange(true)) {
      table_ = iter_ != nullptr ? iter_->read(proc_fd, expected_)
                                : detail::TaskNsTable::read(proc_fd, expected_);
      ready_.count_down();
    }
    ready_.wait();
    return table_.empty() ? nullptr : &table_;
  }

  // After every thread is done: whether the scan used the table.
  [[nodiscard]] bool used() const noexcept { return !table_.empty(); }

 private:
  std::size_t expected_;
  const detail::TaskIterLink* iter_;
  std::atomic<bool> claimed_{false};
  std::latch ready_{1};
  detail::TaskNsTable table_;
};

// A block of pids and what the sink kept of scanning them. Blocks are scanned in any order by
// any thread and handed back in the order they were read, so results stay sorted like /proc.
struct Block {
  std::vector<pid_t> pids;
  std::unique_ptr<detail::BlockSink::Part> part;
  ProcScanStats stats;
};

// The blocks the reader has pushed, handed out one at a time to the reader and its helpers.
using Feed = WorkQueue<Block>;

inline unsigned max_workers(const ProcScanOptions& o) noexcept {
  if (o.workers != 0) {
    return o.workers;
  }
  return std::min(std::max(1U, std::thread::hardware_concurrency()), 4U);
}

// Scans the blocks the feed hands out until there are no more. A helper thread reads through a
// /proc fd of its own: threads sharing one struct file would bounce its reference count between
// CPUs on every readlinkat. One vector of entries serves every block the thread scans.
inline void scan_feed(int proc_fd,
                      Feed& feed,
                      const ProcScanOptions& o,
                      detail::BlockSink& sink,
                      SharedTable& table,
                      bool own_fd) {
  UniqueFd own;
  if (own_fd) {
    own = UniqueFd::adopt(::openat(proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  const int fd = own ? own.get() : proc_fd;  // no fd of its own: share proc_fd
  Scanner scanner(fd, o, table.get(fd));
  std::vector<ProcEntry> procs;
  while (Block* b = feed.take()) {
    scan_range(scanner, o, b->pids, procs, b->stats);
    b->part = sink.take(procs);
  }
}

// Keeps every entry: what scan_procs returns.
class CollectAll final : public detail::BlockSink {
 public:
  std::unique_ptr<Part> take(std::vector<ProcEntry>& procs) override {
    auto part = std::make_unique<Part>();
    part->procs = std::move(procs);
    return part;
  }
};

}  // namespace nsfun::detail::scan

namespace nsfun {

NSFUN_INLINE std::vector<ProcEntry> detail::join_procs(
    const std::vector<std::unique_ptr<BlockSink::Part>>& parts) {
  std::size_t total = 0;
  for (const auto& part : parts) {
    total += part->procs.size();
  }
  std::vector<ProcEntry> out;
  out.reserve(total);
  for (const auto& part : parts) {
    std::move(part->procs.begin(), part->procs.end(), std::back_inserter(out));
  }
  return out;
}

NSFUN_INLINE detail::ScannedBlocks detail::scan_blocks_at(int proc_fd,
                                                          const ProcScanOptions& options,
                                                          BlockSink& sink,
                                                          const TaskIterLink* iter) {
  using namespace detail::scan;  // the scanner's parts
  // The reader (this thread) lists /proc in blocks; once there are enough pids to be worth it,
  // helper threads start scanning blocks while the reader goes on listing. Then the reader
  // scans too, until every block is done.
  const std::size_t expected = expected_pids(proc_fd, options);
  const bool loaded = iter != nullptr && static_cast<bool>(*iter);
  const bool iterate = options.task_iter && !options.pids &&
                       (loaded || (expected >= task_iter_threshold && detail::task_iter_built()));
  SharedTable table(iterate ? std::max<std::size_t>(expected, 1) : 0, loaded ? iter : nullptr);
  Feed feed;  // its destructor joins the helpers on every way out
  const unsigned workers = max_workers(options);
  std::vector<pid_t> block;
  block.reserve(block_size);
  std::size_t seen = 0;
  // Helpers start at once when the caller asked for them or there will be enough to share;
  // otherwise (the count was unknown, or grew) once the reader has seen half the threshold.
  const std::size_t start_at =
      options.workers > 1 || expected >= parallel_threshold ? 1 : parallel_threshold / 2;
  auto add = [&](pid_t pid) {
    block.push_back(pid);
    if (block.size() == block_size) {
      feed.push(Block{std::exchange(block, {}), {}, {}});
      block.reserve(block_size);
    }
    if (++seen == start_at && workers > 1) {
      // Fewer helpers than asked for (no thread to be had): this one scans the rest.
      (void)feed.start(workers - 1, [&] { scan_feed(proc_fd, feed, options, sink, table, true); });
    }
  };
  if (options.pids) {
    for (pid_t pid : *options.pids) {
      add(pid);
    }
  } else {
    detail::for_each_pid(proc_fd, add);
  }
  if (!block.empty()) {
    feed.push(Block{std::move(block), {}, {}});
  }
  feed.finish();
  feed.run([&] { scan_feed(proc_fd, feed, options, sink, table, false); });
  feed.join();
  feed.rethrow();

  ScannedBlocks out;
  out.stats.seen = seen;
  out.stats.task_iter = table.used();
  out.parts.reserve(feed.items().size());
  for (Block& b : feed.items()) {
    out.parts.push_back(std::move(b.part));
    out.stats.vanished += b.stats.vanished;
    out.stats.denied += b.stats.denied;
  }
  return out;
}

NSFUN_INLINE result<ProcScan> detail::scan_procs_at(int proc_fd,
                                                    std::uint64_t nsfs_dev,
                                                    const ProcScanOptions& options,
                                                    const TaskIterLink* iter) noexcept {
  ProcScan out;
  out.nsfs_dev = nsfs_dev;
  try {
    detail::scan::CollectAll sink;
    ScannedBlocks scanned = scan_blocks_at(proc_fd, options, sink, iter);
    out.stats = scanned.stats;
    out.procs = join_procs(scanned.parts);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "scan /proc");
  }
  return out;
}

NSFUN_INLINE result<ProcScan> scan_procs(const ProcScanOptions& options) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  NSFUN_TRY(std::uint64_t dev, detail::nsfs_dev(proc.get()));
  return detail::scan_procs_at(proc.get(), dev, options);
}

NSFUN_INLINE result<ProcEntry> scan_proc(pid_t pid, const ProcScanOptions& options) noexcept {
  NSFUN_TRY(UniqueFd proc, detail::open_proc());
  return detail::scan_proc_at(proc.get(), pid, options);
}

NSFUN_INLINE result<ProcEntry> detail::scan_proc_at(int proc_fd,
                                                    pid_t pid,
                                                    const ProcScanOptions& options) noexcept {
  using detail::scan::Outcome;
  if (pid <= 0) {
    return errno_error(ESRCH, "scan").on("/proc/", pid);
  }
  ProcScanOptions o = options;
  o.for_children = true;
  detail::scan::Scanner scanner(proc_fd, o);
  ProcEntry e;
  switch (scanner.scan(pid, pid, e)) {
    case Outcome::ok:
      return e;
    case Outcome::denied:
      return errno_error(EACCES, "read").on("/proc/", pid, "/ns");
    case Outcome::vanished:
      break;
  }
  return errno_error(ESRCH, "read").on("/proc/", pid, "/ns");
}

}  // namespace nsfun
