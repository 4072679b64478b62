// SPDX-License-Identifier: MIT
// Fuzz target: the cgroup2 file readers: cgroup.procs (read_procs), the word lists of
// cgroup.controllers and cgroup.subtree_control (read_words, has_word), cgroup.events
// (read_populated) and controller_of for an interface file's name. The input is written as each
// of those files in a scratch directory standing in for a cgroup.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include <nsfun/cgroup.hpp>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cg = nsfun::detail::cgroup;
  using nsfun::fuzz::check;
  static const nsfun::fuzz::ScratchDir dir;
  const std::string_view text = nsfun::fuzz::text_of(data, size);

  std::size_t words = 0;
  std::string_view rest = text;
  for (std::string_view w = cg::next_word(rest); !w.empty(); w = cg::next_word(rest)) {
    check(w.find_first_of(" \t\n") == std::string_view::npos, "a word with a blank in it");
    ++words;
  }

  dir.write("cgroup.procs", text);
  if (auto pids = cg::read_procs(dir.fd())) {
    check(pids.value().size() <= words, "more pids than words");
  } else {
    nsfun::fuzz::check_error(pids.error());
  }

  dir.write("cgroup.controllers", text);
  if (auto list = cg::read_words(dir.fd(), "cgroup.controllers")) {
    check(list.value().size() == words, "read_words and next_word disagree");
    for (const std::string& w : list.value()) {
      check(!w.empty() && cg::has_word(text, w), "a word has_word does not find");
    }
    check(cg::has_word(text, "memory") ==
              (std::find(list.value().begin(), list.value().end(), "memory") != list.value().end()),
          "has_word and read_words disagree");
  } else {
    nsfun::fuzz::check_error(list.error());
  }

  dir.write("cgroup.events", text);
  int events = ::openat(dir.fd(), "cgroup.events", O_RDONLY | O_CLOEXEC);
  check(events >= 0, "open cgroup.events");
  const int populated = cg::read_populated(events);
  ::close(events);
  check(populated >= -1 && populated <= 1, "read_populated out of range");

  std::string_view controller = cg::controller_of(text);
  check(controller.size() < text.size() || controller.empty(), "controller_of: the whole name");
  return 0;
}
