// SPDX-License-Identifier: MIT
// What the example tests share: where the built examples are, running one, reading what it
// printed, and the host's hostname.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <sys/prctl.h>
#include <unistd.h>

#include "test_support.hpp"

namespace nsfun::test::examples {

inline const std::string examples_dir = NSFUN_EXAMPLES_DIR;

/// The rest of the first line of `out` that starts with `prefix`; "<missing>" when none does.
inline std::string after(const std::string& out, std::string_view prefix) {
  for (std::size_t pos = 0; pos < out.size();) {
    std::size_t end = out.find('\n', pos);
    end = end == std::string::npos ? out.size() : end;
    if (std::string_view(out).substr(pos, end - pos).starts_with(prefix)) {
      return out.substr(pos + prefix.size(), end - pos - prefix.size());
    }
    pos = end + 1;
  }
  return "<missing>";
}

/// Runs the example `name` (no arguments); its descendants that outlive it come back to the test
/// (a child subreaper), so that no_children() sees them.
inline CommandResult run_example(const std::string& name) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  return run(examples_dir + "/" + name);
}

/// This process's hostname.
inline std::string host_name() {
  std::array<char, 256> name{};
  ::gethostname(name.data(), name.size() - 1);
  return name.data();
}

}  // namespace nsfun::test::examples
