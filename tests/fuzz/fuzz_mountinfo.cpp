// SPDX-License-Identifier: MIT
// Fuzz target: the mountinfo readers: parse_mountinfo / parse_mountinfo_line (with the octal
// unescaping of paths), and the Snapshot's reader of nsfs bind mounts, fed the input as the
// self/mountinfo of a scratch directory standing in for /proc. Each line the whole-text parser
// accepts parses alone to the same mount, with every required field present.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nsfun/detail/proc_util.hpp>
#include <nsfun/mount.hpp>
#include <nsfun/snapshot.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nsfun::fuzz::check;
  static const nsfun::fuzz::ScratchDir proc{"self"};
  const std::string_view text = nsfun::fuzz::text_of(data, size);
  check(nsfun::detail::unescape_mount_path(text).size() <= text.size(),
        "unescaping made a path longer");

  auto all = nsfun::parse_mountinfo(text);
  if (!all) {
    nsfun::fuzz::check_error(all.error());
  } else {
    std::size_t i = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      if (line.empty()) {
        continue;
      }
      check(i < all.value().size(), "fewer mounts than lines");
      const nsfun::MountInfo& m = all.value()[i++];
      auto alone = nsfun::parse_mountinfo_line(line);
      check(alone && alone.value().mount_id == m.mount_id &&
                alone.value().mount_point == m.mount_point && alone.value().source == m.source,
            "a line parses differently alone");
      check(!m.root.empty() && !m.mount_point.empty() && !m.mount_options.empty() &&
                !m.fs_type.empty() && !m.source.empty(),
            "an accepted mount lacks a required field");
      (void)nsfun::name(m.propagation());
    }
    check(i == all.value().size(), "more mounts than lines");
  }

  proc.write("self/mountinfo", text);
  auto nsfs = nsfun::detail::snap::nsfs_mounts_at(proc.fd(), 42);
  if (!nsfs) {
    nsfun::fuzz::check_error(nsfs.error());
  } else {
    for (const nsfun::NsfsMount& m : nsfs.value()) {
      check(m.ns.dev() == 42, "an nsfs mount on another device");
    }
  }
  return 0;
}
