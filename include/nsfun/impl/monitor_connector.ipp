// SPDX-License-Identifier: MIT
// nsfun – NsMonitor's connector backend (included by <nsfun/impl/monitor.ipp>).
//
// The proc connector (NETLINK_CONNECTOR, CN_IDX_PROC) tells of every fork, exec and exit as it
// happens. At a fork or exec the backend reads that task's /proc/PID/ns links at once (one
// name_to_handle_at each: type, inode and id in one call), so a namespace made by clone, or by
// unshare and exec, is NEW while its process still runs. An exit is a hint: the namespaces the
// process was last seen in and that no other known process shows are asked, by id, whether they
// are gone (at once and with a short backoff, because the kernel frees a namespace after the
// exit event: exit_task_namespaces, RCU, work queues, the parent's wait). A periodic rescan with
// the scanner catches unshare and setns without exec, and GONE where the kernel has no ids.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <new>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nsfun/detail/monitor_source.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/scan_internal.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/monitor.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

namespace detail::connector {

// What the kernel's proc connector takes (linux/cn_proc.h). The two-word form (Linux 6.6+) also
// names the events wanted; older kernels take the operation alone.
struct ProcInput {
  std::uint32_t mcast_op;
  std::uint32_t event_type;
};

inline constexpr std::size_t nl_header = 16;  // NLMSG_HDRLEN
inline constexpr std::size_t cn_header = sizeof(cn_msg);
inline constexpr std::uint32_t wanted_events =
    static_cast<std::uint32_t>(proc_event::PROC_EVENT_FORK) |
    static_cast<std::uint32_t>(proc_event::PROC_EVENT_EXEC) |
    static_cast<std::uint32_t>(proc_event::PROC_EVENT_EXIT);

// The backoff of the liveness checks after an exit, in ns after the exit event. After the last
// one the rescan takes over.
inline constexpr std::array<std::uint64_t, 7> recheck_after{
    0, 1'000'000, 5'000'000, 20'000'000, 100'000'000, 400'000'000, 1'500'000'000};

// Sends one proc connector control message: `op` alone, or with the event filter.
[[nodiscard]] inline bool send_control(int sock, std::uint32_t seq, std::uint32_t op, bool filter) {
  alignas(nlmsghdr) unsigned char buf[nl_header + cn_header + sizeof(ProcInput)] = {};
  std::size_t payload = filter ? sizeof(ProcInput) : sizeof(std::uint32_t);
  nlmsghdr nh{};
  nh.nlmsg_len = static_cast<std::uint32_t>(nl_header + cn_header + payload);
  nh.nlmsg_type = NLMSG_DONE;
  nh.nlmsg_pid = 0;
  cn_msg cn{};
  cn.id.idx = CN_IDX_PROC;
  cn.id.val = CN_VAL_PROC;
  cn.seq = seq;
  cn.ack = seq;  // the answer's ack is this plus one
  cn.len = static_cast<std::uint16_t>(payload);
  ProcInput in{op, wanted_events};
  std::memcpy(buf, &nh, sizeof(nh));
  std::memcpy(buf + nl_header, &cn, sizeof(cn));
  std::memcpy(buf + nl_header + cn_header, &in, payload);
  return ::send(sock, buf, nh.nlmsg_len, MSG_NOSIGNAL) == static_cast<ssize_t>(nh.nlmsg_len);
}

// Calls fn(const proc_event&) for each proc connector event in one datagram.
template <class Fn>
void for_each_event(const unsigned char* buf, std::size_t len, Fn&& fn) {
  std::size_t off = 0;
  while (len - off >= nl_header) {
    nlmsghdr nh{};
    std::memcpy(&nh, buf + off, sizeof(nh));
    if (nh.nlmsg_len < nl_header || nh.nlmsg_len > len - off) {
      return;
    }
    if (nh.nlmsg_type != NLMSG_NOOP && nh.nlmsg_type != NLMSG_ERROR &&
        nh.nlmsg_len >= nl_header + cn_header) {
      cn_msg cn{};
      std::memcpy(&cn, buf + off + nl_header, sizeof(cn));
      std::size_t have = nh.nlmsg_len - nl_header - cn_header;
      if (cn.id.idx == CN_IDX_PROC && cn.id.val == CN_VAL_PROC && have >= 16) {
        proc_event ev{};
        std::memcpy(&ev, buf + off + nl_header + cn_header,
                    std::min<std::size_t>({have, cn.len, sizeof(ev)}));
        fn(cn, ev);
      }
    }
    off += (nh.nlmsg_len + 3U) & ~std::size_t{3};
  }
}

// Asks for events and waits for the kernel's answer (its ack field is ours plus one). The
// connector answers a request from the initial user and pid namespaces, with the request's errno,
// and ignores others. Then names the events wanted (Linux 6.6+; older kernels ignore the longer
// message), so that uid, gid, sid, comm, ptrace and coredump events never wake the monitor; the
// kernel does not answer that one.
[[nodiscard]] inline result<void> listen(int sock) noexcept {
  auto token = static_cast<std::uint32_t>(::getpid()) ^ 0x5eed0000U;
  if (!send_control(sock, token, PROC_CN_MCAST_LISTEN, false)) {
    return sys::last_error("send PROC_CN_MCAST_LISTEN");
  }
  std::uint64_t until = monotonic_ns() + 500'000'000U;
  int answer = -1;
  for (std::uint64_t now = monotonic_ns(); answer < 0 && now < until; now = monotonic_ns()) {
    pollfd pfd{sock, POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>((until - now) / 1'000'000U + 1));
    if (n < 0 && errno != EINTR) {
      return sys::last_error("poll NETLINK_CONNECTOR");
    }
    if (n <= 0) {
      continue;
    }
    alignas(nlmsghdr) unsigned char buf[4096];
    ssize_t got = ::recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) {
        continue;
      }
      return sys::last_error("recv NETLINK_CONNECTOR");
    }
    for_each_event(buf, static_cast<std::size_t>(got), [&](const cn_msg& cn, const proc_event& ev) {
      if (ev.what == proc_event::PROC_EVENT_NONE && cn.ack == token + 1) {
        answer = static_cast<int>(ev.event_data.ack.err);
      }
    });
  }
  if (answer < 0) {
    return errno_error(ETIMEDOUT, "PROC_CN_MCAST_LISTEN")
        .because(
            "the proc connector did not answer; it serves the initial user and pid namespaces "
            "only");
  }
  if (answer > 0) {
    return errno_error(answer, "PROC_CN_MCAST_LISTEN");
  }
  if (!send_control(sock, token + 2, PROC_CN_MCAST_LISTEN, true)) {
    return sys::last_error("send PROC_CN_MCAST_LISTEN");
  }
  return success();
}

class ConnectorSource final : public MonitorSource {
 public:
  ConnectorSource(const MonitorOptions& options,
                  UniqueFd proc,
                  std::uint64_t nsfs_dev,
                  UniqueFd sock) noexcept
      : options_(options),
        proc_(std::move(proc)),
        nsfs_dev_(nsfs_dev),
        sock_(std::move(sock)),
        rescanner_(proc_.get(), nsfs_dev) {}

  ConnectorSource(const ConnectorSource&) = delete;
  ConnectorSource& operator=(const ConnectorSource&) = delete;
  ConnectorSource(ConnectorSource&&) = delete;
  ConnectorSource& operator=(ConnectorSource&&) = delete;

  ~ConnectorSource() override { (void)send_control(sock_.get(), 0, PROC_CN_MCAST_IGNORE, false); }

  [[nodiscard]] int fd() const noexcept override { return sock_.get(); }

  [[nodiscard]] std::uint64_t deadline() const noexcept override {
    std::uint64_t d = next_rescan_;
    for (const Recheck& r : rechecks_) {
      d = std::min(d, r.due);
    }
    return d;
  }

  void add_stats(MonitorStats& s) const noexcept override {
    s.lost += lost_;
    s.rescans += rescans_;
    s.rechecks += rechecks_done_;
  }

  [[nodiscard]] result<void> pump(std::deque<NsEvent>& out, std::uint64_t now) noexcept override {
    try {
      bool overrun = false;
      NSFUN_TRYV(read_events(out, overrun));
      now = std::max(now, monotonic_ns());
      if (overrun || now >= next_rescan_) {
        auto period = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(options_.interval).count());
        next_rescan_ = now + std::max<std::uint64_t>(period, 1'000'000);
        NSFUN_TRYV(rescan(out, now));
      }
      run_rechecks(out, monotonic_ns());
      return success();
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "connector monitor");
    }
  }

  // The first rescan: what exists now is known, not NEW.
  [[nodiscard]] result<void> prime() noexcept {
    try {
      std::deque<NsEvent> ignored;
      std::uint64_t now = monotonic_ns();
      NSFUN_TRYV(rescan(ignored, now));
      auto period = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(options_.interval).count());
      next_rescan_ = now + std::max<std::uint64_t>(period, 1'000'000);
      primed_ = true;
      return success();
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "start the connector monitor");
    }
  }

 private:
  using Links = std::array<Namespace, ns_link_count>;

  struct Member {
    Links links;
    std::string comm;
  };

  struct Recheck {
    Namespace ns;
    std::uint64_t exited;
    std::uint64_t due;
    std::size_t step;
  };

  [[nodiscard]] bool wanted(NsLink l) const noexcept { return options_.types.contains(type_of(l)); }

  [[nodiscard]] static bool is_type_link(NsLink l) noexcept {
    return l != NsLink::pid_for_children && l != NsLink::time_for_children;
  }

  // Reads every datagram there is (up to 4,096; the rest waits for the next pump: the fd stays
  // readable), then handles the events in order. `overrun`: the socket dropped some (ENOBUFS).
  [[nodiscard]] result<void> read_events(std::deque<NsEvent>& out, bool& overrun) {
    batch_.clear();
    forked_.clear();
    alignas(nlmsghdr) unsigned char buf[8192];
    for (int i = 0; i < 4096; ++i) {
      ssize_t got = ::recv(sock_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EAGAIN) {
          break;
        }
        if (errno == EINTR) {
          continue;
        }
        if (errno == ENOBUFS) {
          ++lost_;
          NsEvent e = make_event(NsEventKind::lost, Namespace{}, monotonic_ns());
          e.lost = 1;
          out.push_back(std::move(e));
          overrun = true;
          continue;
        }
        return sys::last_error("recv NETLINK_CONNECTOR");
      }
      for_each_event(buf, static_cast<std::size_t>(got),
                     [&](const cn_msg& /*cn*/, const proc_event& ev) { batch_.push_back(ev); });
    }
    coalesce();
    for (const proc_event& ev : batch_) {
      on_event(ev, out);
    }
    return success();
  }

  // A monitor that falls behind (a machine saturated by the processes it watches) finds a new
  // process's fork and its exec in one batch: it then reads the process's links once, at the
  // exec, attributing what is new to the parent as the fork's read would have, instead of twice.
  // That halves the reads exactly when reading is late; a monitor that keeps up sees the events
  // one by one and reads at each, as before. Marks each such fork PROC_EVENT_NONE and moves its
  // parent into the exec's event (the exec's own parent fields are unused).
  void coalesce() {
    if (batch_.size() < 2) {
      return;
    }
    exec_at_.clear();
    for (std::size_t i = batch_.size(); i-- > 0;) {
      proc_event& ev = batch_[i];
      if (ev.what == proc_event::PROC_EVENT_EXEC) {
        exec_at_[ev.event_data.exec.process_pid] = i;  // the nearest exec after those before
        continue;
      }
      if (ev.what != proc_event::PROC_EVENT_FORK) {
        continue;
      }
      const auto& f = ev.event_data.fork;
      auto it = f.child_pid == f.child_tgid ? exec_at_.find(f.child_pid) : exec_at_.end();
      if (it == exec_at_.end()) {
        continue;
      }
      Forked& into = forked_[it->second];
      into.parent_tgid = f.parent_tgid;
      into.parent_pid = f.parent_pid;
      ev.what = proc_event::PROC_EVENT_NONE;
      exec_at_.erase(it);
    }
  }

  void on_event(const proc_event& ev, std::deque<NsEvent>& out) {
    switch (ev.what) {
      case proc_event::PROC_EVENT_FORK: {
        const auto& f = ev.event_data.fork;
        look_at(f.child_pid, f.child_tgid, f.parent_tgid, f.parent_pid, ev.timestamp_ns, out);
        break;
      }
      case proc_event::PROC_EVENT_EXEC: {
        const auto& x = ev.event_data.exec;
        pid_t creator = x.process_tgid;
        pid_t creator_tid = x.process_pid;
        if (!forked_.empty()) {
          auto it = forked_.find(static_cast<std::size_t>(&ev - batch_.data()));
          if (it != forked_.end()) {
            creator = it->second.parent_tgid;
            creator_tid = it->second.parent_pid;
          }
        }
        look_at(x.process_pid, x.process_tgid, creator, creator_tid, ev.timestamp_ns, out);
        break;
      }
      case proc_event::PROC_EVENT_EXIT: {
        const auto& x = ev.event_data.exit;
        if (x.process_pid == x.process_tgid) {
          exited(x.process_pid, ev.timestamp_ns, out);
        }
        break;
      }
      default:
        break;
    }
  }

  [[nodiscard]] Namespace read_link(pid_t pid, NsLink l) const noexcept {
    return read_ns_with_id(proc_.get(), nsfs_dev_, pid, l);
  }

  [[nodiscard]] std::uint64_t owner_of(pid_t pid, NsLink l) const noexcept {
    return detail::owner_of(proc_.get(), pid, l);
  }

  void emit_member(NsEventKind k,
                   const Namespace& ns,
                   pid_t pid,
                   const std::string& comm,
                   std::uint64_t mono,
                   std::deque<NsEvent>& out) const {
    NsEvent e = make_event(k, ns, mono);
    e.pid = pid;
    e.tid = pid;
    e.comm = comm;
    out.push_back(std::move(e));
  }

  // JOIN and LEAVE between what a process showed before (`old`, nullptr for a new process) and
  // now.
  void member_events(const Links* old,
                     const Member& now_in,
                     pid_t pid,
                     std::uint64_t mono,
                     std::deque<NsEvent>& out) const {
    for (NsLink l : all_ns_links) {
      if (!is_type_link(l) || !wanted(l)) {
        continue;
      }
      auto i = static_cast<std::size_t>(l);
      Namespace before = old == nullptr ? Namespace{} : (*old)[i];
      const Namespace& after = now_in.links[i];
      if (before.ino() == after.ino() &&
          (before.id() == after.id() || before.id() == 0 || after.id() == 0)) {
        continue;
      }
      if (!before.empty()) {
        emit_member(NsEventKind::leave, before, pid, now_in.comm, mono, out);
      }
      if (!after.empty()) {
        emit_member(NsEventKind::join, after, pid, now_in.comm, mono, out);
      }
    }
  }

  void ref(const Links& links) {
    for (const Namespace& ns : links) {
      if (!ns.empty()) {
        ++users_[key_of(ns)];
      }
    }
  }

  // Drops a process's references; `fn(ns)` for each namespace no known process shows any more.
  template <class Fn>
  void unref(const Links& links, Fn&& fn) {
    for (const Namespace& ns : links) {
      if (ns.empty()) {
        continue;
      }
      auto it = users_.find(key_of(ns));
      if (it == users_.end()) {
        continue;
      }
      if (--it->second == 0) {
        users_.erase(it);
        fn(ns);
      }
    }
  }

  // A fork (of `pid`, by `creator`) or an exec (of `pid`): its links, now.
  void look_at(pid_t pid,
               pid_t tgid,
               pid_t creator,
               pid_t creator_tid,
               std::uint64_t mono,
               std::deque<NsEvent>& out) {
    Member m;
    bool any = false;
    for (NsLink l : all_ns_links) {
      if (wanted(l)) {
        Namespace ns = read_link(pid, l);
        any = any || !ns.empty();
        m.links[static_cast<std::size_t>(l)] = ns;
      }
    }
    if (!any) {
      return;  // gone already, or not ours to read
    }
    std::string creator_comm;
    for (NsLink l : all_ns_links) {
      const Namespace& ns = m.links[static_cast<std::size_t>(l)];
      if (ns.empty() || buried(ns) || !live_.add(ns, mono)) {
        continue;
      }
      if (creator_comm.empty()) {
        creator_comm = monitor::read_comm(proc_.get(), creator);
        if (creator_comm.empty()) {
          creator_comm = monitor::read_comm(proc_.get(), pid);  // a fork child has its parent's
        }
      }
      NsEvent e = make_event(NsEventKind::appeared, ns, mono);
      e.pid = creator;
      e.tid = creator_tid;
      e.comm = creator_comm;
      e.owner = owner_of(pid, l);
      out.push_back(std::move(e));
    }
    if (pid != tgid) {
      return;  // a thread: its process is the member
    }
    if (options_.processes) {
      m.comm = monitor::read_comm(proc_.get(), pid);
    }
    auto it = members_.find(pid);
    if (options_.processes) {
      member_events(it == members_.end() ? nullptr : &it->second.links, m, pid, mono, out);
    }
    ref(m.links);
    if (it != members_.end()) {
      unref(it->second.links, [&](const Namespace& ns) { schedule(ns, mono); });
      it->second = std::move(m);
    } else {
      members_.emplace(pid, std::move(m));
    }
  }

  void exited(pid_t pid, std::uint64_t mono, std::deque<NsEvent>& out) {
    auto it = members_.find(pid);
    if (it == members_.end()) {
      return;
    }
    if (options_.processes) {
      for (NsLink l : all_ns_links) {
        const Namespace& ns = it->second.links[static_cast<std::size_t>(l)];
        if (is_type_link(l) && wanted(l) && !ns.empty()) {
          emit_member(NsEventKind::leave, ns, pid, it->second.comm, mono, out);
        }
      }
    }
    unref(it->second.links, [&](const Namespace& ns) { schedule(ns, mono); });
    members_.erase(it);
  }

  // A namespace reported GONE by its id is never NEW again, though a process may still show it
  // for a while (a zombie's links; the kernel no longer opens it). Ids are never reused; the
  // rescan forgets those no process shows any more.
  void bury(const Namespace& ns) {
    if (ns.id() != 0) {
      buried_.insert(key_of(ns));
    }
  }

  [[nodiscard]] bool buried(const Namespace& ns) const noexcept {
    return ns.id() != 0 && !buried_.empty() && buried_.count(key_of(ns)) != 0;
  }

  void schedule(const Namespace& ns, std::uint64_t exited_at) {
    if (ns.id() != 0) {  // without an id only the rescan can tell
      rechecks_.push_back({ns, exited_at, exited_at + recheck_after[0], 0});
    }
  }

  void run_rechecks(std::deque<NsEvent>& out, std::uint64_t now) {
    std::vector<Recheck> keep;
    for (Recheck& r : rechecks_) {
      if (r.due > now) {
        keep.push_back(r);
        continue;
      }
      if (live_.find(r.ns) == nullptr || users_.count(key_of(r.ns)) != 0) {
        continue;  // reported gone already, or some process came into it
      }
      ++rechecks_done_;
      Liveness lv = ns_liveness(r.ns);
      if (lv == Liveness::gone) {
        if (auto e = live_.remove(r.ns)) {
          out.push_back(LiveSet::gone_event(*e, now));
          bury(e->ns);
        }
        continue;
      }
      if (lv == Liveness::alive && r.step + 1 < recheck_after.size()) {
        ++r.step;
        r.due = std::max(now, r.exited + recheck_after[r.step]);
        keep.push_back(r);
      }
    }
    rechecks_ = std::move(keep);
  }

  // Every process's links: NEW for a namespace not known, GONE for a known one the kernel says
  // is gone (or, without ids, that no process shows), and the members afresh.
  [[nodiscard]] result<void> rescan(std::deque<NsEvent>& out, std::uint64_t now) {
    ProcScanOptions so;
    so.types = options_.types;
    so.for_children = true;
    so.ppid = options_.processes;  // comm for JOIN/LEAVE
    NSFUN_TRY(ProcScan scan, rescanner_.scan(so));
    ++rescans_;

    std::unordered_map<std::uint64_t, Namespace> resolved =
        monitor::reconcile(scan, options_.types, proc_.get(), nsfs_dev_, live_, buried_, primed_,
                           now, out, rechecks_done_);

    // The members afresh (what was missed between events: unshare, setns, lost events).
    std::unordered_map<pid_t, Member> next;
    next.reserve(scan.procs.size());
    for (const ProcEntry& p : scan.procs) {
      if (p.tid != p.pid) {
        continue;
      }
      Member m;
      for (NsLink l : all_ns_links) {
        std::uint64_t ino = p.ino[static_cast<std::size_t>(l)];
        if (ino == 0 || !wanted(l)) {
          continue;
        }
        auto r = resolved.find(monitor::shown_key(type_of(l), ino));
        m.links[static_cast<std::size_t>(l)] =
            r != resolved.end() ? r->second : Namespace(type_of(l), nsfs_dev_, ino);
      }
      auto old = members_.find(p.pid);
      m.comm = p.comm;
      if (m.comm.empty() && old != members_.end()) {
        m.comm = old->second.comm;
      }
      if (options_.processes && primed_) {
        member_events(old == members_.end() ? nullptr : &old->second.links, m, p.pid, now, out);
      }
      next.emplace(p.pid, std::move(m));
    }
    if (options_.processes && primed_) {
      for (const auto& [pid, m] : members_) {
        if (next.count(pid) == 0) {
          for (NsLink l : all_ns_links) {
            const Namespace& ns = m.links[static_cast<std::size_t>(l)];
            if (is_type_link(l) && wanted(l) && !ns.empty()) {
              emit_member(NsEventKind::leave, ns, pid, m.comm, now, out);
            }
          }
        }
      }
    }
    members_ = std::move(next);
    users_.clear();
    for (const auto& [pid, m] : members_) {
      ref(m.links);
    }
    return success();
  }

  MonitorOptions options_;
  UniqueFd proc_;
  std::uint64_t nsfs_dev_;
  UniqueFd sock_;
  monitor::Rescanner rescanner_;
  LiveSet live_;
  std::unordered_map<pid_t, Member> members_;
  std::unordered_map<NsKey, std::uint32_t, NsKeyHash> users_;  // known processes in each
  std::vector<Recheck> rechecks_;
  Buried buried_;  // reported GONE, still shown by a process

  // The parent of a fork coalesced into its exec.
  struct Forked {
    pid_t parent_tgid = 0;
    pid_t parent_pid = 0;
  };

  std::vector<proc_event> batch_;                   // the events of one read_events
  std::unordered_map<pid_t, std::size_t> exec_at_;  // coalesce(): pid → its next exec
  std::unordered_map<std::size_t, Forked> forked_;  // batch index of an exec → its fork
  std::uint64_t next_rescan_ = 0;
  bool primed_ = false;
  std::uint64_t lost_ = 0;
  std::uint64_t rescans_ = 0;
  std::uint64_t rechecks_done_ = 0;
};

}  // namespace detail::connector

NSFUN_INLINE result<std::unique_ptr<detail::MonitorSource>> detail::open_connector_source(
    const MonitorOptions& options) noexcept {
  NSFUN_TRY(UniqueFd proc, open_proc());
  NSFUN_TRY(std::uint64_t dev, nsfs_dev(proc.get()));
  int s = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (s < 0) {
    return sys::last_error("socket NETLINK_CONNECTOR");
  }
  UniqueFd sock = UniqueFd::adopt(s);  // owns: just made
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    return sys::last_error("bind NETLINK_CONNECTOR");
  }
  // Room for bursts of forks: 4 MiB where permitted (CAP_NET_ADMIN), else what rmem_max allows.
  int room = 4 << 20;
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof(room)) < 0) {
    (void)::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
  }
  NSFUN_TRYV(connector::listen(sock.get()));
  try {
    auto src = std::make_unique<connector::ConnectorSource>(options, std::move(proc), dev,
                                                            std::move(sock));
    NSFUN_TRYV(src->prime());
    return std::unique_ptr<MonitorSource>(std::move(src));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "start the connector monitor");
  }
}

}  // namespace nsfun
