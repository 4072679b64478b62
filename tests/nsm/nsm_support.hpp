// SPDX-License-Identifier: MIT
// nsm tests – running the built nsm binary (NSM_PATH) and reading files, shared by the suites.
#pragma once

#include <fstream>
#include <iterator>
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

/// The whole file; empty when it cannot be read.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace nsm_test
