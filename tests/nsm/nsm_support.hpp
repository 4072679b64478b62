// SPDX-License-Identifier: MIT
// nsm tests – running the built nsm binary (NSM_PATH), shared by the suites.
#pragma once

#include <string>

#include "test_support.hpp"

namespace nsm_test {

inline const std::string nsm = NSM_PATH;

/// Runs nsm with `args` (a shell word list); its status and stdout only.
inline nsfun::test::CommandResult nsm_out(const std::string& args) {
  return nsfun::test::run(nsm + " " + args + " 2>/dev/null");
}

/// Runs nsm with `args`; its status and stderr only.
inline nsfun::test::CommandResult nsm_err(const std::string& args) {
  return nsfun::test::run(nsm + " " + args + " 2>&1 >/dev/null");
}

}  // namespace nsm_test
