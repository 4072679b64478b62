// SPDX-License-Identifier: MIT
// nsfun – capability sets: the implementation (see <nsfun/config.hpp>).
//
// Names through libcap-ng (parent side); the child side (detail::security::drop_bounding,
// apply_sets) makes raw prctl(2) and capset(2) calls, for the reasons in
// <nsfun/detail/security.hpp>.
#pragma once

#include <bit>
#include <cap-ng.h>
#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/capabilities.hpp>
#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun::detail::caps {

// The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap), or
// the headers' CAP_LAST_CAP when the file cannot be read.
inline int kernel_last_cap() noexcept {
  int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return CAP_LAST_CAP;
  }
  char buf[16] = {};
  ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  int v = 0;
  bool any = false;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    v = v * 10 + (buf[i] - '0');
    any = true;
  }
  return any && v <= CapSet::max_cap ? v : CAP_LAST_CAP;
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// One word of CapSet::parse: a name (with or without "cap_", any case) or a number 0..63, bare
// or with "cap_" ("cap_41", as name() prints a number libcap-ng has no name for); -1 when it is
// neither.
inline int parse_one(std::string_view word) noexcept {
  if (word.empty() || word.size() > 40) {
    return -1;
  }
  std::string_view bare = word;
  if (bare.size() > 4 && (bare[0] == 'c' || bare[0] == 'C') && (bare[1] == 'a' || bare[1] == 'A') &&
      (bare[2] == 'p' || bare[2] == 'P') && bare[3] == '_') {
    bare.remove_prefix(4);
  }
  if (bare.find_first_not_of("0123456789") == std::string_view::npos) {
    int v = 0;
    for (char c : bare) {
      v = v * 10 + (c - '0');
      if (v > CapSet::max_cap) {
        return -1;
      }
    }
    return v;
  }
  char buf[48] = {};
  bare.copy(buf, bare.size());
  int cap = capng_name_to_capability(buf);
  return cap >= 0 && cap <= CapSet::max_cap ? cap : -1;
}

// The first capability in `s`, as a name for an error ("cap_net_admin"). With `lookup` false
// (the child side, which calls no library) it is the number: "cap_21".
inline std::string_view first_name(CapSet s, char (&buf)[32], bool lookup = true) noexcept {
  for (int c = 0; c <= CapSet::max_cap; ++c) {
    if (s.contains(c)) {
      // Only numbers the headers know: for others capng_capability_to_name() would asprintf.
      const char* n = lookup && c <= CAP_LAST_CAP
                          ? capng_capability_to_name(static_cast<unsigned>(c))
                          : nullptr;
      std::size_t len = 0;
      auto put = [&](std::string_view p) {
        for (char ch : p) {
          if (len + 1 < sizeof(buf)) {
            buf[len++] = ch;
          }
        }
      };
      put("cap_");
      if (n != nullptr && std::string_view(n).substr(0, 4) != "cap_") {
        put(n);
      } else {
        char digits[4] = {};
        int k = 0;
        int v = c;
        do {
          digits[k++] = static_cast<char>('0' + v % 10);
          v /= 10;
        } while (v > 0);
        while (k > 0) {
          put(std::string_view(&digits[--k], 1));
        }
      }
      return {buf, len};
    }
  }
  return {};
}

// capset(2)'s structures, version 3 (two 32-bit words per set).
inline int raw_capset(std::uint64_t eff, std::uint64_t perm, std::uint64_t inh) noexcept {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {
      {static_cast<std::uint32_t>(eff), static_cast<std::uint32_t>(perm),
       static_cast<std::uint32_t>(inh)},
      {static_cast<std::uint32_t>(eff >> 32U), static_cast<std::uint32_t>(perm >> 32U),
       static_cast<std::uint32_t>(inh >> 32U)}};
  return static_cast<int>(::syscall(SYS_capset, &hdr, data));
}

}  // namespace nsfun::detail::caps

namespace nsfun {

NSFUN_INLINE CapSet CapSet::all() noexcept {
  int last = detail::caps::kernel_last_cap();
  return from_bits(last >= max_cap ? ~std::uint64_t{0}
                                   : (std::uint64_t{1} << static_cast<unsigned>(last + 1)) - 1);
}

NSFUN_INLINE CapSet CapSet::container_default() noexcept {
  CapSet s;
  for (int c : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW,
                CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE,
                CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE}) {
    s.add(c);
  }
  return s;
}

NSFUN_INLINE result<CapSet> CapSet::parse(std::string_view text) noexcept {
  CapSet s;
  std::string_view whole = detail::caps::trim(text);
  if (whole.empty() || whole == "none") {
    return s;
  }
  while (true) {
    std::size_t comma = text.find(',');
    std::string_view word = detail::caps::trim(text.substr(0, comma));
    if (word == "all") {
      s.add(all());
    } else {
      int cap = detail::caps::parse_one(word);
      if (cap < 0) {
        return nsfun_error(errc::invalid_name, "capability")
            .on('"', word, '"')
            .because("not a capability name");
      }
      s.add(cap);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return s;
}

NSFUN_INLINE std::string CapSet::name(int cap) {
  if (cap < 0 || cap > max_cap) {
    return {};
  }
  char buf[32];
  return std::string(detail::caps::first_name(CapSet{}.add(cap), buf));
}

NSFUN_INLINE std::string CapSet::to_string() const {
  std::string out;
  for (int c = 0; c <= max_cap; ++c) {
    if (contains(c)) {
      if (!out.empty()) {
        out += ',';
      }
      out += name(c);
    }
  }
  return out;
}

NSFUN_INLINE int CapSet::size() const noexcept {
  return std::popcount(bits_);
}

NSFUN_INLINE result<void> Capabilities::check() const noexcept {
  char buf[32];
  auto broken = [&](CapSet extra, std::string_view rule) -> result<void> {
    return errno_error(EINVAL, "capabilities")
        .because(rule, ": ", detail::caps::first_name(extra, buf),
                 extra.size() > 1 ? " (and more)" : "");
  };
  if (!permitted.contains(effective)) {
    return broken(CapSet(effective).remove(permitted), "effective not in permitted");
  }
  if (!bounding.contains(permitted)) {
    return broken(CapSet(permitted).remove(bounding), "permitted not in bounding");
  }
  if (!bounding.contains(inheritable)) {
    return broken(CapSet(inheritable).remove(bounding), "inheritable not in bounding");
  }
  if (!permitted.contains(ambient)) {
    return broken(CapSet(ambient).remove(permitted), "ambient not in permitted");
  }
  if (!inheritable.contains(ambient)) {
    return broken(CapSet(ambient).remove(inheritable), "ambient not in inheritable");
  }
  return success();
}

NSFUN_INLINE result<void> detail::security::drop_bounding(const Capabilities& caps) noexcept {
  for (int c = 0; c <= CapSet::max_cap; ++c) {
    int r = ::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(c), 0UL, 0UL, 0UL);
    if (r < 0) {
      break;  // EINVAL: past the kernel's last capability
    }
    if (r == 1 && !caps.bounding.contains(c)) {
      if (::prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(c), 0UL, 0UL, 0UL) != 0) {
        int err = errno;
        char buf[32];
        return errno_error(err, "prctl")
            .on("PR_CAPBSET_DROP ", detail::caps::first_name(CapSet{}.add(c), buf, false));
      }
    }
  }
  return success();
}

NSFUN_INLINE result<void> detail::security::apply_sets(const Capabilities& caps) noexcept {
  if (detail::caps::raw_capset(caps.effective.bits(), caps.permitted.bits(),
                               caps.inheritable.bits()) != 0) {
    return errno_error(errno, "capset");
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) != 0) {
    int err = errno;
    if (!(err == EINVAL && caps.ambient.empty())) {  // COMPAT(linux < 4.3): no ambient set
      return errno_error(err, "prctl").on("PR_CAP_AMBIENT_CLEAR_ALL");
    }
  }
  for (int c = 0; c <= CapSet::max_cap; ++c) {
    if (caps.ambient.contains(c) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
                                            static_cast<unsigned long>(c), 0UL, 0UL) != 0) {
      int err = errno;
      char buf[32];
      return errno_error(err, "prctl")
          .on("PR_CAP_AMBIENT_RAISE ", detail::caps::first_name(CapSet{}.add(c), buf, false));
    }
  }
  return success();
}

}  // namespace nsfun
