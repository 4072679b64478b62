// SPDX-License-Identifier: MIT
// nsfun – time namespace offsets: written through /proc/PID/timens_offsets, read back likewise.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <nsfun/time_ns.hpp>

#include "come_back.hpp"
#include "proc_util.hpp"
#include "sys.hpp"
#include "time_ns_text.hpp"

namespace nsfun {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

// "<name> <sec> <nsec>\n" (see time_offsets_text).
char* put_offset(char* p, char* end, std::string_view clock, std::chrono::nanoseconds off) {
  std::int64_t ns = off.count();
  std::int64_t sec = ns / ns_per_s;
  std::int64_t nsec = ns % ns_per_s;
  if (nsec < 0) {
    nsec += ns_per_s;
    sec -= 1;
  }
  for (char c : clock) {
    *p++ = c;
  }
  *p++ = ' ';
  p = std::to_chars(p, end, sec).ptr;
  *p++ = ' ';
  p = std::to_chars(p, end, nsec).ptr;
  *p++ = '\n';
  return p;
}

// Both lines into [p, end), which has room for 128 characters; returns the new end.
char* put_offsets(char* p, char* end, const TimeOffsets& offsets) {
  p = put_offset(p, end, "monotonic", offsets.monotonic);
  return put_offset(p, end, "boottime", offsets.boottime);
}

}  // namespace

std::string detail::time_offsets_text(const TimeOffsets& offsets) {
  char buf[128];
  return {buf, put_offsets(buf, buf + sizeof(buf), offsets)};
}

namespace {

result<void> write_offsets(const char* path, const TimeOffsets& offsets) noexcept {
  char buf[128];
  const std::string_view text(
      buf, static_cast<std::size_t>(put_offsets(buf, buf + sizeof(buf), offsets) - buf));
  int fd = ::open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return sys::last_error("open timens_offsets");
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  // One write: the kernel applies all the lines of a write, or none.
  ssize_t n = ::write(fd, text.data(), text.size());
  if (n < 0) {
    return sys::last_error("write timens_offsets");
  }
  if (static_cast<std::size_t>(n) != text.size()) {
    return errno_error(EIO, "write timens_offsets");
  }
  return success();
}

// "monotonic  <sec>  <nsec>" (or the clock id, 1 or 7, on kernels that print numbers).
bool parse_offset_line(std::string_view line, TimeOffsets& out) {
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
  std::chrono::nanoseconds value{sec * ns_per_s + nsec};
  if (clock == "monotonic" || clock == "1") {
    out.monotonic = value;
  } else if (clock == "boottime" || clock == "7") {
    out.boottime = value;
  } else {
    return false;
  }
  return true;
}

}  // namespace

result<void> set_time_offsets(pid_t pid, const TimeOffsets& offsets) noexcept {
  sys::PathBuf path;
  path.add("/proc/").add(long{pid}).add("/timens_offsets");
  return write_offsets(path.c_str(), offsets);
}

result<void> set_time_offsets(const TimeOffsets& offsets) noexcept {
  // /proc/PID resolves any thread id, and its timens_offsets acts on that very thread.
  return set_time_offsets(::gettid(), offsets);
}

result<TimeNs> acquire_time_ns(const TimeOffsets& offsets) noexcept {
  // A thread of our own: unshare(CLONE_NEWTIME) changes only its time_for_children, which no
  // process ever enters before the fd is handed back, so the offsets can still be written.
  return detail::run_on_thread([&]() -> result<TimeNs> {
    if (::unshare(sys::clone_newtime) < 0) {
      return sys::last_error("unshare");
    }
    NSFUN_TRYV(set_time_offsets(offsets));
    NSFUN_TRY(NsFd ns, NsFd::current(NsLink::time_for_children));
    return TimeNs::from(std::move(ns));
  });
}

result<TimeOffsets> time_offsets(pid_t pid) noexcept {
  sys::PathBuf path;
  path.add("/proc/").add(long{pid}).add("/timens_offsets");
  try {
    std::string text;
    if (int err = detail::read_at(AT_FDCWD, path.c_str(), text); err != 0) {
      return errno_error(err, "read timens_offsets");
    }
    TimeOffsets out;
    std::string_view rest = text;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      if (!line.empty() && !parse_offset_line(line, out)) {
        return errno_error(EINVAL, "parse timens_offsets");
      }
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read timens_offsets");
  }
}

}  // namespace nsfun
