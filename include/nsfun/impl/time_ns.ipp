// SPDX-License-Identifier: MIT
// nsfun – time namespace offsets: the implementation (see <nsfun/config.hpp>).
//
// Written through /proc/PID/timens_offsets, read back likewise. The writer is also what spawn's
// child calls between clone and exec: it allocates nothing and makes only async-signal-safe
// calls (open, write, clock_gettime).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/come_back.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/time_ns.hpp>

namespace nsfun::detail::timens {

inline constexpr std::int64_t ns_per_s = 1'000'000'000;

// The kernel's KTIME_SEC_MAX (KTIME_MAX in seconds). An offset may not exceed it, and a clock
// in a time namespace may not exceed half of it (about 146 years).
inline constexpr std::int64_t ktime_sec_max = 9'223'372'036;

// An offset as the kernel takes it: whole seconds and 0 <= nsec < 1e9 (-1.5 s is -2 s and
// 500000000 ns).
struct SecNsec {
  std::int64_t sec;
  std::int64_t nsec;
};

inline SecNsec split_offset(std::chrono::nanoseconds off) noexcept {
  std::int64_t sec = off.count() / ns_per_s;
  std::int64_t nsec = off.count() % ns_per_s;
  if (nsec < 0) {
    nsec += ns_per_s;
    sec -= 1;
  }
  return {sec, nsec};
}

// "monotonic <sec> <nsec>\nboottime <sec> <nsec>\n": what /proc/PID/timens_offsets takes.
inline void put_kernel_text(sys::PathBuf& out, const TimeOffsets& offsets) noexcept {
  const SecNsec mono = split_offset(offsets.monotonic);
  const SecNsec boot = split_offset(offsets.boottime);
  out.add("monotonic ").add(long{mono.sec}).add(" ").add(long{mono.nsec}).add("\n");
  out.add("boottime ").add(long{boot.sec}).add(" ").add(long{boot.nsec}).add("\n");
}

// " monotonic 86400s" or "-1.5s": seconds, with the fraction (no trailing zeros) when there is
// one; the magnitude by parts, so that the most negative value does not overflow.
inline void put_shown_clock(sys::PathBuf& out,
                            std::string_view name,
                            std::chrono::nanoseconds off) noexcept {
  out.add(name);
  std::int64_t ns = off.count();
  if (ns < 0) {
    out.add("-");
  }
  std::int64_t sec = ns / ns_per_s;
  std::int64_t frac = ns % ns_per_s;
  out.add(long{sec < 0 ? -sec : sec});
  if (frac != 0) {
    frac = frac < 0 ? -frac : frac;
    int digits = 9;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    out.add(".");
    char tmp[16];
    auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), frac);
    (void)ec;
    for (auto n = end - tmp; n < digits; ++n) {
      out.add("0");
    }
    out.add(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
  }
  out.add("s");
}

// Why the kernel said ERANGE, worked out as proc_timens_set_offset() does (each clock in the
// order written: the offset within +-KTIME_SEC_MAX, then now + offset within
// [0, KTIME_SEC_MAX / 2]), with "now" as the caller's clocks show it: the reason for the first
// clock at fault, or empty when none is (the caller's clocks run shifted in a time namespace
// of its own).
inline std::string_view range_problem(const TimeOffsets& offsets) noexcept {
  struct Clock {
    clockid_t id;
    std::chrono::nanoseconds offset;
    std::string_view negative;
    std::string_view too_far;
  };

  const Clock clocks[] = {
      {CLOCK_MONOTONIC, offsets.monotonic, "the monotonic offset would make the clock negative",
       "the monotonic offset would put the clock beyond the kernel's limit (about 146 years)"},
      {CLOCK_BOOTTIME, offsets.boottime, "the boottime offset would make the clock negative",
       "the boottime offset would put the clock beyond the kernel's limit (about 146 years)"},
  };
  for (const Clock& c : clocks) {
    timespec now{};
    if (::clock_gettime(c.id, &now) < 0) {
      return {};
    }
    const auto [sec, nsec] = split_offset(c.offset);
    if (sec > ktime_sec_max || sec < -ktime_sec_max) {
      return c.too_far;
    }
    std::int64_t total_sec = now.tv_sec + sec + (now.tv_nsec + nsec) / ns_per_s;
    if (total_sec < 0) {
      return c.negative;
    }
    if (total_sec > ktime_sec_max / 2) {
      return c.too_far;
    }
  }
  return {};
}

}  // namespace nsfun::detail::timens

namespace nsfun {

NSFUN_INLINE result<void> detail::write_time_offsets(const char* path,
                                                     const TimeOffsets& offsets) noexcept {
  sys::PathBuf text;
  timens::put_kernel_text(text, offsets);
  int fd = ::open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return sys::last_error("open").on(path);
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  // One write: the kernel applies all the lines of a write, or none.
  const std::size_t len = std::strlen(text.c_str());
  ssize_t n = ::write(fd, text.c_str(), len);
  int err = n < 0 ? errno : static_cast<std::size_t>(n) != len ? EIO : 0;
  if (err == 0) {
    return success();
  }
  // "monotonic 86400s boottime -1.5s to /proc/42/timens_offsets"
  sys::PathBuf shown;
  timens::put_shown_clock(shown, "monotonic ", offsets.monotonic);
  timens::put_shown_clock(shown, " boottime ", offsets.boottime);
  shown.add(" to ").add(path);
  error e = errno_error(err, "write").on(shown.c_str());
  if (err == EACCES) {
    e.because(
        "offsets are frozen once a process is in the time namespace (or it is the initial one)");
  } else if (err == ERANGE) {
    if (std::string_view why = timens::range_problem(offsets); !why.empty()) {
      e.because(why);
    }
  }
  return e;
}

namespace detail::timens {

// "monotonic  <sec>  <nsec>" (or the clock id, 1 or 7, on kernels that print numbers).
inline bool parse_offset_line(std::string_view line, TimeOffsets& out) {
  auto skip_spaces = [&] {
    std::size_t i = line.find_first_not_of(" \t");
    line.remove_prefix(i == std::string_view::npos ? line.size() : i);
  };
  skip_spaces();
  std::size_t name_end = line.find_first_of(" \t");
  if (name_end == std::string_view::npos) {
    return false;
  }
  std::string_view clock = line.substr(0, name_end);
  line.remove_prefix(name_end);
  std::int64_t sec = 0;
  std::int64_t nsec = 0;
  skip_spaces();
  auto r1 = std::from_chars(line.data(), line.data() + line.size(), sec);
  if (r1.ec != std::errc()) {
    return false;
  }
  line.remove_prefix(static_cast<std::size_t>(r1.ptr - line.data()));
  skip_spaces();
  auto r2 = std::from_chars(line.data(), line.data() + line.size(), nsec);
  if (r2.ec != std::errc()) {
    return false;
  }
  line.remove_prefix(static_cast<std::size_t>(r2.ptr - line.data()));
  skip_spaces();
  // The kernel prints 0 <= nsec < 1e9 and |sec| <= KTIME_SEC_MAX; anything else (and anything
  // after the two numbers) is not its text, and sec * 1e9 + nsec could overflow.
  std::int64_t total = 0;
  if (!line.empty() || nsec < 0 || nsec >= ns_per_s || sec > ktime_sec_max ||
      sec < -ktime_sec_max || __builtin_mul_overflow(sec, ns_per_s, &total) ||
      __builtin_add_overflow(total, nsec, &total)) {
    return false;
  }
  std::chrono::nanoseconds value{total};
  if (clock == "monotonic" || clock == "1") {
    out.monotonic = value;
  } else if (clock == "boottime" || clock == "7") {
    out.boottime = value;
  } else {
    return false;
  }
  return true;
}

}  // namespace detail::timens

NSFUN_INLINE result<void> set_time_offsets(pid_t pid, const TimeOffsets& offsets) noexcept {
  detail::sys::PathBuf path;
  path.add("/proc/").add(long{pid}).add("/timens_offsets");
  return detail::write_time_offsets(path.c_str(), offsets);
}

NSFUN_INLINE result<void> set_time_offsets(const TimeOffsets& offsets) noexcept {
  // /proc/PID resolves any thread id, and its timens_offsets acts on that very thread.
  return set_time_offsets(::gettid(), offsets);
}

NSFUN_INLINE result<TimeNs> acquire_time_ns(const TimeOffsets& offsets) noexcept {
  // A thread of our own: unshare(CLONE_NEWTIME) changes only its time_for_children, which no
  // process ever enters before the fd is handed back, so the offsets can still be written.
  return detail::run_on_thread([&]() -> result<TimeNs> {
    if (::unshare(detail::sys::clone_newtime) < 0) {
      error e = detail::sys::last_error("unshare").on("time");
      return detail::sys::with_limit_note(e, NsTypeSet{NsType::time});
    }
    NSFUN_TRYV(set_time_offsets(offsets));
    NSFUN_TRY(NsFd ns, NsFd::current(NsLink::time_for_children));
    return TimeNs::from(std::move(ns));
  });
}

NSFUN_INLINE result<TimeOffsets> detail::parse_time_offsets(std::string_view text,
                                                            std::string_view source) noexcept {
  TimeOffsets out;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!line.empty() && !detail::timens::parse_offset_line(line, out)) {
      return errno_error(EINVAL, "parse")
          .on(source, " line \"", line.substr(0, 64), '"')
          .because(
              "expected \"<clock> <seconds> <nanoseconds>\" with 0 <= nanoseconds < "
              "1e9 and seconds within the kernel's range");
    }
  }
  return out;
}

NSFUN_INLINE result<TimeOffsets> time_offsets(pid_t pid) noexcept {
  detail::sys::PathBuf path;
  path.add("/proc/").add(long{pid}).add("/timens_offsets");
  try {
    std::string text;
    if (int err = detail::read_at(AT_FDCWD, path.c_str(), text); err != 0) {
      return errno_error(err, "read").on(path.c_str());
    }
    return detail::parse_time_offsets(text, path.c_str());
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read").on(path.c_str());
  }
}

}  // namespace nsfun
