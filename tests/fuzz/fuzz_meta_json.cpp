// SPDX-License-Identifier: MIT
// Fuzz target: the strict reader of a named set's meta.json (detail::named_set::MetaParser, and
// read_meta with its size limit on a scratch set directory). An accepted meta.json has every
// field in range (creator a uid, holder a pid up to PID_MAX_LIMIT) and the text format_meta
// writes for it reads back the same. An accepted text is also JSON to nlohmann::json: the reader
// takes nothing JSON refuses (malformed values of unknown fields, leading zeros, invalid UTF-8,
// unpaired surrogates), issue 17.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <nsfun/named_set.hpp>
#include <nsfun/unique_fd.hpp>

#include "fuzz_support.hpp"

namespace {

bool same(const nsfun::NamedSetMeta& a, const nsfun::NamedSetMeta& b) {
  return a.name == b.name && a.types == b.types && a.created == b.created &&
         a.creator == b.creator && a.holder == b.holder && a.netns == b.netns;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ns = nsfun::detail::named_set;
  using nsfun::fuzz::check;
  static const nsfun::fuzz::ScratchDir set;
  const std::string_view text = nsfun::fuzz::text_of(data, size);

  nsfun::NamedSetMeta m;
  const std::string why = ns::MetaParser(text).parse(m);
  if (why.empty()) {
    check(m.creator != static_cast<uid_t>(-1), "creator is (uid_t)-1");
    check(!m.holder || (*m.holder > 0 && *m.holder <= ns::pid_max_limit), "holder is not a pid");
    check(nlohmann::json::accept(text), "meta.json accepted what is not JSON");
    nsfun::NamedSetMeta back;
    check(ns::MetaParser(ns::format_meta(m)).parse(back).empty() && same(m, back),
          "format_meta's text does not read back the same");
  }

  set.write(ns::meta_file, text);
  int fd = ::fcntl(set.fd(), F_DUPFD_CLOEXEC, 3);
  check(fd >= 0, "dup the scratch directory");
  const nsfun::UniqueFd dir = nsfun::UniqueFd::adopt(fd);
  auto read = ns::read_meta(dir);
  if (read) {
    check(why.empty() && text.size() <= nsfun::named_set_meta_max && same(read.value(), m),
          "read_meta accepted what the parser refused, or read it differently");
  } else {
    nsfun::fuzz::check_error(read.error());
    check(!why.empty() || text.size() > nsfun::named_set_meta_max,
          "read_meta refused what the parser accepted");
  }
  return 0;
}
