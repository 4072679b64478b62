// SPDX-License-Identifier: MIT
// nsfun – NsMonitor's bpf backend (included by <nsfun/impl/monitor.ipp>). Loads the programs of
// src/bpf/ns_monitor.bpf.c from their light skeleton (generated at build time as C++ by
// cmake/NsfunBpf.cmake: <nsfun/detail/ns_monitor.skel.hpp>), reads their ring buffer, and finds
// the namespaces whose free the kernel does not trace by asking it (ns_liveness) after the hints
// the programs send. Built only where NSFUN_HAVE_BPF is 1; otherwise open_bpf_source() says the
// build has no BPF programs.
//
// How GONE is found, and how late:
// - ipc, pid, mnt, net and time namespaces made while watching: their kfree or kmem_cache_free is
//   traced (the FREED record): GONE at the kernel's time of the free.
// - every namespace (these too, when their free comes later than the kernel forgets their id):
//   after a HINT (a process's exit or release, the close of an nsfs fd, setns, unshare, umount2,
//   the end of the kernel's work that frees user and net namespaces) the reader asks the kernel at
//   once and again 1, 2, 3, 5, 8, 12, 20 ... 400, 1000 ms after the hint, since the last reference
//   often goes after it (RCU, workqueues); and every second while any namespace is known (the
//   safety net, for references dropped elsewhere). GONE is then stamped with the time of the check
//   that found it gone: the namespace went between the previous check and that one, so `lived` is
//   late by at most the gap between the two.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/monitor_source.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/scan_internal.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/monitor.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

#if defined(NSFUN_HAVE_BPF) && NSFUN_HAVE_BPF
// libbpf's loader helpers (macros undone), then the generated skeleton in a namespace of its own.
#  include <nsfun/detail/bpf_loader.hpp>

namespace nsfun::detail::ns_monitor_skel {
#  include <nsfun/detail/ns_monitor.skel.hpp>
}  // namespace nsfun::detail::ns_monitor_skel

namespace nsfun::detail::monitor_bpf {

// The records are plain C (the BPF programs include them too); included here, their structs are
// nsfun::detail::monitor_bpf::nsfun_mon_*, and the macros become constants below.
#  include <nsfun/detail/ns_monitor_record.h>

inline constexpr unsigned rec_new = NSFUN_MON_NEW;
inline constexpr unsigned rec_freed = NSFUN_MON_FREED;
inline constexpr unsigned rec_proc = NSFUN_MON_PROC;
inline constexpr unsigned rec_hint = NSFUN_MON_HINT;
static_assert(NSFUN_MON_TYPES == ns_type_count);
#  undef NSFUN_MON_TYPES
#  undef NSFUN_MON_NEW
#  undef NSFUN_MON_FREED
#  undef NSFUN_MON_PROC
#  undef NSFUN_MON_HINT

using Skel = ns_monitor_skel::nsfun_ns_monitor_skel;

struct SkelClose {
  void operator()(Skel* s) const noexcept { ns_monitor_skel::nsfun_ns_monitor_skel__destroy(s); }
};

// A BPF ring buffer read from user space (Documentation/bpf/ringbuf.rst): the consumer position
// page mapped writable, the producer position page and the data (mapped twice in a row, so a
// record that wraps reads as one) read-only. Each record starts with an 8-byte header whose first
// 32 bits are its length with a BUSY bit (not yet submitted) and a DISCARD bit.
class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  Ring(Ring&&) = delete;
  Ring& operator=(Ring&&) = delete;

  ~Ring() {
    if (consumer_ != nullptr) {
      ::munmap(consumer_, page_);
    }
    if (producer_ != nullptr) {
      ::munmap(producer_, page_ + 2 * size_);
    }
  }

  [[nodiscard]] result<void> map(int fd, std::size_t size) noexcept {
    page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    size_ = size;
    void* c = ::mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c == MAP_FAILED) {
      return sys::last_error("mmap").on("the BPF ring buffer");
    }
    consumer_ = c;
    void* p =
        ::mmap(nullptr, page_ + 2 * size_, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(page_));
    if (p == MAP_FAILED) {
      return sys::last_error("mmap").on("the BPF ring buffer");
    }
    producer_ = p;
    return success();
  }

  // Calls fn(const void* record, std::size_t size) for each submitted record, in order, and
  // frees its space; stops at one still being written.
  template <class Fn>
  void consume(Fn&& fn) {
    auto* cons = static_cast<std::uint64_t*>(consumer_);
    auto* prod = static_cast<std::uint64_t*>(producer_);
    const auto* data = static_cast<const unsigned char*>(producer_) + page_;
    std::uint64_t c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
    for (;;) {
      std::uint64_t p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
      if (c >= p) {
        return;
      }
      const auto* hdr = reinterpret_cast<const std::uint32_t*>(data + (c & (size_ - 1)));
      std::uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
      if ((len & busy_bit) != 0) {
        return;
      }
      std::uint32_t n = len & ~(busy_bit | discard_bit);
      if ((len & discard_bit) == 0) {
        fn(static_cast<const void*>(data + (c & (size_ - 1)) + header_size), std::size_t{n});
      }
      c += (std::uint64_t{n} + header_size + 7) & ~std::uint64_t{7};
      __atomic_store_n(cons, c, __ATOMIC_RELEASE);
    }
  }

 private:
  static constexpr std::uint32_t busy_bit = 1U << 31;
  static constexpr std::uint32_t discard_bit = 1U << 30;
  static constexpr std::uint64_t header_size = 8;

  void* consumer_ = nullptr;
  void* producer_ = nullptr;
  std::size_t page_ = 0;
  std::size_t size_ = 0;
};

// The checks after a hint, in ns after it; the last one ends the watch.
inline constexpr std::array<std::uint64_t, 6> recheck_after{0,          1'000'000,   5'000'000,
                                                            20'000'000, 100'000'000, 1'000'000'000};

// The safety net: every namespace known is checked this often.
inline constexpr std::uint64_t safety_period = 1'000'000'000;

// The addresses of free_user_ns and cleanup_net in /proc/kallsyms (0 where it hides them:
// kptr_restrict, or a kernel without them). The work items that free user and net namespaces
// run these after RCU grace periods; the programs hint when one has run.
[[nodiscard]] inline std::array<std::uint64_t, 2> free_work_addresses() noexcept {
  std::array<std::uint64_t, 2> found{0, 0};
  int fd = ::open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return found;
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  constexpr std::array<std::string_view, 2> names{"free_user_ns", "cleanup_net"};
  // "ffffffff81473940 t free_user_ns\n": line by line through a buffer that keeps a partial
  // line for the next read.
  char buf[65536];
  std::size_t have = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf + have, sizeof(buf) - have);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    have += static_cast<std::size_t>(n);
    std::string_view text(buf, have);
    std::size_t start = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string_view::npos;
         nl = text.find('\n', start)) {
      std::string_view line = text.substr(start, nl - start);
      start = nl + 1;
      auto sp = line.rfind(' ');
      if (sp == std::string_view::npos) {
        continue;
      }
      std::string_view sym = line.substr(sp + 1);
      for (std::size_t i = 0; i < names.size(); ++i) {
        std::uint64_t addr = 0;
        if (sym == names[i] && found[i] == 0 &&
            std::from_chars(line.data(), line.data() + line.size(), addr, 16).ec == std::errc()) {
          found[i] = addr;
        }
      }
    }
    have -= start;
    std::memmove(buf, buf + start, have);
    if (have == sizeof(buf)) {
      have = 0;  // a line longer than the buffer: not one of ours
    }
  }
  return found;
}

[[nodiscard]] inline std::string comm_of(const nsfun_mon_head& h) {
  return {h.comm, ::strnlen(h.comm, sizeof(h.comm))};
}

class BpfSource final : public MonitorSource {
 public:
  BpfSource(const MonitorOptions& options, std::uint64_t nsfs_dev) noexcept
      : options_(options), dev_(nsfs_dev) {}

  [[nodiscard]] int fd() const noexcept override { return skel_->maps.nsfun_ring.map_fd; }

  [[nodiscard]] std::uint64_t deadline() const noexcept override {
    std::uint64_t d = live_.size() > own_.size() ? safety_next_ : 0;
    auto sooner = [&d](std::uint64_t t) {
      if (t != 0 && (d == 0 || t < d)) {
        d = t;
      }
    };
    if (all_.active) {
      sooner(all_.due);
    }
    for (const auto& [key, s] : suspects_) {
      sooner(s.due);
    }
    return d;
  }

  void add_stats(MonitorStats& s) const noexcept override {
    s.lost += lost_;
    s.rechecks += rechecks_;
  }

  [[nodiscard]] result<void> pump(std::deque<NsEvent>& out, std::uint64_t now) noexcept override {
    try {
      ring_.consume([&](const void* rec, std::size_t size) { handle(rec, size, out, now); });
      std::uint64_t lost = __atomic_load_n(&skel_->bss->nsfun_lost, __ATOMIC_RELAXED);
      if (lost > lost_) {
        NsEvent e = make_event(NsEventKind::lost, Namespace{}, now);
        e.lost = lost - lost_;
        lost_ = lost;
        out.push_back(std::move(e));
      }
      recheck_due(out, monotonic_ns());
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "read the BPF ring buffer");
    }
    return success();
  }

  // Loads and attaches the programs, maps the ring, and learns the namespaces that exist.
  [[nodiscard]] result<void> start() noexcept {
    try {
      return load_and_learn();
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "start the bpf monitor");
    }
  }

 private:
  [[nodiscard]] result<void> load_and_learn() {
    namespace sk = ns_monitor_skel;
    // NsMonitor::open() made sure it is a power of two of at least a page; the map has a cap.
    std::size_t ring = options_.ring_bytes;
    if (ring > (std::size_t{1} << 30)) {
      return errno_error(EINVAL, "size the BPF ring buffer")
          .on(std::to_string(ring) + " bytes (a power of two from one page to 1 GiB)");
    }
    NSFUN_TRY(UniqueFd proc, open_proc());
    own_ns(proc.get());

    Skel* s = sk::nsfun_ns_monitor_skel__open();
    if (s == nullptr) {
      return errno_error(errno != 0 ? errno : ENOMEM, "open BPF programs");
    }
    skel_.reset(s);
    unsigned mask = 0;
    for (NsType t : options_.types) {
      mask |= 1U << static_cast<unsigned>(t);
    }
    s->rodata->nsfun_types = mask;
    s->rodata->nsfun_processes = options_.processes ? 1U : 0U;
    for (NsType t : all_ns_types) {
      auto i = static_cast<std::size_t>(t);
      s->rodata->nsfun_own[i] = static_cast<__u32>(own_ino_[i]);
    }
    auto work = free_work_addresses();
    s->rodata->nsfun_free_work[0] = work[0];
    s->rodata->nsfun_free_work[1] = work[1];
    s->rodata->nsfun_nr_unshare = SYS_unshare;
    s->rodata->nsfun_nr_setns = SYS_setns;
    s->rodata->nsfun_nr_close = SYS_close;
    s->rodata->nsfun_nr_umount2 = SYS_umount2;
    s->maps.nsfun_ring.max_entries = static_cast<__u32>(ring);
    errno = 0;
    int err = sk::nsfun_ns_monitor_skel__load(s);
    if (err < 0) {
      return errno_error(-err, "load BPF programs");
    }
    err = sk::nsfun_ns_monitor_skel__attach(s);
    if (err < 0) {
      return errno_error(errno != 0 ? errno : -err, "attach BPF programs");
    }
    NSFUN_TRYV(ring_.map(s->maps.nsfun_ring.map_fd, ring));
    return learn_existing(proc.get());
  }

  // The checks after the latest hint about a namespace (or about all). A hint that comes while
  // checks are under way starts the schedule again from it, keeping a check already due
  // sooner: a namespace whose processes keep exiting is checked about once a millisecond, not
  // once per exit.
  struct Watch {
    std::uint64_t since = 0;  // the latest hint's time
    std::uint64_t due = 0;    // the next check
    std::size_t step = 0;     // the next check after `due`: recheck_after[step] after `since`
    bool active = false;
    NsType type = NsType::user;
    std::uint64_t id = 0;
    unsigned types = 0;  // the watch of all: the types to check (bit i: NsType i)

    void hinted(std::uint64_t now, unsigned more_types = 0) noexcept {
      std::uint64_t due_now = active ? std::min(due, now + recheck_after[1]) : now;
      unsigned t = (active ? types : 0U) | more_types;
      *this = Watch{now, due_now, 1, true, type, id, t};
    }

    // After a check at `now`: the next one, or inactive when the schedule is over.
    void checked(std::uint64_t now) noexcept {
      while (step < recheck_after.size() && since + recheck_after[step] <= now) {
        ++step;
      }
      if (step == recheck_after.size()) {
        active = false;
        return;
      }
      due = since + recheck_after[step];
    }
  };

  [[nodiscard]] static std::uint64_t key(NsType t, std::uint64_t id) noexcept {
    return id * 8U + static_cast<std::uint64_t>(t);
  }

  [[nodiscard]] Namespace ns_of(unsigned type, unsigned inum, std::uint64_t id) const noexcept {
    return {static_cast<NsType>(type), dev_, inum, id};
  }

  // The monitor's own namespaces: alive while it runs, never rechecked or hinted.
  void own_ns(int proc_fd) {
    for (NsType t : all_ns_types) {
      Namespace ns = read_ns_with_id(proc_fd, dev_, ::getpid(), link_of(t));
      own_ino_[static_cast<std::size_t>(t)] = ns.ino();
      if (ns.id() != 0) {
        own_.insert(key(t, ns.id()));
      }
    }
  }

  // Every namespace some process is in now (for_children links included): known, born 0.
  [[nodiscard]] result<void> learn_existing(int proc_fd) {
    ProcScanOptions so;
    so.types = options_.types;
    so.for_children = true;
    NSFUN_TRY(ProcScan scan, scan_procs_at(proc_fd, dev_, so));
    std::unordered_set<std::uint64_t> seen;
    for (const ProcEntry& p : scan.procs) {
      for (NsLink l : all_ns_links) {
        std::uint64_t ino = p.ino[static_cast<std::size_t>(l)];
        if (ino == 0 || !options_.types.contains(type_of(l)) ||
            !seen.insert(key(type_of(l), ino)).second) {
          continue;
        }
        Namespace ns = read_ns_with_id(proc_fd, dev_, p.pid, l);
        if (!ns.empty() && ns.ino() == ino) {
          live_.add(ns, 0);
        }
      }
    }
    learn_mounted();
    safety_next_ = monotonic_ns() + safety_period;
    return success();
  }

  // The namespaces bound to a path in our mount namespace (`ip netns add`'s /run/netns/NAME),
  // which a namespace may have with no process in it: known, born 0.
  void learn_mounted() {
    int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return;
    }
    UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
    std::string text;
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;
      }
      text.append(buf, static_cast<std::size_t>(n));
    }
    std::string_view rest(text);
    while (!rest.empty()) {
      std::string_view line = rest.substr(0, rest.find('\n'));
      rest.remove_prefix(std::min(rest.size(), line.size() + 1));
      // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER"
      auto dash = line.find(" - ");
      if (dash == std::string_view::npos || line.substr(dash + 3).rfind("nsfs ", 0) != 0) {
        continue;
      }
      std::string_view f = line;
      for (int i = 0; i < 4 && !f.empty(); ++i) {
        f.remove_prefix(std::min(f.size(), f.find(' ') + 1));
      }
      learn_path(unescape_mount_path(f.substr(0, f.find(' '))));
    }
  }

  void learn_path(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      return;
    }
    UniqueFd ns_fd = UniqueFd::adopt(fd);  // owns: just opened

    struct stat st {};

    int flag = ::ioctl(fd, sys::ns_get_nstype);
    std::uint64_t id = ns_id_of(fd);
    std::optional<NsType> type = ns_type_from_clone_flag(flag);
    if (::fstat(fd, &st) != 0 || !type || id == 0 || !options_.types.contains(*type)) {
      return;
    }
    live_.add(Namespace(*type, st.st_dev, st.st_ino, id), 0);
  }

  void handle(const void* rec, std::size_t size, std::deque<NsEvent>& out, std::uint64_t now) {
    if (size < sizeof(nsfun_mon_head)) {
      return;
    }
    nsfun_mon_head h{};
    std::memcpy(&h, rec, sizeof(h));
    if ((h.kind == rec_new || h.kind == rec_freed) && size >= sizeof(nsfun_mon_ns)) {
      nsfun_mon_ns r{};
      std::memcpy(&r, rec, sizeof(r));
      if (r.type < ns_type_count) {
        h.kind == rec_new ? on_new(r, out) : on_freed(r, out);
      }
    } else if (h.kind == rec_proc && size >= sizeof(nsfun_mon_proc)) {
      nsfun_mon_proc r{};
      std::memcpy(&r, rec, sizeof(r));
      on_proc(r, out);
    } else if (h.kind == rec_hint && size >= sizeof(nsfun_mon_hint)) {
      nsfun_mon_hint r{};
      std::memcpy(&r, rec, sizeof(r));
      on_hint(r, now);
    }
  }

  void on_new(const nsfun_mon_ns& r, std::deque<NsEvent>& out) {
    Namespace ns = ns_of(r.type, r.inum, r.id);
    LiveSet::Entry* e = live_.find(ns);
    if (e != nullptr && e->born == 0) {
      e->born = r.head.time;  // made after the programs started, found by the first scan too
    } else if (!live_.add(ns, r.head.time)) {
      return;
    }
    NsEvent ev = make_event(NsEventKind::appeared, ns, r.head.time);
    ev.pid = static_cast<pid_t>(r.head.pid);
    ev.tid = static_cast<pid_t>(r.head.tid);
    ev.comm = comm_of(r.head);
    ev.owner = r.owner;
    out.push_back(std::move(ev));
  }

  void on_freed(const nsfun_mon_ns& r, std::deque<NsEvent>& out) {
    Namespace ns = ns_of(r.type, r.inum, r.id);
    if (auto e = live_.remove(ns)) {
      out.push_back(LiveSet::gone_event(*e, r.head.time));
      suspects_.erase(key(ns.type(), ns.id()));
    }
  }

  void on_proc(const nsfun_mon_proc& r, std::deque<NsEvent>& out) {
    auto emit = [&](NsEventKind k, NsType t, unsigned inum, std::uint64_t id) {
      NsEvent ev = make_event(k, Namespace(t, dev_, inum, id), r.head.time);
      ev.pid = static_cast<pid_t>(r.head.pid);
      ev.tid = static_cast<pid_t>(r.head.tid);
      ev.comm = comm_of(r.head);
      out.push_back(std::move(ev));
    };
    for (NsType t : options_.types) {
      auto i = static_cast<std::size_t>(t);
      if (r.before[i] == r.after[i] && r.before_id[i] == r.after_id[i]) {
        continue;
      }
      if (r.before[i] != 0) {
        emit(NsEventKind::leave, t, r.before[i], r.before_id[i]);
      }
      if (r.after[i] != 0) {
        emit(NsEventKind::join, t, r.after[i], r.after_id[i]);
      }
    }
  }

  void on_hint(const nsfun_mon_hint& r, std::uint64_t now) {
    if (r.all != 0) {
      // Cleared before the checks: a hint sent from now on gets a record of its own.
      __atomic_store_n(&skel_->bss->nsfun_all_pending, std::uint64_t{0}, __ATOMIC_RELEASE);
      all_.hinted(now, r.all);
      return;
    }
    for (NsType t : all_ns_types) {
      std::uint64_t id = r.id[static_cast<std::size_t>(t)];
      if (id == 0 || own_.count(key(t, id)) != 0 ||
          live_.find(Namespace(t, dev_, 1, id)) == nullptr) {
        continue;
      }
      auto [it, fresh] = suspects_.try_emplace(key(t, id));
      if (fresh) {
        it->second.type = t;
        it->second.id = id;
      }
      it->second.hinted(now);
    }
  }

  // Whether `e` is gone (then its GONE is in `out`).
  bool check(const LiveSet::Entry& e, std::deque<NsEvent>& out, std::uint64_t now) {
    if (e.ns.id() == 0 || own_.count(key(e.ns.type(), e.ns.id())) != 0) {
      return false;
    }
    ++rechecks_;
    if (ns_liveness(e.ns) != Liveness::gone) {
      return false;
    }
    out.push_back(LiveSet::gone_event(e, now));
    return true;
  }

  // Checks every namespace known of `types` (bit i: NsType i).
  void recheck_all(std::deque<NsEvent>& out, std::uint64_t now, unsigned types) {
    live_.erase_if([&](LiveSet::Entry& e) {
      if ((types & (1U << static_cast<unsigned>(e.ns.type()))) == 0 || !check(e, out, now)) {
        return false;
      }
      suspects_.erase(key(e.ns.type(), e.ns.id()));
      return true;
    });
  }

  void recheck_due(std::deque<NsEvent>& out, std::uint64_t now) {
    bool all_due = all_.active && now >= all_.due;
    bool safety_due = now >= safety_next_;
    if (all_due || safety_due) {
      recheck_all(out, now, safety_due ? 0xffU : all_.types);
      if (all_due) {
        all_.checked(now);
      }
      if (safety_due) {
        safety_next_ = now + safety_period;
      }
    }
    for (auto it = suspects_.begin(); it != suspects_.end();) {
      Watch& w = it->second;
      if (now < w.due) {
        ++it;
        continue;
      }
      Namespace probe(w.type, dev_, 1, w.id);
      LiveSet::Entry* e = live_.find(probe);
      bool done = e == nullptr;
      if (!done && check(*e, out, now)) {
        live_.remove(probe);
        done = true;
      }
      if (!done) {
        w.checked(now);
        done = !w.active;
      }
      it = done ? suspects_.erase(it) : std::next(it);
    }
  }

  MonitorOptions options_;
  std::uint64_t dev_;
  std::unique_ptr<Skel, SkelClose> skel_;
  Ring ring_;
  LiveSet live_;
  std::array<std::uint64_t, ns_type_count> own_ino_{};
  std::unordered_set<std::uint64_t> own_;
  std::unordered_map<std::uint64_t, Watch> suspects_;
  Watch all_;
  std::uint64_t safety_next_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t rechecks_ = 0;
};

}  // namespace nsfun::detail::monitor_bpf

#endif

namespace nsfun {

NSFUN_INLINE result<std::unique_ptr<detail::MonitorSource>> detail::open_bpf_source(
    const MonitorOptions& options) noexcept {
#if defined(NSFUN_HAVE_BPF) && NSFUN_HAVE_BPF
  NSFUN_TRY(UniqueFd proc, open_proc());
  NSFUN_TRY(std::uint64_t dev, nsfs_dev(proc.get()));
  try {
    auto src = std::make_unique<monitor_bpf::BpfSource>(options, dev);
    NSFUN_TRYV(src->start());
    return std::unique_ptr<MonitorSource>(std::move(src));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "start the bpf monitor");
  }
#else
  (void)options;
  return errno_error(EOPNOTSUPP, "load BPF programs")
      .because(
          "this build of nsfun has none (it was built without clang, bpftool or libbpf's "
          "headers)");
#endif
}

}  // namespace nsfun
