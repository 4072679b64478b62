// SPDX-License-Identifier: MIT
// Fuzz target: the /etc/subuid and /etc/subgid reader behind UserMap::subordinate ("name:start:
// count" lines). The input is written as both files of a scratch directory and read for the user
// "alice" (uid and gid 1000). The ranges taken must be those a plain reading of the lines gives
// (the user's name or id before the first ':', two whole 32-bit numbers, a count of at least 1),
// in file order from inside id 1 on, after root as the user.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nsfun/user_map.hpp>

#include "fuzz_support.hpp"

namespace {

bool whole_u32(std::string_view s, std::uint32_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// The (outside, count) of each of alice's lines, in order.
std::vector<nsfun::IdRange> expected_ranges(std::string_view text) {
  std::vector<nsfun::IdRange> out;
  std::uint64_t inside = 1;
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    std::size_t a = line.find(':');
    std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) {
      continue;
    }
    std::string_view who = line.substr(0, a);
    nsfun::IdRange r;
    if ((who == "alice" || who == "1000") && whole_u32(line.substr(a + 1, b - a - 1), r.outside) &&
        whole_u32(line.substr(b + 1), r.count) && r.count > 0 && inside <= 0xffffffffULL) {
      r.inside = static_cast<std::uint32_t>(inside);
      inside += r.count;
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nsfun::fuzz::check;
  static const nsfun::fuzz::ScratchDir dir;
  static const std::string subuid = dir.path() + "/subuid";
  static const std::string subgid = dir.path() + "/subgid";
  const std::string_view text = nsfun::fuzz::text_of(data, size);
  dir.write("subuid", text);
  dir.write("subgid", text);
  const std::vector<nsfun::IdRange> expected = expected_ranges(text);
  auto map = nsfun::UserMap::subordinate("alice", 1000, 1000, subuid.c_str(), subgid.c_str());
  if (!map) {
    nsfun::fuzz::check_error(map.error());
    check(expected.empty() == (map.error() == std::errc::no_such_file_or_directory),
          "no range found, yet the file has one (or the other way round)");
    return 0;
  }
  for (const nsfun::IdMap* m : {&map.value().uid, &map.value().gid}) {
    const auto& ranges = m->ranges();
    check(!ranges.empty() && ranges[0] == nsfun::IdRange{0, 1000, 1}, "root is not the user");
    check(std::vector<nsfun::IdRange>(ranges.begin() + 1, ranges.end()) == expected,
          "the ranges are not the file's lines for the user");
  }
  return 0;
}
