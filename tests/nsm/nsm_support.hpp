// SPDX-License-Identifier: MIT
// nsm tests – running the built nsm binary (NSM_PATH), shared by the suites.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <sys/types.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

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

/// The holder pid meta.json of /run/nsm/NAME names; 0 when it names none or cannot be read.
inline pid_t holder_of(const std::string& name) {
  auto j = nlohmann::json::parse(nsfun::test::read_text("/run/nsm/" + name + "/meta.json"), nullptr,
                                 false);
  if (j.is_discarded() || !j.contains("holder") || !j["holder"].is_number_integer()) {
    return 0;
  }
  return j["holder"].get<pid_t>();
}

/// True once `pid` (a holder reparented to this process, a subreaper) is reaped or gone, waiting
/// up to 5 s.
inline bool reaped(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD && ::kill(pid, 0) != 0)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace nsm_test
