// SPDX-License-Identifier: MIT
// Recipe: step into another process's namespaces —
//
//   nsenter --target PID --uts hostname
//
// A child is started in a new UTS namespace with the hostname "nsfun-target" and left running;
// we open its UTS namespace through its pidfd (immune to pid reuse), read the hostname in there
// with run_in(), and are back in our own namespace afterwards.

#include <array>
#include <cstdio>
#include <string>

#include <unistd.h>

#include <nsfun/nsfun.hpp>

#include "example_util.hpp"

int main() {
  auto target = nsfun::spawn(
      nsfun::Command("sleep").arg("60").namespaces({nsfun::NsType::uts}).hostname("nsfun-target"));
  if (!target) {
    return example::fail("enter_process", target.error());
  }
  // The handle kills and reaps the sleeper when it goes, whatever happens below.
  auto uts = nsfun::UtsNs::open_pidfd(target.value().pidfd());
  if (!uts) {
    return example::fail_after("enter_process", uts.error());
  }
  auto there = nsfun::run_in(uts.value(), [] {
    std::array<char, 256> name{};
    ::gethostname(name.data(), name.size() - 1);
    return std::string(name.data());
  });
  if (!there) {
    return example::fail_after("enter_process", there.error());
  }
  std::array<char, 256> here{};
  ::gethostname(here.data(), here.size() - 1);
  std::printf("hostname in pid %d's namespace: %s\nhostname here: %s\n", target.value().pid(),
              there.value().c_str(), here.data());
  return there.value() == "nsfun-target" && there.value() != here.data() ? 0 : 1;
}
