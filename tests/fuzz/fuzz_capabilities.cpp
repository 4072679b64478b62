// SPDX-License-Identifier: MIT
// Fuzz target: CapSet::parse, the capability lists of a container spec or a command line
// ("cap_net_admin,CAP_SYS_TIME", "chown", "12", "all", "none"). An accepted set prints back to a
// list that parses to the same set; a refusal is an invalid_name error with a printable text.
#include <cstddef>
#include <cstdint>

#include <nsfun/capabilities.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nsfun::fuzz::check;
  auto set = nsfun::CapSet::parse(nsfun::fuzz::text_of(data, size));
  if (!set) {
    nsfun::fuzz::check_error(set.error());
    check(set.error() == nsfun::errc::invalid_name, "CapSet::parse: another code");
    return 0;
  }
  // Every set prints back to a list that parses to the same set, numbers the running kernel
  // or libcap-ng does not know included ("cap_41").
  auto again = nsfun::CapSet::parse(set.value().to_string());
  check(again && again.value() == set.value(), "a capability list does not parse back the same");
  check(set.value().size() == static_cast<int>(__builtin_popcountll(set.value().bits())),
        "size() is not the number of bits");
  return 0;
}
