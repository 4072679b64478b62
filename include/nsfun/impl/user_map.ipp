// SPDX-License-Identifier: MIT
// nsfun – UserMap: parsing, validation, and writing /proc/PID/{setgroups,uid_map,gid_map}: the
// implementation (see <nsfun/config.hpp>).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/user_map.hpp>

namespace nsfun::detail::idmap {

inline constexpr std::uint64_t max_id_end = 0xffffffffULL;  // (uid_t)-1 is never an id

// A map's text as an error shows it: in quotes, at most 64 bytes of it (then "..."), with
// newlines and tabs written as \n and \t so that the message stays on one line.
class Quoted {
 public:
  Quoted() noexcept { buf_[len_++] = '"'; }

  explicit Quoted(std::string_view text) noexcept : Quoted() {
    add(text);
    close();
  }

  Quoted& add(std::string_view s) noexcept {
    for (char c : s) {
      if (shown_ >= limit) {
        cut_ = true;
        break;
      }
      if (c == '\n' || c == '\t') {
        buf_[len_++] = '\\';
        c = c == '\n' ? 'n' : 't';
      }
      buf_[len_++] = c;
      ++shown_;
    }
    return *this;
  }

  Quoted& add(std::uint32_t n) noexcept {
    char tmp[12];
    auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), n);
    (void)ec;
    return add(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
  }

  Quoted& close() noexcept {
    if (cut_) {
      std::memcpy(buf_ + len_, "...", 3);
      len_ += 3;
    }
    buf_[len_++] = '"';
    return *this;
  }

  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }

 private:
  static constexpr std::size_t limit = 64;

  char buf_[2 * limit + 8];
  std::size_t len_ = 0;
  std::size_t shown_ = 0;
  bool cut_ = false;
};

// The compact text of a list of ranges, quoted as Quoted does: what an error about a map built
// from ranges (not parsed from a text) names.
inline Quoted quoted_ranges(const std::vector<IdRange>& ranges) noexcept {
  Quoted q;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (i > 0) {
      q.add(",");
    }
    q.add(ranges[i].inside).add(":").add(ranges[i].outside).add(":").add(ranges[i].count);
  }
  q.close();
  return q;
}

// An invalid map; the caller adds the object (the map's text) and the reason.
inline error bad_map() noexcept {
  return nsfun_error(errc::invalid_id_map, "id map");
}

// " in range 5:2000:0", to say which range of a map with several is wrong; empty for a map of
// one range, which the error names whole.
class InRange {
 public:
  InRange(const IdRange& r, bool several) noexcept {
    if (!several) {
      return;
    }
    add(" in range ").add(r.inside).add(":").add(r.outside).add(":").add(r.count);
  }

  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }

 private:
  InRange& add(std::string_view s) noexcept {
    std::memcpy(buf_ + len_, s.data(), s.size());
    len_ += s.size();
    return *this;
  }

  InRange& add(std::uint32_t n) noexcept {
    auto [end, ec] = std::to_chars(buf_ + len_, buf_ + sizeof(buf_), n);
    (void)ec;
    len_ = static_cast<std::size_t>(end - buf_);
    return *this;
  }

  char buf_[48];  // " in range " and three 10-digit numbers with two colons: 42
  std::size_t len_ = 0;
};

// Digits of n in decimal.
inline std::size_t digits(std::uint32_t n) noexcept {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Ranges [a, a+n) and [b, b+m) intersect.
inline bool overlap(std::uint64_t a, std::uint64_t n, std::uint64_t b, std::uint64_t m) noexcept {
  return a < b + m && b < a + n;
}

// The kernel's checks on a map written to /proc/PID/uid_map (kernel/user_namespace.c,
// map_write): at least one range and at most 340; no range empty; first + count within 32 bits
// without reaching (u32)-1; no two ranges overlapping inside, nor outside; and the whole text
// shorter than a page. The error says which rule and which ranges; the caller names the map.
inline result<void> validate(const std::vector<IdRange>& ranges) noexcept {
  if (ranges.empty()) {
    return bad_map().because("no range");
  }
  if (ranges.size() > IdMap::max_ranges) {
    return bad_map().because(ranges.size(), " ranges; the kernel takes at most ",
                             IdMap::max_ranges);
  }
  std::size_t text_size = 0;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const IdRange& r = ranges[i];
    const InRange in(r, ranges.size() > 1);
    if (r.count == 0) {
      return bad_map().because("count is 0", in.view());
    }
    if (std::uint64_t{r.inside} + r.count > max_id_end) {
      return bad_map().because("inside ids end beyond 32 bits (", r.inside, " + ", r.count, " > ",
                               max_id_end, ")", in.view());
    }
    if (std::uint64_t{r.outside} + r.count > max_id_end) {
      return bad_map().because("outside ids end beyond 32 bits (", r.outside, " + ", r.count, " > ",
                               max_id_end, ")", in.view());
    }
    for (std::size_t j = 0; j < i; ++j) {
      const IdRange& o = ranges[j];
      if (overlap(r.inside, r.count, o.inside, o.count)) {
        return bad_map().because("overlapping inside ranges ", o.inside, ":", o.outside, ":",
                                 o.count, " and ", r.inside, ":", r.outside, ":", r.count);
      }
      if (overlap(r.outside, r.count, o.outside, o.count)) {
        return bad_map().because("overlapping outside ranges ", o.inside, ":", o.outside, ":",
                                 o.count, " and ", r.inside, ":", r.outside, ":", r.count);
      }
    }
    text_size += digits(r.inside) + digits(r.outside) + digits(r.count) + 3;  // "a b c\n"
  }
  // The kernel takes a map in a single write of less than a page.
  const auto page = static_cast<std::size_t>(::getpagesize());
  if (text_size >= page) {
    return bad_map().because("its text is ", text_size, " bytes; the kernel takes less than ", page,
                             " (a page)");
  }
  return success();
}

// A text as errors show it: without the blanks and newlines around it.
inline std::string_view shown(std::string_view text) noexcept {
  std::size_t a = text.find_first_not_of(" \t\n");
  if (a == std::string_view::npos) {
    return {};
  }
  return text.substr(a, text.find_last_not_of(" \t\n") - a + 1);
}

// Parses one field of a range; the reason when it is not a 32-bit number.
inline const char* parse_u32(std::string_view s, std::uint32_t& out) noexcept {
  if (s.empty()) {
    return " is empty";
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) {
    return " is beyond 32 bits";
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    return s.front() == '-' ? " is negative" : " is not a number";
  }
  return nullptr;
}

inline std::string_view trim(std::string_view s) noexcept {
  std::size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) {
    return {};
  }
  std::size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

// Splits on any of `seps`, dropping empty pieces.
template <class F>
inline void split(std::string_view s, std::string_view seps, F&& fn) {
  while (!s.empty()) {
    std::size_t at = s.find_first_of(seps);
    std::string_view piece = s.substr(0, at);
    if (!piece.empty()) {
      fn(piece);
    }
    if (at == std::string_view::npos) {
      break;
    }
    s.remove_prefix(at + 1);
  }
}

// Writes `text` to /proc/PID/FILE in one write(), as the kernel requires for a map.
inline result<void> write_proc(pid_t pid, const char* file, const std::string& text) noexcept {
  detail::sys::PathBuf path;
  path.add("/proc/").add(pid).add("/").add(file);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return errno_error(errno == ENOENT ? ESRCH : errno, "open").on(path.c_str());
  }
  UniqueFd f = UniqueFd::adopt(fd);  // owns: just opened
  ssize_t n = ::write(fd, text.data(), text.size());
  if (n < 0) {
    return errno_error(errno, "write").on(path.c_str());
  }
  if (static_cast<std::size_t>(n) != text.size()) {
    return errno_error(EIO, "write")
        .on(path.c_str())
        .because("short write: ", n, " of ", text.size(), " bytes");
  }
  return success();
}

// Runs newuidmap/newgidmap PID inside outside count …; they are setuid helpers that check
// /etc/subuid and /etc/subgid for the caller. Started as a spawned Command (PATH looked up by
// the parent, execve in the child: nothing but async-signal-safe calls after the clone, however
// many threads the caller has). Errors name the helper and the pid.
inline result<void> run_map_helper(const char* helper, pid_t pid, const IdMap& map) noexcept {
  try {
    Command cmd{std::string(helper)};
    cmd.arg(std::to_string(pid));
    for (const IdRange& r : map.ranges()) {
      cmd.arg(std::to_string(r.inside));
      cmd.arg(std::to_string(r.outside));
      cmd.arg(std::to_string(r.count));
    }
    result<Child> child = spawn(cmd);
    if (!child) {
      return errno_error(EPERM, helper)
          .on(pid)
          .because("could not run it (", child.assume_error().message(), "; package uidmap)");
    }
    NSFUN_TRY(ExitStatus status, child.assume_value().wait());
    if (status.signal != 0) {
      return errno_error(EPERM, helper).on(pid).because("killed by signal ", status.signal);
    }
    if (status.code == 127) {
      return errno_error(EPERM, helper)
          .on(pid)
          .because("could not run it (exit status 127; package uidmap)");
    }
    if (status.code != 0) {
      return errno_error(EPERM, helper)
          .on(pid)
          .because("refused the map (exit status ", status.code, ")");
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, helper).on(pid);
  }
  return success();
}

// Ranges of `user` (name or numeric id) in an /etc/subuid-style file: "name:start:count",
// mapped from `first_inside` on.
inline result<std::vector<IdRange>> sub_ranges(const char* file,
                                               std::string_view user,
                                               std::uint32_t id,
                                               std::uint32_t first_inside) {
  std::string text;
  if (int err = detail::read_at(AT_FDCWD, file, text)) {
    return errno_error(err, "read").on(file);
  }
  std::vector<IdRange> out;
  std::uint64_t inside = first_inside;
  std::string id_text = std::to_string(id);
  split(text, "\n", [&](std::string_view line) {
    std::size_t a = line.find(':');
    std::size_t b = line.find(':', a + 1);
    if (a == std::string_view::npos || b == std::string_view::npos) {
      return;
    }
    std::string_view who = line.substr(0, a);
    std::uint32_t start = 0;
    std::uint32_t count = 0;
    // Ranges past 32 bits inside are left out; IdMap::from then refuses the one that ends there.
    if ((who == user || who == id_text) &&
        parse_u32(line.substr(a + 1, b - a - 1), start) == nullptr &&
        parse_u32(line.substr(b + 1), count) == nullptr && count > 0 && inside <= max_id_end) {
      out.push_back({static_cast<std::uint32_t>(inside), start, count});
      inside += count;
    }
  });
  if (out.empty()) {
    return errno_error(ENOENT, "find subordinate ids")
        .on(file)
        .because("no range for ", user, " or ", id);
  }
  return out;
}

// One range of a map's text: "0:1000:1" (compact) or "0 1000 1" (proc). The error says what is
// wrong, and in which range when the text has several; the caller names the whole text.
inline result<IdRange> parse_range(std::string_view item, bool compact, bool several) noexcept {
  // Compact fields are split at every ':' (so "0::1" has an empty outside); proc fields at runs
  // of blanks.
  std::string_view f[4];
  std::size_t n = 0;
  if (compact) {
    std::string_view rest = item;
    while (n < 4) {
      std::size_t at = rest.find(':');
      f[n++] = trim(rest.substr(0, at));
      if (at == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(at + 1);
    }
  } else {
    split(item, " \t", [&](std::string_view v) {
      if (n < 4) {
        f[n++] = v;
      }
    });
  }
  Quoted quoted_item;
  quoted_item.add(item).close();
  const std::string_view in = several ? " in " : "";
  const std::string_view which = several ? quoted_item.view() : std::string_view();
  IdRange r;
  const char* names[] = {"inside", "outside", "count"};
  std::uint32_t* values[] = {&r.inside, &r.outside, &r.count};
  for (std::size_t i = 0; i < 3 && i < n; ++i) {
    if (const char* why = parse_u32(f[i], *values[i])) {
      return bad_map().because(names[i], why, in, which);
    }
  }
  if (n == 1) {
    return bad_map().because("missing outside and count", in, which);
  }
  if (n == 2) {
    return bad_map().because("missing count", in, which);
  }
  if (n > 3) {
    return bad_map().because("more than three fields", in, which);
  }
  return r;
}

}  // namespace nsfun::detail::idmap

namespace nsfun {

NSFUN_INLINE result<IdMap> IdMap::from(std::vector<IdRange> ranges) noexcept {
  if (auto ok = detail::idmap::validate(ranges); !ok) {
    return ok.assume_error().on(detail::idmap::quoted_ranges(ranges).view());
  }
  IdMap m;
  m.ranges_ = std::move(ranges);
  return m;
}

NSFUN_INLINE result<IdMap> IdMap::single(std::uint32_t inside,
                                         std::uint32_t outside,
                                         std::uint32_t count) noexcept {
  try {
    return from({IdRange{inside, outside, count}});
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "id map");
  }
}

NSFUN_INLINE result<IdMap> IdMap::parse(std::string_view text) noexcept {
  const bool compact = text.find(':') != std::string_view::npos;
  const std::string_view seps = compact ? ",\n" : "\n";
  // Whether the text has more than one non-blank range: errors then name the bad one too.
  std::size_t items = 0;
  detail::idmap::split(text, seps, [&](std::string_view item) {
    if (!detail::idmap::trim(item).empty()) {
      ++items;
    }
  });
  std::vector<IdRange> ranges;
  result<void> status = success();
  try {
    detail::idmap::split(text, seps, [&](std::string_view item) {
      item = detail::idmap::trim(item);
      if (!status || item.empty()) {
        return;  // after an error, or a blank line
      }
      auto r = detail::idmap::parse_range(item, compact, items > 1);
      if (!r) {
        status = r.assume_error();
        return;
      }
      ranges.push_back(r.assume_value());
    });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "id map")
        .on(detail::idmap::Quoted(detail::idmap::shown(text)).view());
  }
  if (!status) {
    return status.assume_error().on(detail::idmap::Quoted(detail::idmap::shown(text)).view());
  }
  if (auto valid = detail::idmap::validate(ranges); !valid) {
    return valid.assume_error().on(detail::idmap::Quoted(detail::idmap::shown(text)).view());
  }
  IdMap m;
  m.ranges_ = std::move(ranges);
  return m;
}

NSFUN_INLINE std::string IdMap::to_proc() const {
  std::string s;
  for (const IdRange& r : ranges_) {
    s += std::to_string(r.inside) + ' ' + std::to_string(r.outside) + ' ' +
         std::to_string(r.count) + '\n';
  }
  return s;
}

NSFUN_INLINE std::string IdMap::to_string() const {
  std::string s;
  for (const IdRange& r : ranges_) {
    if (!s.empty()) {
      s += ',';
    }
    s += std::to_string(r.inside) + ':' + std::to_string(r.outside) + ':' + std::to_string(r.count);
  }
  return s;
}

NSFUN_INLINE std::int64_t IdMap::to_outside(std::uint32_t inside) const noexcept {
  for (const IdRange& r : ranges_) {
    if (inside >= r.inside && inside - r.inside < r.count) {
      return std::int64_t{r.outside} + (inside - r.inside);
    }
  }
  return -1;
}

NSFUN_INLINE result<UserMap> UserMap::root_is(uid_t uid, gid_t gid) noexcept {
  NSFUN_TRY(IdMap u, with_context(IdMap::single(0, uid), "uid map"));
  NSFUN_TRY(IdMap g, with_context(IdMap::single(0, gid), "gid map"));
  return UserMap{std::move(u), std::move(g), false};
}

NSFUN_INLINE result<UserMap> UserMap::identity_of(uid_t uid, gid_t gid) noexcept {
  NSFUN_TRY(IdMap u, with_context(IdMap::single(uid, uid), "uid map"));
  NSFUN_TRY(IdMap g, with_context(IdMap::single(gid, gid), "gid map"));
  return UserMap{std::move(u), std::move(g), false};
}

NSFUN_INLINE result<UserMap> UserMap::subordinate(
    std::string_view user, uid_t uid, gid_t gid, const char* subuid, const char* subgid) noexcept {
  try {
    NSFUN_TRY(auto uids, detail::idmap::sub_ranges(subuid, user, uid, 1));
    NSFUN_TRY(auto gids, detail::idmap::sub_ranges(subgid, user, gid, 1));
    uids.insert(uids.begin(), IdRange{0, uid, 1});
    gids.insert(gids.begin(), IdRange{0, gid, 1});
    NSFUN_TRY(IdMap u, with_context(IdMap::from(std::move(uids)), "uid map from ", subuid));
    NSFUN_TRY(IdMap g, with_context(IdMap::from(std::move(gids)), "gid map from ", subgid));
    return UserMap{std::move(u), std::move(g), false};
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read subordinate ids").on(user);
  }
}

NSFUN_INLINE result<void> UserMap::apply(pid_t pid) const noexcept {
  if (uid.empty() && gid.empty()) {
    return nsfun_error(errc::invalid_id_map, "write id maps")
        .on("/proc/", pid)
        .because("both the uid and the gid map are empty");
  }
  try {
    // Without CAP_SETGID over the parent namespace the kernel accepts a gid_map only after
    // setgroups was denied (user_namespaces(7), since 3.19).
    bool deny = deny_setgroups || ::geteuid() != 0;
    if (!uid.empty()) {
      auto r = detail::idmap::write_proc(pid, "uid_map", uid.to_proc());
      if (!r && r.error() == std::errc::operation_not_permitted) {
        r = detail::idmap::run_map_helper("newuidmap", pid, uid);
      }
      NSFUN_TRYV(r);
    }
    if (!gid.empty()) {
      if (deny) {
        NSFUN_TRYV(detail::idmap::write_proc(pid, "setgroups", "deny"));
      }
      auto r = detail::idmap::write_proc(pid, "gid_map", gid.to_proc());
      if (!r && r.error() == std::errc::operation_not_permitted) {
        r = detail::idmap::run_map_helper("newgidmap", pid, gid);
      }
      NSFUN_TRYV(r);
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "write id maps").on("/proc/", pid);
  }
  return success();
}

NSFUN_INLINE result<UserMap> UserMap::read(pid_t pid) noexcept {
  try {
    UserMap m;
    for (auto [file, map] : {std::pair{"uid_map", &m.uid}, std::pair{"gid_map", &m.gid}}) {
      detail::sys::PathBuf path;
      path.add("/proc/").add(pid).add("/").add(file);
      std::string text;
      if (int err = detail::read_at(AT_FDCWD, path.c_str(), text)) {
        return errno_error(err == ENOENT ? ESRCH : err, "read").on(path.c_str());
      }
      if (text.find_first_not_of(" \t\n") == std::string::npos) {
        continue;  // not written yet
      }
      NSFUN_TRY(*map, with_context(IdMap::parse(text), "read ", path.c_str()));
    }
    detail::sys::PathBuf path;
    path.add("/proc/").add(pid).add("/setgroups");
    std::string sg;
    if (detail::read_at(AT_FDCWD, path.c_str(), sg) == 0) {
      m.deny_setgroups = sg.rfind("deny", 0) == 0;
    }
    return m;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read id maps").on("/proc/", pid);
  }
}

}  // namespace nsfun
