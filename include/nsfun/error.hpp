// SPDX-License-Identifier: MIT
// nsfun – errors as values: nsfun::error, nsfun::result<T>, nsfun::errc and NSFUN_TRY.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <errno.h>
#include <sys/resource.h>

#include <boost/outcome/std_result.hpp>

#include <nsfun/config.hpp>

namespace nsfun {

/// Conditions nsfun reports that are not an errno value.
enum class errc {
  not_a_namespace = 1,            ///< the file is not an nsfs namespace file
  wrong_namespace_type,           ///< a namespace, but not of the type asked for
  unknown_namespace_type,         ///< a type name (or CLONE_NEW* flag) nsfun does not know
  empty_namespace_type_list,      ///< a type list with no type in it
  unsupported_namespace_type,     ///< the running kernel has no such namespace type
  proc_not_mounted,               ///< /proc is not mounted where nsfun needs it
  own_user_namespace,             ///< setns into the user namespace the caller is already in
  threaded_user_namespace,        ///< a user namespace cannot be entered by a multithreaded process
  user_namespace_not_restorable,  ///< a scope guard cannot leave a user namespace again
  pid_namespace_needs_process,    ///< a new pid namespace exists only once a process is in it
  invalid_id_map,     ///< a uid/gid map that does not parse or that the kernel would refuse
  invalid_name,       ///< a name that is not a safe single path component
  no_parent,          ///< the namespace has no parent visible to the caller
  child_failed,       ///< a helper child process died without reporting a result
  namespace_not_new,  ///< a setting that applies inside a namespace the process neither makes
                      ///< nor joins (it would change the caller's own, e.g. the host's)
  controller_not_available,  ///< a cgroup controller that is not in the cgroup2 hierarchy, or
                             ///< that the parent cgroup does not enable for its children
};

/// The error category of nsfun::errc ("nsfun").
[[nodiscard]] const std::error_category& nsfun_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), nsfun_category()};
}

/// What went wrong, on what, and why.
///
/// - `code`: the errno value (generic category) or an nsfun::errc; compare it with
///   `e == std::errc::…` or `e == nsfun::errc::…`.
/// - `what`: the step that failed, always a string literal ("open", "setns", "RTM_NEWLINK").
/// - object(): what the step failed on: a path, a pid, a name, an interface
///   ("/proc/4242/ns/net", "veth0", "10.0.0.1/24 on nsft0").
/// - reason(): a more precise reason than the code's message, which it replaces when printed
///   ("expected net, got uts", "missing count").
/// - note(): the kernel's or a tool's own words, printed after the message in parentheses (a
///   netlink extended ack such as "ipv4: Device not found").
/// - context(): what the caller was doing, added while the error travels up
///   ("create set web"); each layer's context goes in front of the last.
///
/// message() and `fmt::format("{}", e)` print
/// `[context: ]what[ object]: (reason | code message)[ (note)]`, for example
/// "RTM_NEWADDR 10.0.0.1/24 on nsft0: No such device (ipv4: Device not found)".
///
/// The text lives in a fixed buffer inside the error (capacity() bytes for all four parts
/// together; longer text is cut and ends in "..."): making and copying an error never allocates
/// and never throws. The setters take any number of pieces, each a string (anything convertible
/// to std::string_view) or an integer: `e.on("/proc/", pid, "/ns/", "net")`.
class error {
 public:
  std::error_code code;
  std::string_view what;

  error() noexcept = default;

  error(std::error_code c, std::string_view step) noexcept : code(c), what(step) {}

  error(const error& o) noexcept : code(o.code), what(o.what) { copy_text(o); }

  error& operator=(const error& o) noexcept {
    if (this != &o) {  // copy_text's memcpy must not overlap
      code = o.code;
      what = o.what;
      copy_text(o);
    }
    return *this;
  }

  ~error() = default;

  /// Sets what the step failed on (replacing an earlier object).
  template <class... A>
  error& on(const A&... pieces) & noexcept {
    set(part::object_text, pieces...);
    return *this;
  }

  template <class... A>
  error&& on(const A&... pieces) && noexcept {
    return std::move(on(pieces...));
  }

  /// Sets the reason printed instead of the code's message.
  template <class... A>
  error& because(const A&... pieces) & noexcept {
    set(part::reason_text, pieces...);
    return *this;
  }

  template <class... A>
  error&& because(const A&... pieces) && noexcept {
    return std::move(because(pieces...));
  }

  /// Sets the kernel's (or a tool's) own words, printed after the message.
  template <class... A>
  error& with_note(const A&... pieces) & noexcept {
    set(part::note_text, pieces...);
    return *this;
  }

  template <class... A>
  error&& with_note(const A&... pieces) && noexcept {
    return std::move(with_note(pieces...));
  }

  /// Puts what the caller was doing in front of the context the error has so far:
  /// "create set web" makes "open /run/nsm/web: …" read "create set web: open /run/nsm/web: …".
  template <class... A>
  error& with_context(const A&... pieces) & noexcept {
    Text t;
    (t.add(pieces), ...);
    if (len_[part::context_text] > 0) {
      t.add(std::string_view(": "));
      t.add(context());
    }
    replace(part::context_text, t.view());
    return *this;
  }

  template <class... A>
  error&& with_context(const A&... pieces) && noexcept {
    return std::move(with_context(pieces...));
  }

  [[nodiscard]] std::string_view object() const noexcept { return segment(part::object_text); }

  [[nodiscard]] std::string_view reason() const noexcept { return segment(part::reason_text); }

  [[nodiscard]] std::string_view note() const noexcept { return segment(part::note_text); }

  [[nodiscard]] std::string_view context() const noexcept { return segment(part::context_text); }

  /// Bytes of text (context, object, reason and note together) an error can hold.
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return text_capacity; }

  /// True when the code is equivalent to the given portable condition.
  friend bool operator==(const error& e, std::errc c) noexcept { return e.code == c; }

  /// True when the code is the given nsfun condition.
  friend bool operator==(const error& e, errc c) noexcept { return e.code == make_error_code(c); }

  /// The whole text: "[context: ]what[ object]: (reason | code message)[ (note)]".
  [[nodiscard]] std::string message() const;

  /// The text before the message: "[context: ]what[ object]".
  [[nodiscard]] std::string subject() const;

 private:
  // The four parts of the text, kept in this order in buf_ (named *_text: the accessors of the
  // same names would be shadowed otherwise, clang's -Wshadow).
  struct part {
    enum : std::uint8_t { context_text, object_text, reason_text, note_text, count };
  };

  using part_index = std::uint8_t;

  static constexpr std::size_t text_capacity = 216;

  // Builds one part's text in a buffer of the same capacity, cutting what does not fit.
  class Text {
   public:
    void add(std::string_view s) noexcept {
      std::size_t room = sizeof(buf_) - len_;
      if (s.size() > room) {
        cut_ = true;
        s = s.substr(0, room);
      }
      if (!s.empty()) {  // an empty view may hold a null pointer, which memcpy must not see
        std::memcpy(buf_ + len_, s.data(), s.size());
        len_ += s.size();
      }
    }

    void add(const char* s) noexcept { add(std::string_view(s != nullptr ? s : "(null)")); }

    void add(char c) noexcept { add(std::string_view(&c, 1)); }

    template <class T>

    requires(std::is_integral_v<T> && !std::is_same_v<T, char> &&
             !std::is_same_v<T, bool>) void add(T n) noexcept {
      char tmp[24];
      auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), n);
      (void)ec;
      add(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
    }

    template <class T>

    requires(std::is_convertible_v<const T&, std::string_view> &&
             !std::is_convertible_v<const T&, const char*>) void add(const T& s) noexcept {
      add(std::string_view(s));
    }

    // The text; when some was cut, its last three bytes say so ("...").
    [[nodiscard]] std::string_view view() noexcept {
      if (cut_) {
        std::size_t n = len_ < 3 ? 0 : len_ - 3;
        std::memcpy(buf_ + n, "...", len_ - n);
      }
      return {buf_, len_};
    }

   private:
    char buf_[text_capacity];
    std::size_t len_ = 0;
    bool cut_ = false;
  };

  template <class... A>
  void set(part_index p, const A&... pieces) noexcept {
    Text t;
    (t.add(pieces), ...);
    replace(p, t.view());
  }

  [[nodiscard]] std::size_t offset(part_index p) const noexcept {
    std::size_t off = 0;
    for (part_index i = 0; i < p; ++i) {
      off += len_[i];
    }
    return off;
  }

  [[nodiscard]] std::size_t used() const noexcept { return offset(part::count); }

  [[nodiscard]] std::string_view segment(part_index p) const noexcept {
    return {buf_ + offset(p), len_[p]};
  }

  // Replaces part p with s, moving the parts after it; cuts s to the room left.
  void replace(part_index p, std::string_view s) noexcept {
    std::size_t off = offset(p);
    std::size_t tail = used() - off - len_[p];
    std::size_t room = text_capacity - (used() - len_[p]);
    bool cut = s.size() > room;
    if (cut) {
      s = s.substr(0, room);
    }
    std::memmove(buf_ + off + s.size(), buf_ + off + len_[p], tail);
    if (!s.empty()) {
      std::memcpy(buf_ + off, s.data(), s.size());
    }
    len_[p] = static_cast<std::uint8_t>(s.size());
    if (cut && s.size() >= 3) {
      std::memcpy(buf_ + off + s.size() - 3, "...", 3);
    }
  }

  void copy_text(const error& o) noexcept {
    std::memcpy(len_, o.len_, sizeof(len_));
    std::memcpy(buf_, o.buf_, o.used());
  }

  static_assert(text_capacity <= 255, "part lengths are kept in one byte");

  std::uint8_t len_[part::count] = {};
  char buf_[text_capacity];
};

/// ADL hook Outcome uses to see the error_code inside an nsfun::error.
[[nodiscard]] inline const std::error_code& make_error_code(const error& e) noexcept {
  return e.code;
}

/// ADL hook Outcome calls when .value() is used on a failed result: throws a std::system_error
/// whose code() is the error's code and whose what() is message().
[[noreturn]] void outcome_throw_as_system_error_with_payload(const error& e);

/// The result of every fallible nsfun call: a T, or an nsfun::error.
template <class T>
using result = boost::outcome_v2::std_result<T, error>;

/// A successful result<void>.
[[nodiscard]] inline auto success() noexcept {
  return boost::outcome_v2::success();
}

/// The error for an errno value, named after the step that failed; add the object with on():
/// `return errno_error(errno, "open").on(path);`.
/// EMFILE and ENFILE come with the limit reached as a note ("Too many open files
/// (RLIMIT_NOFILE 64)").
[[nodiscard]] inline error errno_error(int err, std::string_view what) noexcept {
  error e{std::error_code(err, std::generic_category()), what};
  if (err == EMFILE) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
      e.with_note("RLIMIT_NOFILE ", rl.rlim_cur);
    }
  } else if (err == ENFILE) {
    e.with_note("the system's limit, fs.file-max");
  }
  return e;
}

/// The error for an nsfun condition, named after the step that failed.
[[nodiscard]] inline error nsfun_error(errc e, std::string_view what) noexcept {
  return error{make_error_code(e), what};
}

/// Adds what the caller was doing to a failed result (a success passes through untouched, and
/// nothing is formatted for it), for use while propagating:
/// `NSFUN_TRY(auto pin, nsfun::with_context(pin_at(dir, ns), "create set ", name));`.
template <class T, class... A>
[[nodiscard]] result<T> with_context(result<T>&& r, const A&... pieces) noexcept {
  if (!r) {
    r.assume_error().with_context(pieces...);
  }
  return std::move(r);
}

/// The lazy form: `annotate(error&)` runs only on failure, for an annotation that costs work to
/// find (a lookup of the name an error is about), and may set any part of the error (context,
/// object, note): `with_context(rtnl.request(m.hdr(), "RTM_NEWLINK"), [&](error& e) { e.on(name);
/// })`. A success passes through untouched.
template <class T, class F>
requires std::is_invocable_v<F&, error&>

[[nodiscard]] result<T> with_context(result<T>&& r, F&& annotate) noexcept(
    std::is_nothrow_invocable_v<F&, error&>) {
  if (!r) {
    annotate(r.assume_error());
  }
  return std::move(r);
}

}  // namespace nsfun

template <>
struct std::is_error_code_enum<nsfun::errc> : std::true_type {};

#define NSFUN_CONCAT_INNER(a, b) a##b
#define NSFUN_CONCAT(a, b) NSFUN_CONCAT_INNER(a, b)
#define NSFUN_TRY_IMPL(tmp, var, ...)   \
  auto tmp = (__VA_ARGS__);             \
  if (!tmp)                             \
    return std::move(tmp).as_failure(); \
  var = std::move(tmp).assume_value()
#define NSFUN_TRYV_IMPL(tmp, ...) \
  auto tmp = (__VA_ARGS__);       \
  if (!tmp)                       \
  return std::move(tmp).as_failure()

/// Evaluates a result-returning expression; on failure returns the failure from the enclosing
/// function, otherwise binds the value: `NSFUN_TRY(auto fd, NsFd::open(pid, NsType::net));`.
/// Works on Boost 1.74 and newer (BOOST_OUTCOME_TRY(auto v, …) needs 1.76). To say what the
/// caller was doing, wrap the expression in nsfun::with_context().
#define NSFUN_TRY(var, ...) NSFUN_TRY_IMPL(NSFUN_CONCAT(nsfun_try_, __COUNTER__), var, __VA_ARGS__)

/// Like NSFUN_TRY for a result whose value is not needed (result<void>).
#define NSFUN_TRYV(...) NSFUN_TRYV_IMPL(NSFUN_CONCAT(nsfun_tryv_, __COUNTER__), __VA_ARGS__)

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/error.ipp>
#endif
