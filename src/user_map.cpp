// SPDX-License-Identifier: MIT
// nsfun – UserMap: parsing, validation, and writing /proc/PID/{setgroups,uid_map,gid_map}.

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nsfun/user_map.hpp>

#include "proc_util.hpp"
#include "sys.hpp"

namespace nsfun {

namespace {

auto bad_map(std::string_view what) noexcept {
  return nsfun_error(errc::invalid_id_map, what);
}

bool parse_u32(std::string_view s, std::uint32_t& out) noexcept {
  if (s.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Ranges [a, a+n) and [b, b+m) intersect.
bool overlap(std::uint64_t a, std::uint64_t n, std::uint64_t b, std::uint64_t m) noexcept {
  return a < b + m && b < a + n;
}

result<void> validate(const std::vector<IdRange>& ranges) noexcept {
  if (ranges.empty()) {
    return bad_map("id map: no range");
  }
  if (ranges.size() > IdMap::max_ranges) {
    return bad_map("id map: more than 340 ranges");
  }
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const IdRange& r = ranges[i];
    if (r.count == 0) {
      return bad_map("id map: empty range");
    }
    // The kernel keeps ids in 32 bits and reserves (uid_t)-1.
    if (std::uint64_t{r.inside} + r.count > 0xffffffffULL ||
        std::uint64_t{r.outside} + r.count > 0xffffffffULL) {
      return bad_map("id map: range beyond 32 bits");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (overlap(r.inside, r.count, ranges[j].inside, ranges[j].count)) {
        return bad_map("id map: overlapping inside ranges");
      }
      if (overlap(r.outside, r.count, ranges[j].outside, ranges[j].count)) {
        return bad_map("id map: overlapping outside ranges");
      }
    }
  }
  return success();
}

// Splits on any of `seps`, dropping empty pieces.
template <class F>
void split(std::string_view s, std::string_view seps, F&& fn) {
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

result<void> write_proc(pid_t pid,
                        const char* file,
                        const std::string& text,
                        std::string_view what) {
  sys::PathBuf path;
  path.add("/proc/").add(pid).add("/").add(file);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return errno_error(errno == ENOENT ? ESRCH : errno, what);
  }
  UniqueFd f = UniqueFd::adopt(fd);  // owns: just opened
  // The kernel takes a map in one write() only.
  ssize_t n = ::write(fd, text.data(), text.size());
  if (n < 0) {
    return errno_error(errno, what);
  }
  if (static_cast<std::size_t>(n) != text.size()) {
    return errno_error(EIO, what);
  }
  return success();
}

// Runs newuidmap/newgidmap PID inside outside count …; they are setuid helpers that check
// /etc/subuid and /etc/subgid for the caller.
result<void> run_map_helper(const char* helper, pid_t pid, const IdMap& map) noexcept {
  try {
    std::vector<std::string> args{helper, std::to_string(pid)};
    for (const IdRange& r : map.ranges()) {
      args.push_back(std::to_string(r.inside));
      args.push_back(std::to_string(r.outside));
      args.push_back(std::to_string(r.count));
    }
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) {
      return sys::last_error("fork");
    }
    if (child == 0) {
      ::execvp(helper, argv.data());
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
      if (errno != EINTR) {
        return sys::last_error("waitpid");
      }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return errno_error(EPERM, helper[3] == 'u' ? "newuidmap" : "newgidmap");
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "newuidmap");
  }
  return success();
}

// Ranges of `user` (name or numeric id) in an /etc/subuid-style file: "name:start:count".
result<std::vector<IdRange>> sub_ranges(const char* file,
                                        std::string_view user,
                                        std::uint32_t id,
                                        std::uint32_t first_inside) {
  std::string text;
  if (int err = detail::read_at(AT_FDCWD, file, text)) {
    return errno_error(err, "read subordinate id file");
  }
  std::vector<IdRange> out;
  std::uint32_t inside = first_inside;
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
    if ((who == user || who == id_text) && parse_u32(line.substr(a + 1, b - a - 1), start) &&
        parse_u32(line.substr(b + 1), count) && count > 0) {
      out.push_back({inside, start, count});
      inside += count;
    }
  });
  if (out.empty()) {
    return errno_error(ENOENT, "find subordinate ids");
  }
  return out;
}

}  // namespace

result<IdMap> IdMap::from(std::vector<IdRange> ranges) noexcept {
  NSFUN_TRYV(validate(ranges));
  IdMap m;
  m.ranges_ = std::move(ranges);
  return m;
}

result<IdMap> IdMap::parse(std::string_view text) noexcept {
  std::vector<IdRange> ranges;
  bool ok = true;
  try {
    bool compact = text.find(':') != std::string_view::npos;
    split(text, compact ? ",\n" : "\n", [&](std::string_view item) {
      std::vector<std::string_view> f;
      split(item, compact ? ":" : " \t", [&](std::string_view v) { f.push_back(v); });
      if (item.find_first_not_of(" \t") == std::string_view::npos) {
        return;  // blank line
      }
      IdRange r;
      if (f.size() != 3 || !parse_u32(f[0], r.inside) || !parse_u32(f[1], r.outside) ||
          !parse_u32(f[2], r.count)) {
        ok = false;
        return;
      }
      ranges.push_back(r);
    });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "parse id map");
  }
  if (!ok) {
    return bad_map("parse id map");
  }
  return from(std::move(ranges));
}

std::string IdMap::to_proc() const {
  std::string s;
  for (const IdRange& r : ranges_) {
    s += std::to_string(r.inside) + ' ' + std::to_string(r.outside) + ' ' +
         std::to_string(r.count) + '\n';
  }
  return s;
}

std::string IdMap::to_string() const {
  std::string s;
  for (const IdRange& r : ranges_) {
    if (!s.empty()) {
      s += ',';
    }
    s += std::to_string(r.inside) + ':' + std::to_string(r.outside) + ':' + std::to_string(r.count);
  }
  return s;
}

std::int64_t IdMap::to_outside(std::uint32_t inside) const noexcept {
  for (const IdRange& r : ranges_) {
    if (inside >= r.inside && inside - r.inside < r.count) {
      return std::int64_t{r.outside} + (inside - r.inside);
    }
  }
  return -1;
}

UserMap UserMap::root_is(uid_t uid, gid_t gid) {
  return {IdMap::single(0, uid), IdMap::single(0, gid), false};
}

UserMap UserMap::identity_of(uid_t uid, gid_t gid) {
  return {IdMap::single(uid, uid), IdMap::single(gid, gid), false};
}

result<UserMap> UserMap::subordinate(
    std::string_view user, uid_t uid, gid_t gid, const char* subuid, const char* subgid) noexcept {
  try {
    NSFUN_TRY(auto uids, sub_ranges(subuid, user, uid, 1));
    NSFUN_TRY(auto gids, sub_ranges(subgid, user, gid, 1));
    uids.insert(uids.begin(), IdRange{0, uid, 1});
    gids.insert(gids.begin(), IdRange{0, gid, 1});
    NSFUN_TRY(IdMap u, IdMap::from(std::move(uids)));
    NSFUN_TRY(IdMap g, IdMap::from(std::move(gids)));
    return UserMap{std::move(u), std::move(g), false};
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read subordinate ids");
  }
}

result<void> UserMap::apply(pid_t pid) const noexcept {
  if (uid.empty() && gid.empty()) {
    return bad_map("id map: no range");
  }
  try {
    // Without CAP_SETGID over the parent namespace the kernel accepts a gid_map only after
    // setgroups was denied (user_namespaces(7), since 3.19).
    bool deny = deny_setgroups || ::geteuid() != 0;
    if (!uid.empty()) {
      auto r = write_proc(pid, "uid_map", uid.to_proc(), "write uid_map");
      if (!r && r.error() == std::errc::operation_not_permitted) {
        r = run_map_helper("newuidmap", pid, uid);
      }
      NSFUN_TRYV(r);
    }
    if (!gid.empty()) {
      if (deny) {
        NSFUN_TRYV(write_proc(pid, "setgroups", "deny", "write setgroups"));
      }
      auto r = write_proc(pid, "gid_map", gid.to_proc(), "write gid_map");
      if (!r && r.error() == std::errc::operation_not_permitted) {
        r = run_map_helper("newgidmap", pid, gid);
      }
      NSFUN_TRYV(r);
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "write id map");
  }
  return success();
}

result<UserMap> UserMap::read(pid_t pid) noexcept {
  try {
    UserMap m;
    for (auto [file, map] : {std::pair{"uid_map", &m.uid}, std::pair{"gid_map", &m.gid}}) {
      sys::PathBuf path;
      path.add("/proc/").add(pid).add("/").add(file);
      std::string text;
      if (int err = detail::read_at(AT_FDCWD, path.c_str(), text)) {
        return errno_error(err == ENOENT ? ESRCH : err, "read id map");
      }
      if (text.find_first_not_of(" \t\n") == std::string::npos) {
        continue;  // not written yet
      }
      NSFUN_TRY(*map, IdMap::parse(text));
    }
    sys::PathBuf path;
    path.add("/proc/").add(pid).add("/setgroups");
    std::string sg;
    if (detail::read_at(AT_FDCWD, path.c_str(), sg) == 0) {
      m.deny_setgroups = sg.rfind("deny", 0) == 0;
    }
    return m;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read id map");
  }
}

}  // namespace nsfun
