// SPDX-License-Identifier: MIT
// nsfun tests – meta.json of a named set read as strictly as JSON is (issue 17, fuzz_meta_json's
// findings): the reader took malformed values in unknown fields ("x": 1.2.3, "x": -, "x": +1),
// numbers with leading zeros, invalid UTF-8 and unpaired surrogates, none of which
// nlohmann::json takes. Each text is read through NamedSet::inspect on a set directory of a
// scratch BASE (no privileges needed: nothing is pinned, so every set is stale) and compared
// with what nlohmann::json says of it.
#include <cstdlib>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/named_set.hpp>
#include <nsfun/unique_fd.hpp>

#include "test_support.hpp"

using nsfun::NamedSet;

namespace {

// A scratch BASE (mkdtemp: 0700, ours) with one set directory "s"; removed at the end.
class ScratchBase {
 public:
  ScratchBase() {
    char tmpl[] = "/tmp/nsfun-test-meta-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    base_ = tmpl;
    REQUIRE(::mkdir((base_ + "/s").c_str(), 0700) == 0);
  }

  ScratchBase(const ScratchBase&) = delete;
  ScratchBase& operator=(const ScratchBase&) = delete;

  ~ScratchBase() {
    ::unlink((base_ + "/s/meta.json").c_str());
    ::rmdir((base_ + "/s").c_str());
    ::rmdir(base_.c_str());
  }

  // meta.json of the set is `text`; what inspect makes of it: the meta, or the problem.
  nsfun::result<nsfun::NamedSetMeta> read(const std::string& text) const {
    const std::string path = base_ + "/s/meta.json";
    ::unlink(path.c_str());
    const nsfun::UniqueFd fd =
        nsfun::UniqueFd::adopt(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    REQUIRE(fd.get() >= 0);
    REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    auto info = NamedSet::inspect("s", base_);
    REQUIRE(info);
    if (info.value().meta) {
      return *info.value().meta;
    }
    REQUIRE_FALSE(info.value().problems.empty());
    return nsfun::errno_error(EINVAL, "read").on(info.value().problems.front());
  }

 private:
  std::string base_;
};

// A valid meta.json with `value` as the value of an unknown field.
std::string with_unknown(const std::string& value) {
  return R"({"name": "s", "types": ["net"], "x": )" + value + "}";
}

}  // namespace

TEST_SUITE("named_set meta.json") {
  TEST_CASE("unknown fields: a value JSON refuses makes the set stale, as nlohmann::json says") {
    ScratchBase set;
    for (const std::string& bad : std::vector<std::string>{
             "01",                         // a leading zero (was taken)
             "-01",                        //
             "00",                         //
             "-",                          // a bare sign (was taken)
             "+1",                         // a plus sign (was taken)
             "1.",                         // a fraction without digits (was taken)
             ".5",                         // no integer part (was taken)
             "1e",                         // an exponent without digits (was taken)
             "1e+",                        //
             "1.2.3",                      // two fractions (was taken)
             "1e5e5",                      // two exponents (was taken)
             "2.5e42423",                  // beyond a double (nlohmann: number overflow)
             "-1e400",                     //
             "1" + std::string(400, '0'),  // 10^400 as an integer, also beyond a double
             "tru",                        //
             "nul",                        //
             "[1,]",                       // a trailing comma
             "{\"a\":1,}",                 //
             "{\"a\"}",                    // a member without a value
             "[01]",                       // in an array
             "{\"a\":{\"b\":-}}",          // nested
             "\"\\ud800\"",                // a high surrogate alone (was U+FFFD)
             "\"\\udc00\"",                // a low surrogate alone
             "\"\\ud800\\u0041\"",         // a high surrogate before no low one
             "\"\xff\"",                   // not UTF-8 (was taken)
             "\"\xc0\x80\"",               // an overlong NUL
             "\"\xed\xa0\x80\"",           // a surrogate in UTF-8
             "\"\xf4\x90\x80\x80\"",       // beyond U+10FFFF
             "\"\xe2\x82\"",               // cut short
         }) {
      CAPTURE(bad);
      const std::string text = with_unknown(bad);
      CHECK_FALSE(nlohmann::json::accept(text));
      auto m = set.read(text);
      REQUIRE_FALSE(m);
      CHECK(m.error().object() == "meta.json: not valid JSON");
    }
  }

  TEST_CASE("unknown fields: every JSON value is skipped, as nlohmann::json takes it") {
    ScratchBase set;
    for (const char* good : {"0", "-0", "1.5", "-1.5e-3", "1E+2", "0.0e0",
                             "1e-400",  // underflows to 0: nlohmann::json takes it
                             "1.7e308", "123456789012345678901234567890", "true", "false", "null",
                             "[]", "{}", "[1, [2, {\"a\": [\"b\", null]}]]", "\"\\ud83d\\ude00\"",
                             "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""}) {
      CAPTURE(good);
      const std::string text = with_unknown(good);
      CHECK(nlohmann::json::accept(text));
      auto m = set.read(text);
      REQUIRE(m);
      CHECK(m.value().name == "s");
    }
  }

  TEST_CASE("known fields: leading zeros and fractions are refused, naming the field") {
    ScratchBase set;
    const std::string head = R"({"name": "s", "types": ["net"], )";

    struct Case {
      const char* field;
      const char* why;
    };

    for (const Case& c : {
             Case{R"("creator": 01)", "meta.json: \"creator\" is not a uid"},
             Case{R"("creator": 1.0)", "meta.json: \"creator\" is not a uid"},
             Case{R"("creator": -)", "meta.json: \"creator\" is not a uid"},
             Case{R"("holder": 042)", "meta.json: \"holder\" is not a pid or null"},
             Case{R"("holder": 4e2)", "meta.json: \"holder\" is not a pid or null"},
             Case{R"("created": "2026-12-02T06:00:00Z\u00")",
                  "meta.json: \"created\" is not a string"},
         }) {
      CAPTURE(c.field);
      auto m = set.read(head + c.field + "}");
      REQUIRE_FALSE(m);
      CHECK(m.error().object() == c.why);
    }
    auto ok = set.read(head + R"("creator": 0, "holder": 42})");
    REQUIRE(ok);
    CHECK(ok.value().creator == 0);
    CHECK(ok.value().holder == 42);
  }

  TEST_CASE("strings: a surrogate pair is one UTF-8 character, raw UTF-8 is kept") {
    ScratchBase set;
    auto m = set.read(R"({"name": "\u0073", "types": ["\u006eet"]})");
    REQUIRE(m);
    CHECK(m.value().name == "s");
    CHECK(m.value().types == nsfun::NsTypeSet{nsfun::NsType::net});
    auto pair = set.read(R"({"name": "s\ud83d\ude00", "types": ["net"]})");
    REQUIRE(pair);
    CHECK(pair.value().name == "s\xf0\x9f\x98\x80");
  }
}
