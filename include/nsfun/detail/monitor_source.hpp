// SPDX-License-Identifier: MIT
// nsfun – private: what NsMonitor's backends share. Each backend is a MonitorSource (a pollable
// fd, a deadline, and pump() that turns what is ready into events); LiveSet is the namespaces a
// backend knows to be alive, and ns_liveness() asks the kernel whether one still is.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <time.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/monitor.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun::detail {

// CLOCK_MONOTONIC now, in nanoseconds (the clock bpf_ktime_get_ns() reads).
[[nodiscard]] inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// The wall-clock time of a CLOCK_MONOTONIC instant (by the clocks' offset now).
[[nodiscard]] inline std::chrono::system_clock::time_point wall_time(std::uint64_t mono) noexcept {
  auto now = std::chrono::system_clock::now();
  auto ago = static_cast<std::int64_t>(monotonic_ns()) - static_cast<std::int64_t>(mono);
  return now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                   std::chrono::nanoseconds(ago));
}

// An event of `kind` on `ns` at CLOCK_MONOTONIC instant `mono` (time and monotonic_ns set).
[[nodiscard]] inline NsEvent make_event(NsEventKind kind, const Namespace& ns, std::uint64_t mono) {
  NsEvent e;
  e.kind = kind;
  e.ns = ns;
  e.monotonic_ns = mono;
  e.time = wall_time(mono);
  return e;
}

// One backend. NsMonitor waits on fd() (and a timer for deadline()), then calls pump().
class MonitorSource {
 public:
  MonitorSource() = default;
  MonitorSource(const MonitorSource&) = delete;
  MonitorSource& operator=(const MonitorSource&) = delete;
  MonitorSource(MonitorSource&&) = delete;
  MonitorSource& operator=(MonitorSource&&) = delete;
  virtual ~MonitorSource() = default;

  // A descriptor that polls readable when pump() has input; -1 when the backend has none.
  [[nodiscard]] virtual int fd() const noexcept = 0;

  // Appends the events of what is ready, and of the work due by `now` (CLOCK_MONOTONIC ns), to
  // `out`. Must not block.
  [[nodiscard]] virtual result<void> pump(std::deque<NsEvent>& out, std::uint64_t now) noexcept = 0;

  // When (CLOCK_MONOTONIC ns) pump() must run again though fd() stays quiet; 0 for never.
  [[nodiscard]] virtual std::uint64_t deadline() const noexcept = 0;

  // Adds the backend's counters (lost, rescans, rechecks) to `s`.
  virtual void add_stats(MonitorStats& s) const noexcept = 0;
};

// Whether a namespace is still alive, as the kernel answers for its id (an nsfs file handle,
// Linux 6.18+: open_by_handle_at succeeds while the namespace is alive and fails with ESTALE once
// it is gone). `unknown` when the namespace has no id, or the kernel or the caller's privilege
// cannot answer (EPERM, EOPNOTSUPP, EINVAL).
enum class Liveness : std::uint8_t { alive, gone, unknown };

[[nodiscard]] NSFUN_INLINE Liveness ns_liveness(const Namespace& ns) noexcept;

// The 64-bit id (NS_GET_ID) of the namespace an nsfs fd refers to; 0 where the kernel has none.
[[nodiscard]] NSFUN_INLINE std::uint64_t ns_id_of(int nsfs_fd) noexcept;

// The namespace behind /proc/PID/ns/LINK with its id: one name_to_handle_at (an nsfs file
// handle carries type, inode and id; Linux 6.18+), else opened, NS_GET_ID, closed. Empty when
// the process or link is gone. `proc_fd`: a /proc dirfd; `nsfs_dev`: nsfs's device.
[[nodiscard]] NSFUN_INLINE Namespace read_ns_with_id(int proc_fd,
                                                     std::uint64_t nsfs_dev,
                                                     pid_t pid,
                                                     NsLink link) noexcept;

// The inode of the user namespace that owns what /proc/PID/ns/LINK shows (for a user namespace,
// its parent); 0 when it cannot be told.
[[nodiscard]] NSFUN_INLINE std::uint64_t owner_of(int proc_fd, pid_t pid, NsLink link) noexcept;

// A namespace as a hash key: its type and id, or its type and inode (top bit set) where the
// kernel has no ids.
struct NsKey {
  NsType type;
  std::uint64_t id;
  bool operator==(const NsKey&) const = default;
};

struct NsKeyHash {
  std::size_t operator()(const NsKey& k) const noexcept {
    return std::hash<std::uint64_t>{}(k.id * 8U + static_cast<std::uint64_t>(k.type));
  }
};

[[nodiscard]] inline NsKey key_of(const Namespace& ns) noexcept {
  return {ns.type(), ns.id() != 0 ? ns.id() : (ns.ino() | (std::uint64_t{1} << 63))};
}

// The namespaces a backend knows to be alive, keyed by type and id (by type and inode where the
// kernel has no ids), with when each was born (CLOCK_MONOTONIC ns; 0 when it was there before
// the monitor started).
class LiveSet {
 public:
  struct Entry {
    Namespace ns;
    std::uint64_t born = 0;
    bool in_procs = true;  // some process was seen in it at the last look
  };

  // Adds `ns`; false (and nothing changed) when it is known already.
  bool add(const Namespace& ns, std::uint64_t born) {
    return map_.try_emplace(key_of(ns), Entry{ns, born, true}).second;
  }

  [[nodiscard]] Entry* find(const Namespace& ns) noexcept {
    auto it = map_.find(key_of(ns));
    return it == map_.end() ? nullptr : &it->second;
  }

  // Removes `ns` and returns its entry, or nothing when it was not known.
  std::optional<Entry> remove(const Namespace& ns) {
    auto it = map_.find(key_of(ns));
    if (it == map_.end()) {
      return std::nullopt;
    }
    Entry e = it->second;
    map_.erase(it);
    return e;
  }

  [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }

  // For each entry, fn(Entry&) -> bool: true removes it.
  template <class Fn>
  void erase_if(Fn&& fn) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (fn(it->second)) {
        it = map_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The GONE event of `e` at `mono` (lived set when its birth was seen).
  [[nodiscard]] static NsEvent gone_event(const Entry& e, std::uint64_t mono) {
    NsEvent ev = make_event(NsEventKind::gone, e.ns, mono);
    if (e.born != 0 && mono >= e.born) {
      ev.lived = std::chrono::nanoseconds(mono - e.born);
    }
    return ev;
  }

 private:
  std::unordered_map<NsKey, Entry, NsKeyHash> map_;
};

// The ids of namespaces reported GONE that a process still shows (a zombie's links; the kernel
// no longer opens them): never NEW again; forgotten once no process shows them.
using Buried = std::unordered_set<NsKey, NsKeyHash>;

// The backends. Each returns its source, or the reason it cannot run here (an error naming the
// step, e.g. "load BPF programs: Operation not permitted").
[[nodiscard]] NSFUN_INLINE result<std::unique_ptr<MonitorSource>> open_bpf_source(
    const MonitorOptions& options) noexcept;
[[nodiscard]] NSFUN_INLINE result<std::unique_ptr<MonitorSource>> open_connector_source(
    const MonitorOptions& options) noexcept;
[[nodiscard]] NSFUN_INLINE result<std::unique_ptr<MonitorSource>> open_poll_source(
    const MonitorOptions& options) noexcept;

}  // namespace nsfun::detail

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/monitor.ipp>
#endif
