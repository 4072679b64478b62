// SPDX-License-Identifier: MIT
// Fuzz target: parse_ns_type and NsTypeSet::parse ("net,uts", "all"). An accepted type is one of
// the eight names or unshare(1)'s long ones; an accepted list is not empty and parses back the
// same from its to_string().
#include <cstddef>
#include <cstdint>

#include <nsfun/ns_type.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nsfun::fuzz::check;
  const std::string_view text = nsfun::fuzz::text_of(data, size);
  if (auto t = nsfun::parse_ns_type(text)) {
    check(text == nsfun::name(t.value()) || text == "mount" || text == "network",
          "parse_ns_type accepted a name that is not a type's");
  } else {
    nsfun::fuzz::check_error(t.error());
    check(t.error() == nsfun::errc::unknown_namespace_type, "parse_ns_type: another code");
  }
  if (auto set = nsfun::NsTypeSet::parse(text)) {
    check(!set.value().empty(), "NsTypeSet::parse accepted an empty set");
    auto again = nsfun::NsTypeSet::parse(set.value().to_string());
    check(again && again.value() == set.value(), "a type list does not parse back the same");
    check(nsfun::NsTypeSet::from_clone_flags(set.value().clone_flags()) == set.value(),
          "clone flags do not give the set back");
  } else {
    nsfun::fuzz::check_error(set.error());
    check(set.error() == nsfun::errc::unknown_namespace_type ||
              set.error() == nsfun::errc::empty_namespace_type_list,
          "NsTypeSet::parse: another code");
  }
  return 0;
}
