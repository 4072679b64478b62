// SPDX-License-Identifier: MIT
// nsfun – named namespace sets: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nsfun/acquire.hpp>
#include <nsfun/config.hpp>
#include <nsfun/detail/dir_reader.hpp>
#include <nsfun/detail/names.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/mount.hpp>
#include <nsfun/named_set.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/spawn.hpp>

// named_set.cpp's private helpers: nsfun::detail::named_set.
namespace nsfun::detail::named_set {

inline constexpr const char* meta_file = "meta.json";

// The flags every file under the base directory is opened with: never a symbolic link, never a
// blocking open (a FIFO in place of a file).
inline constexpr int open_flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

// The kernel's limit on pid numbers (PID_MAX_LIMIT on 64-bit).
inline constexpr long pid_max_limit = 4194304;

[[nodiscard]] inline bool name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// An error about the set `name` with a reason only: "create set web: already exists".
[[nodiscard]] inline error set_error(int err,
                                     std::string_view what,
                                     std::string_view name,
                                     std::string_view reason) noexcept {
  return errno_error(err, what).on(name).because(reason);
}

[[nodiscard]] inline error check_name(std::string_view what, std::string_view name) noexcept {
  error e = nsfun_error(errc::invalid_name, what);
  return detail::on_quoted_name(e, name).because("not 1 to 64 of A-Z a-z 0-9 _ . - (nor . or ..)");
}

// "a symbolic link", "owned by uid 1000, not by uid 0", …: why a directory that must be the
// caller's alone is not; empty when it is. `mode` tightening is the caller's business.
[[nodiscard]] inline std::string dir_problem(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    return "a symbolic link";
  }
  if (!S_ISDIR(st.st_mode)) {
    return "not a directory";
  }
  if (st.st_uid != ::geteuid()) {
    return "owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
           std::to_string(::geteuid());
  }
  if ((st.st_mode & 022) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777U);
    return std::string((st.st_mode & 002) != 0 ? "world-writable" : "group-writable") + " (mode " +
           mode + ")";
  }
  return {};
}

// Opens a directory without following a symbolic link and checks that it is the caller's alone.
// `path` names it in errors; `dirfd`/`entry` say where it is.
[[nodiscard]] inline result<UniqueFd> open_own_dir(int dirfd,
                                                   const char* entry,
                                                   std::string_view path) {
  int fd = ::openat(dirfd, entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      struct stat st {};

      if (::fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        return errno_error(EPERM, "open")
            .on(path)
            .because(S_ISLNK(st.st_mode) ? "a symbolic link; refusing to follow it"
                                         : "not a directory; refusing to use it");
      }
    }
    return errno_error(err, "open").on(path);
  }
  UniqueFd dir = UniqueFd::adopt(fd);  // owns: just opened

  struct stat st {};

  if (::fstat(dir.get(), &st) < 0) {
    return sys::last_error("stat").on(path);
  }
  if (std::string problem = dir_problem(st); !problem.empty()) {
    problem += "; refusing to use it";
    return errno_error(EPERM, "open").on(path).because(problem);
  }
  return dir;
}

// Takes the lock on BASE that orders the changes to BASE itself: its self-bind (made by the
// first create, undone by the last destroy) and its removal. flock(2) on the directory, which a
// bind of it shares (the same inode), so that two first creates never stack two self-binds (a
// pin made on the lower one would be hidden by the upper) and a destroy never removes BASE under
// a create.
[[nodiscard]] inline result<void> lock_base(const UniqueFd& dir, const std::string& base) {
  while (::flock(dir.get(), LOCK_EX) < 0) {
    if (errno != EINTR) {
      return sys::last_error("lock").on(base);
    }
  }
  return success();
}

// True when `a` and `b` are the same directory (a bind of it counts).
[[nodiscard]] inline bool same_dir(const UniqueFd& a, const UniqueFd& b) noexcept {
  struct stat sa {};

  struct stat sb {};

  return ::fstat(a.get(), &sa) == 0 && ::fstat(b.get(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// BASE for create(): made (0700) when missing, checked, tightened to 0700 and made a private
// mount (bound onto itself first when it is not a mount point), all under the lock on BASE; the
// lock is held (by `lock`) until the caller has made its set directory, so that no destroy
// tidies BASE away meanwhile.
struct LockedBase {
  UniqueFd dir;   // the private mount's
  UniqueFd lock;  // holds the flock
};

[[nodiscard]] inline result<LockedBase> open_base_locked(const std::string& base) {
  for (int attempt = 0;; ++attempt) {
    if (::mkdir(base.c_str(), 0700) < 0 && errno != EEXIST) {
      return sys::last_error("mkdir").on(base);
    }
    NSFUN_TRY(UniqueFd lock, open_own_dir(AT_FDCWD, base.c_str(), base));
    NSFUN_TRYV(lock_base(lock, base));
    // Opened again under the lock: another create may have bound BASE since (the path then
    // leads to its bind), a destroy removed it (the lock is then on a removed directory).
    auto again = open_own_dir(AT_FDCWD, base.c_str(), base);
    if ((!again && again.error() == std::errc::no_such_file_or_directory) ||
        (again && !same_dir(lock, again.assume_value()))) {
      if (attempt < 16) {
        continue;
      }
      return errno_error(EAGAIN, "lock").on(base).because("removed and made again meanwhile");
    }
    NSFUN_TRY(UniqueFd dir, std::move(again));

    struct stat st {};

    if (::fstat(dir.get(), &st) == 0 && (st.st_mode & 077) != 0 && ::fchmod(dir.get(), 0700) < 0) {
      return sys::last_error("chmod 0700").on(base);
    }
    // Through the fd: the directory just checked, whatever happens to the path meanwhile.
    sys::PathBuf self;
    self.add("/proc/self/fd/").add(dir.get());
    NSFUN_TRY(bool mounted, is_mount_point(self.c_str()));
    if (!mounted) {
      if (::mount(self.c_str(), self.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        return sys::last_error("bind onto itself").on(base);
      }
    }
    if (::mount(nullptr, base.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) {
      return sys::last_error("make private").on(base);
    }
    NSFUN_TRY(UniqueFd mounted_dir, open_own_dir(AT_FDCWD, base.c_str(), base));
    return LockedBase{std::move(mounted_dir), std::move(lock)};
  }
}

// BASE, opened and checked (never made or changed).
[[nodiscard]] inline result<UniqueFd> open_base(const std::string& base) {
  return open_own_dir(AT_FDCWD, base.c_str(), base);
}

// BASE/NAME, checked like BASE.
[[nodiscard]] inline result<UniqueFd> open_set_dir(const UniqueFd& base_fd,
                                                   const std::string& base,
                                                   std::string_view name) {
  const std::string entry(name);
  auto dir = open_own_dir(base_fd.get(), entry.c_str(), base + "/" + entry);
  if (!dir && dir.error() == std::errc::no_such_file_or_directory) {
    return set_error(ENOENT, "open set", name, "no such named namespace set");
  }
  return dir;
}

// BASE (which must exist: "no such named namespace set" otherwise) and BASE/NAME in it.
struct OpenedSet {
  UniqueFd base;
  UniqueFd dir;
};

[[nodiscard]] inline result<OpenedSet> open_existing_set(const std::string& base,
                                                         std::string_view name) {
  auto base_fd = open_base(base);
  if (!base_fd && base_fd.error() == std::errc::no_such_file_or_directory) {
    return set_error(ENOENT, "open set", name, "no such named namespace set");
  }
  NSFUN_TRY(UniqueFd dir, std::move(base_fd));
  NSFUN_TRY(UniqueFd set_dir, open_set_dir(dir, base, name));
  return OpenedSet{std::move(dir), std::move(set_dir)};
}

// A pin of the set directory `set`: a regular file (not followed), opened without blocking and
// checked to be a namespace of type `t`.
[[nodiscard]] inline result<NsFd> open_pin(const UniqueFd& set, NsType t) noexcept {
  const std::string_view entry = nsfun::name(t);
  char buf[16] = {};
  std::memcpy(buf, entry.data(), std::min(entry.size(), sizeof buf - 1));

  struct stat st {};

  if (::fstatat(set.get(), buf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::last_error("stat").on(entry);
  }
  if (S_ISLNK(st.st_mode)) {
    return nsfun_error(errc::not_a_namespace, "open")
        .on(entry)
        .because("a symbolic link, not a pin; not followed");
  }
  if (!S_ISREG(st.st_mode)) {
    return nsfun_error(errc::not_a_namespace, "open").on(entry).because("not a regular file");
  }
  int fd = ::openat(set.get(), buf, open_flags);
  if (fd < 0) {
    return sys::last_error("open").on(entry);
  }
  auto ns = NsFd::adopt(UniqueFd::adopt(fd), t);  // owns: just opened
  if (!ns) {
    ns.assume_error().on(entry);
  }
  return ns;
}

// ---- meta.json: a flat JSON object, written and read here (no JSON library in the core).

inline void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  out += '"';
}

[[nodiscard]] inline std::string format_meta(const NamedSetMeta& m) {
  std::string out = "{\n  \"name\": ";
  json_string(out, m.name);
  out += ",\n  \"types\": [";
  bool first = true;
  for (NsType t : m.types) {
    out += first ? "" : ", ";
    json_string(out, nsfun::name(t));
    first = false;
  }
  out += "],\n  \"created\": ";
  json_string(out, m.created);
  out += ",\n  \"creator\": " + std::to_string(m.creator);
  out += ",\n  \"holder\": " + (m.holder ? std::to_string(*m.holder) : std::string("null"));
  out += ",\n  \"netns\": ";
  out += m.netns ? "true" : "false";
  out += "\n}\n";
  return out;
}

// A strict reader of the JSON meta.json holds: an object; strings, numbers, booleans, null,
// arrays and objects (those two skipped unless expected), nested at most 8 deep. It takes only
// what RFC 8259 (and nlohmann::json) takes, in unknown fields too: numbers without leading zeros
// or a bare sign, strings of valid UTF-8 with no raw control character, \u escapes with their
// surrogates paired. Known fields are stricter still (integers in range, no fraction).
class MetaParser {
 public:
  explicit MetaParser(std::string_view text) noexcept : s_(text) {}

  // Why it is not a valid meta.json; empty when `m` was filled.
  [[nodiscard]] std::string parse(NamedSetMeta& m) {
    bool have_types = false;
    bool have_netns = false;
    skip_ws();
    if (!eat('{')) {
      return "not a JSON object";
    }
    skip_ws();
    if (eat('}')) {
      return "no \"name\"";
    }
    bool have_name = false;
    while (true) {
      skip_ws();
      std::string key;
      if (!string(key)) {
        return "not valid JSON";
      }
      skip_ws();
      if (!eat(':')) {
        return "not valid JSON";
      }
      skip_ws();
      if (key == "name") {
        if (!string(m.name)) {
          return "\"name\" is not a string";
        }
        have_name = true;
      } else if (key == "created") {
        if (!string(m.created)) {
          return "\"created\" is not a string";
        }
        // Shown as it is by list and inspect: digits and ISO 8601's separators only, so that no
        // control character or escape sequence ever reaches a terminal from here.
        if (m.created.size() > 40 ||
            m.created.find_first_not_of("0123456789-:.+TZ") != std::string::npos) {
          return "\"created\" is not an ISO 8601 time";
        }
      } else if (key == "creator") {
        std::int64_t n = 0;
        if (!integer(n) || n < 0 || n >= 4294967295LL) {
          return "\"creator\" is not a uid";
        }
        m.creator = static_cast<uid_t>(n);
      } else if (key == "holder") {
        std::int64_t n = 0;
        if (literal("null")) {
          m.holder.reset();
        } else if (integer(n) && n > 0 && n <= pid_max_limit) {
          m.holder = static_cast<pid_t>(n);
        } else {
          return "\"holder\" is not a pid or null";
        }
      } else if (key == "netns") {
        if (literal("true")) {
          m.netns = true;
        } else if (literal("false")) {
          m.netns = false;
        } else {
          return "\"netns\" is not true or false";
        }
        have_netns = true;
      } else if (key == "types") {
        if (!types(m.types)) {
          return "\"types\" is not an array of namespace types";
        }
        have_types = true;
      } else if (!skip_value(0)) {
        return "not valid JSON";
      }
      skip_ws();
      if (eat('}')) {
        break;
      }
      if (!eat(',')) {
        return "not valid JSON";
      }
    }
    skip_ws();
    if (pos_ != s_.size()) {
      return "text after the JSON object";
    }
    if (!have_name) {
      return "no \"name\"";
    }
    if (!have_types) {
      return "no \"types\"";
    }
    // Written before "netns" was recorded: nsm always pinned net as /run/netns/NAME then.
    if (!have_netns) {
      m.netns = m.types.contains(NsType::net);
    }
    return {};
  }

 private:
  void skip_ws() noexcept {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool eat(char c) noexcept {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool literal(std::string_view word) noexcept {
    if (s_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  static int hex(char c) noexcept {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  bool string(std::string& out) {
    out.clear();
    if (!eat('"')) {
      return false;
    }
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') {
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        --pos_;
        if (!utf8(out)) {
          return false;
        }
        continue;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) {
        return false;
      }
      char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned v = 0;
          if (!hex4(v)) {
            return false;
          }
          // Kept as UTF-8: a high surrogate must be followed by an escaped low one, a low one
          // alone is refused (as nlohmann::json does).
          if (v >= 0xdc00 && v <= 0xdfff) {
            return false;
          }
          if (v >= 0xd800 && v <= 0xdbff) {
            unsigned low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xdc00 || low > 0xdfff) {
              return false;
            }
            v = 0x10000 + ((v - 0xd800) << 10U) + (low - 0xdc00);
          }
          if (v < 0x80) {
            out += static_cast<char>(v);
          } else if (v < 0x800) {
            out += static_cast<char>(0xc0 | (v >> 6));
            out += static_cast<char>(0x80 | (v & 0x3f));
          } else if (v < 0x10000) {
            out += static_cast<char>(0xe0 | (v >> 12));
            out += static_cast<char>(0x80 | ((v >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (v & 0x3f));
          } else {
            out += static_cast<char>(0xf0 | (v >> 18));
            out += static_cast<char>(0x80 | ((v >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((v >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (v & 0x3f));
          }
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool hex4(unsigned& v) noexcept {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = pos_ < s_.size() ? hex(s_[pos_++]) : -1;
      if (h < 0) {
        return false;
      }
      v = v * 16 + static_cast<unsigned>(h);
    }
    return true;
  }

  // One UTF-8 character of a string (the shortest form, no surrogate, at most U+10FFFF), copied.
  bool utf8(std::string& out) {
    const auto b0 = static_cast<unsigned char>(s_[pos_]);
    std::size_t len = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xbf;  // the range of the second byte
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      lo = b0 == 0xe0 ? 0xa0 : 0x80;
      hi = b0 == 0xed ? 0x9f : 0xbf;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      lo = b0 == 0xf0 ? 0x90 : 0x80;
      hi = b0 == 0xf4 ? 0x8f : 0xbf;
    } else {
      return false;
    }
    if (s_.size() - pos_ < len) {
      return false;
    }
    for (std::size_t i = 1; i < len; ++i) {
      const auto b = static_cast<unsigned char>(s_[pos_ + i]);
      if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) {
        return false;
      }
    }
    out.append(s_.substr(pos_, len));
    pos_ += len;
    return true;
  }

  bool digit() const noexcept { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

  // A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, whose magnitude a double
  // holds (nlohmann::json refuses one that overflows to infinity; one that underflows is 0).
  // `fraction` is set when it has a fraction or an exponent; `n` is its integer value when it
  // has neither and at most 18 digits (`digits` counts them).
  bool number(std::int64_t& n, bool& fraction, std::size_t& digits) noexcept {
    const std::size_t start = pos_;
    const bool negative = eat('-');
    n = 0;
    digits = 0;
    fraction = false;
    if (!digit()) {
      return false;
    }
    // The power of ten of the first non-zero digit, to tell an overflow from an underflow.
    long magnitude = 0;
    bool zero = true;
    if (s_[pos_] == '0') {
      ++pos_;
      digits = 1;
      if (digit()) {
        return false;  // a leading zero
      }
    } else {
      zero = false;
      while (digit()) {
        if (++digits <= 18) {
          n = n * 10 + (s_[pos_] - '0');
        }
        ++pos_;
      }
      magnitude = static_cast<long>(std::min<std::size_t>(digits, 100000)) - 1;
    }
    if (eat('.')) {
      fraction = true;
      if (!digit()) {
        return false;
      }
      for (long k = 1; digit(); ++k, ++pos_) {
        if (zero && s_[pos_] != '0') {
          zero = false;
          magnitude = -k;
        }
      }
    }
    if (eat('e') || eat('E')) {
      fraction = true;
      const bool minus = !eat('+') && eat('-');
      if (!digit()) {
        return false;
      }
      long e = 0;
      while (digit()) {
        e = std::min(e * 10 + (s_[pos_++] - '0'), 1000000L);
      }
      magnitude += minus ? -e : e;
    }
    if (negative) {
      n = -n;
    }
    if (!zero && magnitude > 300) {
      double value = 0;
      const char* first = s_.data() + start;
      const std::from_chars_result r = std::from_chars(first, s_.data() + pos_, value);
      if (r.ec == std::errc::result_out_of_range || std::isinf(value)) {
        return false;
      }
    }
    return true;
  }

  // A JSON number that is an integer with no fraction or exponent, at most 18 digits.
  bool integer(std::int64_t& n) noexcept {
    bool fraction = false;
    std::size_t digits = 0;
    return number(n, fraction, digits) && !fraction && digits <= 18;
  }

  bool types(NsTypeSet& out) {
    out = {};
    if (!eat('[')) {
      return false;
    }
    skip_ws();
    if (eat(']')) {
      return true;
    }
    while (true) {
      skip_ws();
      std::string t;
      if (!string(t)) {
        return false;
      }
      auto type = parse_ns_type(t);
      if (!type) {
        return false;
      }
      out.insert(type.value());
      skip_ws();
      if (eat(']')) {
        return true;
      }
      if (!eat(',')) {
        return false;
      }
    }
  }

  bool skip_value(int depth) {
    if (depth > 8) {
      return false;
    }
    skip_ws();
    std::string ignored;
    std::int64_t n = 0;
    if (pos_ >= s_.size()) {
      return false;
    }
    const char c = s_[pos_];
    if (c == '"') {
      return string(ignored);
    }
    if (c == '[' || c == '{') {
      const char close = c == '[' ? ']' : '}';
      ++pos_;
      skip_ws();
      if (eat(close)) {
        return true;
      }
      while (true) {
        skip_ws();
        if (close == '}') {
          if (!string(ignored)) {
            return false;
          }
          skip_ws();
          if (!eat(':')) {
            return false;
          }
        }
        if (!skip_value(depth + 1)) {
          return false;
        }
        skip_ws();
        if (eat(close)) {
          return true;
        }
        if (!eat(',')) {
          return false;
        }
      }
    }
    if (literal("true") || literal("false") || literal("null")) {
      return true;
    }
    bool fraction = false;
    std::size_t digits = 0;
    return number(n, fraction, digits);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// What makes a regular file unfit to be trusted as meta.json: another owner, group or world
// write permission, or another name (a hard link: whoever can write the file through that name
// changes the set's meta.json). Empty when it is fit.
[[nodiscard]] inline std::string meta_file_problem(const struct stat& st) {
  if (st.st_uid != ::geteuid()) {
    return "owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
           std::to_string(::geteuid()) + "; not used";
  }
  if ((st.st_mode & 022) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777U);
    return std::string((st.st_mode & 002) != 0 ? "world-writable" : "group-writable") + " (mode " +
           mode + "); not used";
  }
  if (st.st_nlink != 1) {
    return "a hard link (" + std::to_string(st.st_nlink) + " names); not used";
  }
  return {};
}

// Reads meta.json of an open set directory; the error's reason says what is wrong with it.
// Anything but a regular file is refused before it is opened (opening a device node can do
// something: arm a watchdog, rewind a tape; a FIFO blocks, a socket does not open at all), and
// the file opened must be the one looked at.
[[nodiscard]] inline result<NamedSetMeta> read_meta(const UniqueFd& set) {
  struct stat seen {};

  if (::fstatat(set.get(), meta_file, &seen, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::last_error("stat").on(meta_file);
  }
  if (S_ISLNK(seen.st_mode)) {
    return errno_error(EINVAL, "read").on(meta_file).because("a symbolic link; not followed");
  }
  if (!S_ISREG(seen.st_mode)) {
    return errno_error(EINVAL, "read").on(meta_file).because("not a regular file");
  }
  int fd = ::openat(set.get(), meta_file, open_flags);
  if (fd < 0) {
    return sys::last_error("open").on(meta_file);
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened

  struct stat st {};

  if (::fstat(file.get(), &st) < 0) {
    return sys::last_error("stat").on(meta_file);
  }
  if (!S_ISREG(st.st_mode) || st.st_dev != seen.st_dev || st.st_ino != seen.st_ino) {
    return errno_error(EINVAL, "read").on(meta_file).because("replaced while being read");
  }
  if (std::string problem = meta_file_problem(st); !problem.empty()) {
    return errno_error(EPERM, "read").on(meta_file).because(problem);
  }
  char buf[named_set_meta_max + 1];
  std::size_t len = 0;
  while (len < sizeof buf) {
    ssize_t n = ::read(file.get(), buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return sys::last_error("read").on(meta_file);
    }
    if (n == 0) {
      break;
    }
    len += static_cast<std::size_t>(n);
  }
  if (len > named_set_meta_max) {
    return errno_error(EFBIG, "read").on(meta_file).because("larger than 4096 bytes");
  }
  NamedSetMeta m;
  if (std::string why = MetaParser({buf, len}).parse(m); !why.empty()) {
    return errno_error(EINVAL, "read").on(meta_file).because(why);
  }
  return m;
}

[[nodiscard]] inline result<void> write_meta(const UniqueFd& set, const NamedSetMeta& m) {
  const std::string text = format_meta(m);
  int fd = ::openat(set.get(), meta_file,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    return sys::last_error("create").on(meta_file);
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(file.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::unlinkat(set.get(), meta_file, 0);
      return errno_error(err, "write").on(meta_file);
    }
    done += static_cast<std::size_t>(n);
  }
  return file.close();
}

[[nodiscard]] inline std::string now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---- the holder

[[nodiscard]] inline bool has_exited(const UniqueFd& pidfd) noexcept {
  // A pidfd polls readable once the process has exited, zombie or not.
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

// The last NSpid field of /proc/PID/status: the pid in the process's own pid namespace.
[[nodiscard]] inline long innermost_pid(pid_t pid) noexcept {
  sys::PathBuf path;
  path.add("/proc/").add(pid).add("/status");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return -1;
  }
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  char buf[8192];
  std::size_t len = 0;
  while (len < sizeof buf - 1) {
    ssize_t n = ::read(file.get(), buf + len, sizeof buf - 1 - len);
    if (n <= 0) {
      break;
    }
    len += static_cast<std::size_t>(n);
  }
  buf[len] = '\0';
  const char* line = std::strstr(buf, "\nNSpid:");
  if (line == nullptr) {
    return -1;
  }
  line += 7;
  const char* end = std::strchr(line, '\n');
  std::string_view fields(
      line, end != nullptr ? static_cast<std::size_t>(end - line) : std::strlen(line));
  while (!fields.empty() && (fields.back() == ' ' || fields.back() == '\t')) {
    fields.remove_suffix(1);
  }
  const std::size_t at = fields.find_last_of(" \t");
  std::string_view last = at == std::string_view::npos ? fields : fields.substr(at + 1);
  long n = 0;
  for (char c : last) {
    if (c < '0' || c > '9') {
      return -1;
    }
    n = n * 10 + (c - '0');
  }
  return last.empty() ? -1 : n;
}

// True when `pidns` is the caller's pid namespace or one of its ancestors (a pin of the host's).
[[nodiscard]] inline bool is_own_or_ancestor(const NsFd& pidns) noexcept {
  auto cur = NsFd::current(NsType::pid);
  for (int depth = 0; cur && depth < 40; ++depth) {
    if (cur.value().identity() == pidns.identity()) {
      return true;
    }
    cur = cur.value().parent();
  }
  return false;
}

// A pidfd on `pid` when it is proven to be PID 1 of the pid namespace `pidns` (which the set
// pinned, and which is neither the caller's nor an ancestor) and, when `mntns` is given, in the
// set's mount namespace (where create() started it); otherwise why not ("holder 42 is gone").
[[nodiscard]] inline result<UniqueFd> prove_holder(pid_t pid,
                                                   const NsFd* pidns,
                                                   const NsFd* mntns = nullptr) {
  const std::string who = "holder " + std::to_string(pid);
  auto pidfd = pidfd_open(pid);
  if (!pidfd || has_exited(pidfd.value())) {
    return errno_error(ESRCH, "check").because(who + " is gone");
  }
  if (pidns == nullptr) {
    return errno_error(ESRCH, "check").because(who + ": no pid namespace is pinned to prove it");
  }
  if (is_own_or_ancestor(*pidns)) {
    return errno_error(EPERM, "check")
        .because("the pinned pid namespace is the caller's own or an ancestor, not the set's");
  }
  auto theirs = NsFd::open_pidfd(pidfd.value().ref(), NsLink::pid);
  if (!theirs) {
    return errno_error(ESRCH, "check").because(who + " is gone");
  }
  if (!(theirs.value().identity() == pidns->identity())) {
    return errno_error(ESRCH, "check").because(who + " is not in the set's pid namespace");
  }
  if (mntns != nullptr) {
    auto mnt = NsFd::open_pidfd(pidfd.assume_value().ref(), NsLink::mnt);
    if (!mnt) {
      return errno_error(ESRCH, "check").because(who + " is gone");
    }
    if (!(mnt.assume_value().identity() == mntns->identity())) {
      return errno_error(ESRCH, "check").because(who + " is not in the set's mount namespace");
    }
  }
  const long inner = innermost_pid(pid);
  // Read through /proc/PID: still the same process only if the pidfd has not exited since.
  if (has_exited(pidfd.value())) {
    return errno_error(ESRCH, "check").because(who + " is gone");
  }
  if (inner != 1) {
    return errno_error(ESRCH, "check").because(who + " is not PID 1 of the set's pid namespace");
  }
  return std::move(pidfd).value();
}

// The set's holder found through its pinned pid namespace, whatever meta.json says (a create
// killed before it wrote meta.json, a "holder" field changed by hand): the process that is PID 1
// there, proven as prove_holder() does. Scans /proc (a stat of each process's ns/pid first).
struct FoundHolder {
  pid_t pid = 0;
  UniqueFd pidfd;
};

[[nodiscard]] inline std::optional<FoundHolder> find_holder(const NsFd& pidns, const NsFd* mntns) {
  if (is_own_or_ancestor(pidns)) {
    return std::nullopt;
  }
  auto proc = DirReader::open(AT_FDCWD, "/proc");
  if (!proc) {
    return std::nullopt;
  }
  const Namespace want = pidns.identity();
  while (const dirent* e = proc.assume_value().next()) {
    long pid = 0;
    const char* c = e->d_name;
    for (; *c >= '0' && *c <= '9' && pid <= pid_max_limit; ++c) {
      pid = pid * 10 + (*c - '0');
    }
    if (*c != '\0' || pid <= 0 || pid > pid_max_limit) {
      continue;
    }
    sys::PathBuf link;
    link.add("/proc/").add(e->d_name).add("/ns/pid");

    struct stat st {};

    if (::stat(link.c_str(), &st) < 0 || st.st_ino != want.ino() ||
        (want.dev() != 0 && st.st_dev != want.dev())) {
      continue;
    }
    if (auto pidfd = prove_holder(static_cast<pid_t>(pid), &pidns, mntns)) {
      return FoundHolder{static_cast<pid_t>(pid), std::move(pidfd).assume_value()};
    }
  }
  return std::nullopt;
}

// ---- views

// Why /run/netns/NAME no longer is the set's net namespace `net`; empty when it is.
[[nodiscard]] inline std::string netns_problem(std::string_view name, const Namespace& net) {
  const std::string path = std::string(netns::run_dir) + "/" + std::string(name);
  int dir = ::open(netns::run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    return "net: " + path + " is gone (ip netns del?)";
  }
  UniqueFd netns_dir = UniqueFd::adopt(dir);  // owns: just opened
  const std::string entry(name);

  struct stat st {};

  if (::fstatat(netns_dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    return "net: " + path + " is gone (ip netns del?)";
  }
  if (!S_ISREG(st.st_mode)) {
    return "net: " + path + " is not a pin";
  }
  int fd = ::openat(netns_dir.get(), entry.c_str(), open_flags);
  if (fd < 0) {
    return "net: " + path + " is gone (ip netns del?)";
  }
  auto ns = NsFd::adopt(UniqueFd::adopt(fd), NsType::net);  // owns: just opened
  if (!ns) {
    return "net: " + path + " is not pinned (ip netns del?)";
  }
  if (!(ns.value().identity() == net)) {
    return "net: " + path + " is another namespace";
  }
  return {};
}

[[nodiscard]] inline NamedSetPin pin_view(const NsFd& ns) {
  NamedSetPin pin;
  pin.type = ns.type();
  pin.pinned = true;
  pin.ns = ns.identity();
  if (auto owner = ns.owner()) {
    pin.owner = owner.value().identity().ino();
  }
  return pin;
}

[[nodiscard]] inline NamedSetInfo view(const UniqueFd& set, std::string_view name) {
  NamedSetInfo v;
  v.name = std::string(name);
  auto meta = read_meta(set);
  NsTypeSet files;
  for (NsType t : all_ns_types) {
    struct stat st {};

    const std::string entry(nsfun::name(t));
    if (::fstatat(set.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      files.insert(t);
    }
  }
  if (meta) {
    v.meta = std::move(meta).value();
    v.types = v.meta->types;
  } else {
    v.types = files;
    if (meta.error() == std::errc::no_such_file_or_directory) {
      v.problems.emplace_back(std::string(meta_file) + " is missing");  // half-made
    } else {
      const error& e = meta.error();
      v.problems.emplace_back(std::string(meta_file) + ": " +
                              (e.reason().empty() ? e.code.message() : std::string(e.reason())));
    }
  }
  std::vector<std::string> unpinned;
  std::vector<std::string> not_pins;
  std::optional<NsFd> pid_pin;
  std::optional<NsFd> mnt_pin;
  std::optional<Namespace> net_ns;
  for (NsType t : v.types | files) {
    NamedSetPin pin;
    pin.type = t;
    if (files.contains(t)) {
      // An unmounted pin (the empty file left) is not pinned.
      if (auto ns = open_pin(set, t)) {
        pin = pin_view(ns.value());
        if (t == NsType::pid) {
          pid_pin = std::move(ns).value();
        } else if (t == NsType::mnt) {
          mnt_pin = std::move(ns).value();
        }
        if (t == NsType::net) {
          net_ns = pin.ns;
        }
      } else if (!ns.error().reason().empty()) {
        not_pins.emplace_back(std::string(nsfun::name(t)) + ": " +
                              std::string(ns.error().reason()));
      }
    }
    if (!pin.pinned) {
      unpinned.emplace_back(nsfun::name(t));
    }
    v.pins.push_back(pin);
  }
  v.problems.insert(v.problems.end(), not_pins.begin(), not_pins.end());
  if (!unpinned.empty()) {
    std::string text = "not pinned: ";
    for (std::size_t i = 0; i < unpinned.size(); ++i) {
      text += (i > 0 ? "," : "") + unpinned[i];
    }
    v.problems.push_back(std::move(text));
  }
  if (v.meta && v.meta->holder) {
    if (auto proven = prove_holder(*v.meta->holder, pid_pin ? &*pid_pin : nullptr,
                                   mnt_pin ? &*mnt_pin : nullptr);
        !proven) {
      v.problems.emplace_back(proven.error().reason());
    }
  }
  if (v.meta && v.meta->netns && net_ns) {
    if (std::string problem = netns_problem(name, *net_ns); !problem.empty()) {
      v.problems.push_back(std::move(problem));
    }
  }
  return v;
}

[[nodiscard]] inline result<UniqueFd> open_netns_pin(std::string_view name) {
  if (!is_valid_ns_name(name)) {
    return detail::invalid_name_error("netns name", name);
  }
  const std::string path = std::string(netns::run_dir) + "/" + std::string(name);
  int dir = ::open(netns::run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    return sys::last_error("open").on(path);
  }
  UniqueFd netns_dir = UniqueFd::adopt(dir);  // owns: just opened
  const std::string entry(name);

  struct stat st {};

  if (::fstatat(netns_dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    return sys::last_error("open").on(path);
  }
  if (!S_ISREG(st.st_mode)) {
    return nsfun_error(errc::not_a_namespace, "open")
        .on(path)
        .because(S_ISLNK(st.st_mode) ? "a symbolic link; not followed" : "not a regular file");
  }
  int fd = ::openat(netns_dir.get(), entry.c_str(), open_flags);
  if (fd < 0) {
    return sys::last_error("open").on(path);
  }
  return UniqueFd::adopt(fd);  // owns: just opened
}

// Whether the directory `dir` has an entry `entry` (of any kind; not followed).
[[nodiscard]] inline bool has_entry(const UniqueFd& dir, const char* entry) noexcept {
  struct stat st {};

  return ::fstatat(dir.get(), entry, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// Removes /run/netns/NAME when it is what a killed `ip netns add`-like step leaves: an empty
// regular file that nothing is mounted on (`ip netns list` says "Peer netns reference is
// invalid" of it). A pin of any namespace, or anything else, is left alone.
[[nodiscard]] inline result<void> remove_netns_leftover(std::string_view name) {
  const std::string path = std::string(netns::run_dir) + "/" + std::string(name);
  int dir = ::open(netns::run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    return success();
  }
  UniqueFd netns_dir = UniqueFd::adopt(dir);  // owns: just opened
  const std::string entry(name);

  struct stat st {};

  struct stat dir_st {};

  if (::fstatat(netns_dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      ::fstat(netns_dir.get(), &dir_st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0 ||
      st.st_dev != dir_st.st_dev) {
    return success();
  }
  auto mounted = is_mount_point(path.c_str());
  if (!mounted || mounted.assume_value()) {
    return success();
  }
  if (::unlinkat(netns_dir.get(), entry.c_str(), 0) < 0 && errno != ENOENT) {
    return sys::last_error("remove").on(path);
  }
  return success();
}

// Undoes the private self-bind of BASE and removes BASE once no set is left in it, under the
// lock on BASE (a create that is making BASE's first set waits, then finds BASE gone and makes
// it again). Self-binds stacked by an older nsfun (two first creates at once) all go. Best
// effort: also what a destroy of a set that is already gone does, so that a destroy killed
// between its last rmdir and this leaves nothing that another destroy does not tidy.
inline void tidy_base(const std::string& base) noexcept {
  auto dir = open_own_dir(AT_FDCWD, base.c_str(), base);
  if (!dir || !lock_base(dir.assume_value(), base)) {
    return;
  }
  {
    auto reader = DirReader::open(dir.assume_value().get(), ".");
    if (!reader || reader.assume_value().next() != nullptr) {
      return;
    }
  }
  // Only a self-bind of the file system below (as open_base_locked makes) is undone.
  const std::string_view path(base);
  const std::size_t slash = path.find_last_of('/');
  sys::PathBuf parent;
  parent.add(slash == 0 || slash == std::string_view::npos ? std::string_view("/")
                                                           : path.substr(0, slash));
  for (int depth = 0; depth < 16; ++depth) {
    auto self = mount_of(base.c_str());
    auto below = mount_of(parent.c_str());
    auto mp = is_mount_point(base.c_str());
    if (!self || !below || !mp || !mp.assume_value() ||
        self.assume_value().major != below.assume_value().major ||
        self.assume_value().minor != below.assume_value().minor ||
        ::umount2(base.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
      break;
    }
  }
  ::rmdir(base.c_str());
}

// The holder of a set being made (spawned as Command(fn), PID 1 of the set's pid namespace):
// it waits at a gate, a pipe whose write end only create() holds, and stays only when create()
// opens the gate ('c'), which it does once meta.json records it. Any other end of create() (an
// error, a return, SIGKILL at any point) closes the write end: the holder reads end-of-file and
// exits, and the kernel ends its pid namespace with it, so no holder outlives a set that does
// not name it. Runs in the child: async-signal-safe calls only.
[[noreturn]] inline void gated_hold_stay() noexcept {
  // As Command::hold(): keep no fd beyond 0, 1 and 2, reap every orphan, until killed.
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::sigwaitinfo(&set, nullptr);
  }
}

// The gate's read end is the holder's fd 3 (Command::redirect).
inline constexpr int holder_gate_fd = 3;

// `fd` moved to a number above every fd a holder's redirects make (0 to 3).
[[nodiscard]] inline result<UniqueFd> above_redirects(UniqueFd fd) noexcept {
  int high = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10);
  if (high < 0) {
    return sys::last_error("fcntl F_DUPFD_CLOEXEC");
  }
  return UniqueFd::adopt(high);  // owns: just made
}

inline int gated_hold(int gate_w) noexcept {
  ::close(gate_w);  // this copy of the write end would keep the gate from ever reading EOF
  char go = 0;
  ssize_t n = 0;
  while ((n = ::read(holder_gate_fd, &go, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1 || go != 'c') {
    return 0;
  }
  gated_hold_stay();
}

// What create() made so far, undone by the destructor unless committed.
class Making {
 public:
  explicit Making(std::string base) noexcept : base_(std::move(base)) {}

  Making(const Making&) = delete;
  Making& operator=(const Making&) = delete;

  ~Making() {
    if (committed_) {
      return;
    }
    // The holder first (Child's destructor kills and reaps it), then the pins.
    holder = Child();
    netns_pin = Pin();
    for (Pin& p : pins) {
      p = Pin();
    }
    if (set && meta_written) {
      ::unlinkat(set.get(), meta_file, 0);
    }
    set = UniqueFd();
    if (!base_fd) {
      return;  // BASE was refused: not ours to tidy
    }
    if (!dir.empty()) {
      ::unlinkat(base_fd.get(), dir.c_str(), AT_REMOVEDIR);
    }
    base_fd = UniqueFd();
    tidy_base(base_);
  }

  void commit() noexcept {
    committed_ = true;
    netns_pin.keep();
    for (Pin& p : pins) {
      p.keep();
    }
  }

  // Tells the holder to stay (gated_hold). Errors: the holder is gone.
  [[nodiscard]] result<void> open_gate() noexcept {
    const char go = 'c';
    ssize_t n = 0;
    while ((n = ::write(gate.get(), &go, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) {
      return errno_error(n < 0 ? errno : EIO, "start holder").because("cannot open its gate");
    }
    gate = UniqueFd();
    gate_r = UniqueFd();
    // It may have died before it read the gate: then the set has no holder.
    pollfd p{holder.pidfd().get(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0) {
      return errno_error(ESRCH, "start holder").because("it exited");
    }
    return success();
  }

  UniqueFd base_fd;
  std::string dir;  // the set's entry in BASE, once made
  UniqueFd set;
  std::array<Pin, ns_type_count> pins;
  Pin netns_pin;
  Child holder;
  UniqueFd gate;    // the holder's gate (gated_hold), while it is closed
  UniqueFd gate_r;  // its read end
  bool meta_written = false;

 private:
  std::string base_;
  bool committed_ = false;
};

// Restores the CPU affinity the caller had (create's retries move it from CPU to CPU).
class AffinityGuard {
 public:
  AffinityGuard() noexcept { saved_ = ::sched_getaffinity(0, sizeof cpus_, &cpus_) == 0; }

  AffinityGuard(const AffinityGuard&) = delete;
  AffinityGuard& operator=(const AffinityGuard&) = delete;

  ~AffinityGuard() {
    if (moved_) {
      (void)::sched_setaffinity(0, sizeof cpus_, &cpus_);
    }
  }

  // Runs on another of the allowed CPUs, the `attempt`-th (round robin).
  void next_cpu(int attempt) noexcept {
    if (!saved_ || CPU_COUNT(&cpus_) < 2) {
      return;
    }
    int nth = attempt % CPU_COUNT(&cpus_);
    for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &cpus_) && nth-- == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        moved_ = ::sched_setaffinity(0, sizeof one, &one) == 0 || moved_;
        return;
      }
    }
  }

 private:
  cpu_set_t cpus_{};
  bool saved_ = false;
  bool moved_ = false;
};

// The pin path of `entry` inside the open directory `dir`, through /proc/self/fd (no lookup of
// the directory's own path).
[[nodiscard]] inline std::string entry_path(const UniqueFd& dir, std::string_view entry) {
  return "/proc/self/fd/" + std::to_string(dir.get()) + "/" + std::string(entry);
}

[[nodiscard]] inline result<void> create(std::string_view name,
                                         const NamedSetOptions& o,
                                         NamedSetMeta& meta,
                                         NsFdSet& out) {
  if (!NamedSet::is_valid_name(name)) {
    return check_name("create set", name);
  }
  NsTypeSet types = o.types;
  if (types.empty()) {
    return nsfun_error(errc::empty_namespace_type_list, "create set").on(name);
  }
  const bool with_pid = types.contains(NsType::pid);
  if (with_pid) {
    types.insert(NsType::mnt);  // for the fresh /proc of the new pid namespace
  }
  std::optional<UserMap> map;
  if (types.contains(NsType::user) && o.map_user) {
    if (o.user_map) {
      map = *o.user_map;
    } else {
      NSFUN_TRY(auto root, with_context(UserMap::root_is(::getuid(), ::getgid()), "map root"));
      map = std::move(root);
    }
  }
  const std::string entry(name);
  // Checked before anything is made (mkdirat below decides).
  if (auto existing = open_base(o.base)) {
    struct stat st {};

    if (::fstatat(existing.value().get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return set_error(EEXIST, "create set", name, "already exists");
    }
  }
  const bool with_netns = o.netns && types.contains(NsType::net);
  if (with_netns) {
    const std::string path = std::string(netns::run_dir) + "/" + std::string(name);

    struct stat st {};

    if (::lstat(path.c_str(), &st) == 0) {
      return set_error(EEXIST, "create set", name,
                       "exists in /run/netns (made by ip netns add); choose another name or 'ip "
                       "netns del " +
                           std::string(name) + "'");
    }
  }

  Making making(o.base);
  UniqueFd base_lock;  // released before `making` tidies (which takes the lock itself)
  {
    NSFUN_TRY(LockedBase locked, open_base_locked(o.base));
    making.base_fd = std::move(locked.dir);
    base_lock = std::move(locked.lock);
  }
  if (::mkdirat(making.base_fd.get(), entry.c_str(), 0700) < 0) {
    if (errno == EEXIST) {
      return set_error(EEXIST, "create set", name, "already exists");
    }
    return sys::last_error("mkdir").on(o.base, "/", name);
  }
  making.dir = entry;
  base_lock = UniqueFd();  // BASE is not empty now: no destroy removes it
  NSFUN_TRY(making.set, open_set_dir(making.base_fd, o.base, name));

  // Make the namespaces: a holder for a pid namespace (which lives only while its init does) or
  // when a map must be written; acquire() otherwise.
  NsFdSet fds;
  auto make = [&]() -> result<void> {
    if (with_pid || map) {
      // Every fd the child's redirects take is above them (F_DUPFD_CLOEXEC from 10), so that no
      // redirect overwrites another one's source (fd 3 as /dev/null, say) in the child.
      int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
      if (null_fd < 0) {
        return sys::last_error("open").on("/dev/null");
      }
      NSFUN_TRY(UniqueFd devnull, above_redirects(UniqueFd::adopt(null_fd)));  // owns: opened
      int gate[2] = {-1, -1};
      if (::pipe2(gate, O_CLOEXEC) < 0) {
        return sys::last_error("pipe").on("holder gate");
      }
      UniqueFd gate_r0 = UniqueFd::adopt(gate[0]);  // owns: just made
      UniqueFd gate_w0 = UniqueFd::adopt(gate[1]);  // owns: just made
      NSFUN_TRY(UniqueFd gate_r, above_redirects(std::move(gate_r0)));
      NSFUN_TRY(UniqueFd gate_w, above_redirects(std::move(gate_w0)));
      Command cmd([w = gate_w.get()]() noexcept { return gated_hold(w); });
      for (int target = 0; target <= 2; ++target) {
        cmd.redirect(target, devnull.ref());
      }
      cmd.redirect(holder_gate_fd, gate_r.ref());
      cmd.namespaces(types).die_with_parent(false);
      if (with_pid) {
        cmd.mount_proc();
      }
      if (map) {
        cmd.user_map(*map);
      }
      NSFUN_TRY(Child child, with_context(spawn(cmd), "start holder"));
      making.holder = std::move(child);   // kills and reaps an earlier attempt's holder
      making.gate = std::move(gate_w);    // the holder lives on only once this says so
      making.gate_r = std::move(gate_r);  // kept: a write to a dead holder's gate is no SIGPIPE
      NSFUN_TRY(fds, with_context(NsFdSet::open_pidfd(making.holder.pidfd(), types),
                                  "open namespaces of the holder"));
    } else {
      NSFUN_TRY(fds, with_context(acquire(types), "create namespaces"));
    }
    return success();
  };

  // The mount namespace is pinned first, and made again when the kernel refuses it (EINVAL).
  AffinityGuard affinity;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) {
      // Namespace ids come from per-CPU batches on recent kernels: try another CPU.
      affinity.next_cpu(attempt);
    }
    NSFUN_TRYV(make());
    if (!types.contains(NsType::mnt)) {
      break;
    }
    auto pinned = Pin::create(*fds.get(NsType::mnt), entry_path(making.set, "mnt"));
    if (pinned) {
      making.pins[static_cast<std::size_t>(NsType::mnt)] = std::move(pinned).value();
      break;
    }
    if (attempt == 16 || pinned.error() != std::errc::invalid_argument) {
      return std::move(pinned).as_failure();
    }
  }

  for (NsType t : types - NsTypeSet{NsType::mnt}) {
    const NsFd* ns = fds.get(t);
    if (ns == nullptr) {
      return errno_error(ENOENT, "create set")
          .on(name)
          .because("no ", nsfun::name(t), " namespace was made");
    }
    NSFUN_TRY(making.pins[static_cast<std::size_t>(t)],
              Pin::create(*ns, entry_path(making.set, nsfun::name(t))));
  }

  if (with_netns) {
    NSFUN_TRY(NsFd copy, fds.get(NsType::net)->clone());
    NSFUN_TRY(auto net, NetNs::from(std::move(copy)));
    NSFUN_TRYV(netns::attach(name, net));
    NSFUN_TRY(making.netns_pin, Pin::adopt(std::string(netns::run_dir) + "/" + std::string(name)));
  }

  meta.name = entry;
  meta.types = types;
  meta.created = now_iso8601();
  meta.creator = ::getuid();
  meta.netns = with_netns;
  if (with_pid) {
    meta.holder = making.holder.pid();
  }
  NSFUN_TRYV(write_meta(making.set, meta));  // removes a partial file itself
  making.meta_written = true;

  if (with_pid) {
    // meta.json names the holder now: let it stay (without this, it exits when create() ends).
    NSFUN_TRYV(making.open_gate());
    making.holder.detach();
  } else if (making.holder) {
    (void)making.holder.kill();
    (void)making.holder.wait();
  }
  out = std::move(fds);
  making.commit();
  return success();
}

}  // namespace nsfun::detail::named_set

namespace nsfun {

NSFUN_INLINE bool NamedSet::is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") {
    return false;
  }
  return std::all_of(name.begin(), name.end(), detail::named_set::name_char);
}

NSFUN_INLINE result<NamedSet> NamedSet::create(std::string_view name,
                                               const NamedSetOptions& options) noexcept {
  try {
    NamedSet set;
    NSFUN_TRYV(detail::named_set::create(name, options, set.meta_, set.pins_));
    return set;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "create set").on(name);
  }
}

NSFUN_INLINE result<NamedSet> NamedSet::open(std::string_view name,
                                             std::string_view base) noexcept {
  namespace ns = detail::named_set;
  if (!is_valid_name(name)) {
    return ns::check_name("open set", name);
  }
  try {
    NSFUN_TRY(ns::OpenedSet opened, ns::open_existing_set(std::string(base), name));
    const UniqueFd& set_dir = opened.dir;
    NamedSet set;
    if (auto meta = ns::read_meta(set_dir)) {
      set.meta_ = std::move(meta).value();
    }
    set.meta_.name = std::string(name);
    for (NsType t : all_ns_types) {
      struct stat st {};

      const std::string entry(nsfun::name(t));
      if (::fstatat(set_dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        continue;
      }
      NSFUN_TRY(NsFd pin, with_context(ns::open_pin(set_dir, t), "open set ", name));
      set.pins_.insert(std::move(pin));
    }
    if (set.pins_.empty()) {
      return ns::set_error(ESRCH, "open set", name,
                           "no namespaces are pinned (destroy it to clean it up)");
    }
    if (set.meta_.types.empty()) {
      set.meta_.types = set.pins_.types();
    }
    return set;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "open set").on(name);
  }
}

NSFUN_INLINE result<NamedSet> NamedSet::open_netns(std::string_view name) noexcept {
  try {
    NSFUN_TRY(UniqueFd fd, detail::named_set::open_netns_pin(name));
    NSFUN_TRY(NsFd net, with_context(NsFd::adopt(std::move(fd), NsType::net), "open ",
                                     netns::run_dir, "/", name));
    NamedSet set;
    set.meta_.name = std::string(name);
    set.meta_.types = {NsType::net};
    set.meta_.netns = true;
    set.pins_.insert(std::move(net));
    return set;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "open netns").on(name);
  }
}

NSFUN_INLINE result<NamedSetInfo> NamedSet::inspect(std::string_view name,
                                                    std::string_view base) noexcept {
  namespace ns = detail::named_set;
  if (!is_valid_name(name)) {
    return ns::check_name("inspect set", name);
  }
  try {
    NSFUN_TRY(ns::OpenedSet opened, ns::open_existing_set(std::string(base), name));
    return ns::view(opened.dir, name);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "inspect set").on(name);
  }
}

NSFUN_INLINE result<NamedSetInfo> NamedSet::inspect_netns(std::string_view name) noexcept {
  try {
    NSFUN_TRY(NamedSet set, open_netns(name));
    NamedSetInfo v;
    v.name = std::string(name);
    v.types = {NsType::net};
    v.from_netns = true;
    v.pins.push_back(detail::named_set::pin_view(*set.pins().get(NsType::net)));
    return v;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "inspect netns").on(name);
  }
}

NSFUN_INLINE result<std::vector<NamedSetInfo>> NamedSet::list(std::string_view base) noexcept {
  namespace ns = detail::named_set;
  try {
    std::vector<NamedSetInfo> out;
    const std::string base_path(base);
    auto base_fd = ns::open_base(base_path);
    if (!base_fd && base_fd.error() == std::errc::no_such_file_or_directory) {
      return out;
    }
    NSFUN_TRY(UniqueFd dir, std::move(base_fd));
    std::vector<std::string> names;
    {
      auto reader = detail::DirReader::open(dir.get(), ".");
      if (!reader) {
        return std::move(reader.assume_error()).on(base_path);
      }
      while (const dirent* e = reader.value().next()) {
        if (is_valid_name(e->d_name) &&
            (e->d_type == DT_DIR || e->d_type == DT_LNK || e->d_type == DT_UNKNOWN)) {
          names.emplace_back(e->d_name);
        }
      }
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      auto set_dir = ns::open_set_dir(dir, base_path, name);
      if (set_dir) {
        out.push_back(ns::view(set_dir.value(), name));
      } else if (set_dir.error() != std::errc::no_such_file_or_directory &&
                 set_dir.error() != std::errc::not_a_directory) {
        // Another owner's, a symbolic link, …: listed, never used.
        NamedSetInfo v;
        v.name = name;
        v.problems.emplace_back(set_dir.error().reason().empty()
                                    ? set_dir.error().message()
                                    : std::string(set_dir.error().reason()));
        out.push_back(std::move(v));
      }
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "list sets").on(base);
  }
}

NSFUN_INLINE result<void> NamedSet::destroy(std::string_view name, std::string_view base) noexcept {
  namespace ns = detail::named_set;
  if (!is_valid_name(name)) {
    return ns::check_name("destroy set", name);
  }
  try {
    const std::string base_path(base);
    auto base_fd = ns::open_base(base_path);
    if (!base_fd && base_fd.error() == std::errc::no_such_file_or_directory) {
      return ns::set_error(ENOENT, "open set", name, "no such named namespace set");
    }
    NSFUN_TRY(UniqueFd dir, std::move(base_fd));
    const std::string entry(name);
    {
      auto opened = ns::open_set_dir(dir, base_path, name);
      if (!opened && opened.error() == std::errc::no_such_file_or_directory) {
        // Gone, perhaps by a destroy killed before it tidied BASE: tidy it now (when empty).
        dir = UniqueFd();
        ns::tidy_base(base_path);
        return std::move(opened).as_failure();
      }
      NSFUN_TRY(UniqueFd set_dir, std::move(opened));
      auto meta = ns::read_meta(set_dir);

      // Pins that no longer open (a stale or half-made set) are still removed below.
      NsFdSet pins;
      for (NsType t : all_ns_types) {
        if (auto pin = ns::open_pin(set_dir, t)) {
          pins.insert(std::move(pin).value());
        }
      }

      // The holder: the one meta.json names when it is proven, else the PID 1 of the pinned pid
      // namespace (meta.json may be missing or wrong: a killed create, a field changed by hand).
      std::optional<ns::FoundHolder> holder;
      if (const NsFd* pidns = pins.get(NsType::pid)) {
        const NsFd* mntns = pins.get(NsType::mnt);
        if (meta && meta.assume_value().holder) {
          const pid_t pid = *meta.assume_value().holder;
          if (auto pidfd = ns::prove_holder(pid, pidns, mntns)) {
            holder = ns::FoundHolder{pid, std::move(pidfd).assume_value()};
          }
        }
        if (!holder) {
          holder = ns::find_holder(*pidns, mntns);
        }
      }
      if (holder) {
        if (auto r = pidfd_send_signal(holder->pidfd.ref(), SIGKILL, holder->pid);
            !r && r.error() != std::errc::no_such_process) {
          return with_context(std::move(r), "destroy set ", name);
        }
        pollfd p{holder->pidfd.get(), POLLIN, 0};
        (void)::poll(&p, 1, 5000);
      }

      // /run/netns/NAME when it is the set's net namespace, or the empty file that a create or
      // destroy killed between the file and its mount left, when the set made one (meta.json
      // says so, or there is none and the set has a net pin).
      const NsFd* net = pins.get(NsType::net);
      if (net != nullptr && ns::netns_problem(name, net->identity()).empty()) {
        NSFUN_TRYV(with_context(netns::remove(name), "destroy set ", name));
      } else if (meta ? meta.assume_value().netns : ns::has_entry(set_dir, "net")) {
        NSFUN_TRYV(with_context(ns::remove_netns_leftover(name), "destroy set ", name));
      }
      pins = {};

      for (NsType t : all_ns_types) {
        struct stat st {};

        const std::string type(nsfun::name(t));
        if (::fstatat(set_dir.get(), type.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
          continue;
        }
        if (S_ISREG(st.st_mode)) {
          NSFUN_TRYV(with_context(unpin(ns::entry_path(set_dir, type).c_str()), "destroy set ",
                                  name, ": unpin ", type));
        } else if (::unlinkat(set_dir.get(), type.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) <
                       0 &&
                   errno != ENOENT) {
          return detail::sys::last_error("remove").on(base_path, "/", name, "/", type);
        }
      }
      if (::unlinkat(set_dir.get(), ns::meta_file, 0) < 0 && errno != ENOENT) {
        return detail::sys::last_error("remove").on(base_path, "/", name, "/", ns::meta_file);
      }
    }
    if (::unlinkat(dir.get(), entry.c_str(), AT_REMOVEDIR) < 0) {
      return detail::sys::last_error("remove").on(base_path, "/", name);
    }
    dir = UniqueFd();
    ns::tidy_base(base_path);
    return success();
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "destroy set").on(name);
  }
}

}  // namespace nsfun
