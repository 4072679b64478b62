// SPDX-License-Identifier: MIT
// Fuzz target: IdMap::parse, both syntaxes (the /proc/PID/uid_map text "0 1000 1" per line and
// the compact "0:1000:1,1:100000:65536"). A map it accepts must be one the kernel would take and
// survive both round trips; a refusal must be an invalid_id_map error with a printable text.
#include <cstddef>
#include <cstdint>

#include <nsfun/user_map.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nsfun::fuzz::check;
  auto parsed = nsfun::IdMap::parse(nsfun::fuzz::text_of(data, size));
  if (!parsed) {
    nsfun::fuzz::check_error(parsed.error());
    check(parsed.error() == nsfun::errc::invalid_id_map ||
              parsed.error() == std::errc::not_enough_memory,
          "IdMap::parse failed with another code than invalid_id_map");
    return 0;
  }
  const nsfun::IdMap& map = parsed.value();
  check(!map.empty() && map.ranges().size() <= nsfun::IdMap::max_ranges,
        "an accepted map has no range or more than the kernel's limit");
  const std::string proc = map.to_proc();
  check(proc.size() < 4096, "an accepted map's /proc text is a page or longer");
  auto from_compact = nsfun::IdMap::parse(map.to_string());
  check(from_compact && from_compact.value() == map, "compact form does not parse back the same");
  auto from_proc = nsfun::IdMap::parse(proc);
  check(from_proc && from_proc.value() == map, "/proc form does not parse back the same");
  auto from_ranges = nsfun::IdMap::from(map.ranges());
  check(from_ranges && from_ranges.value() == map, "IdMap::from refuses what parse accepted");
  for (const nsfun::IdRange& r : map.ranges()) {
    check(r.count > 0 && std::uint64_t{r.inside} + r.count <= 0xffffffffULL &&
              std::uint64_t{r.outside} + r.count <= 0xffffffffULL,
          "an accepted range is empty or ends beyond 32 bits");
    check(map.to_outside(r.inside) == r.outside &&
              map.to_outside(r.inside + r.count - 1) == std::int64_t{r.outside} + r.count - 1,
          "to_outside disagrees with the ranges");
  }
  return 0;
}
