// SPDX-License-Identifier: MIT
// nsm diff – two processes' namespaces side by side.

#include <string>

#include <fmt/format.h>

#include <nsfun/pidfd.hpp>
#include <nsfun/snapshot.hpp>

#include "cli.hpp"

namespace nsm {
namespace {

struct Options {
  pid_t a = 0;
  pid_t b = 0;
  bool json = false;
};

void run(const Options& o) {
  // Open both first, so that an error names the pid it is about.
  auto fa = nsfun::pidfd_open(o.a);
  if (!fa) {
    fail_pid(o.a, fa.error());
  }
  auto fb = nsfun::pidfd_open(o.b);
  if (!fb) {
    fail_pid(o.b, fb.error());
  }
  auto d = nsfun::diff(o.a, o.b);
  if (!d) {
    throw Failure(fmt::format("pids {} and {}", o.a, o.b), why(d.error()));
  }
  std::size_t differ = 0;
  for (const nsfun::NsDiffEntry& e : d.value()) {
    differ += e.same() ? 0U : 1U;
  }
  const std::size_t total = d.value().size();
  if (o.json) {
    Json arr = Json::array();
    for (const nsfun::NsDiffEntry& e : d.value()) {
      arr.push_back({{"link", std::string(nsfun::name(e.link))},
                     {"same", e.same()},
                     {"ns1", e.a.empty() ? Json() : Json(e.a.ino())},
                     {"ns2", e.b.empty() ? Json() : Json(e.b.ino())}});
    }
    print_json(Json{{"pid1", o.a},
                    {"pid2", o.b},
                    {"links", std::move(arr)},
                    {"differ", differ},
                    {"total", total}});
    return;
  }
  Table t({{"LINK"},
           {"STATE"},
           {fmt::format("PID {}", o.a), true},
           {fmt::format("PID {}", o.b), true}});
  for (const nsfun::NsDiffEntry& e : d.value()) {
    std::string state = e.same() ? "same" : (e.a.empty() || e.b.empty() ? "unknown" : "different");
    t.add({std::string(nsfun::name(e.link)), state, e.a.empty() ? "?" : std::to_string(e.a.ino()),
           e.b.empty() ? "?" : std::to_string(e.b.ino())});
  }
  print(t.render(true, false) + fmt::format("{} of {} differ\n", differ, total));
}

}  // namespace

void register_diff(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("diff", "Compare the namespaces of two processes");
  sub->add_option("PID1", o->a, "The first process")->required()->check(CLI::PositiveNumber);
  sub->add_option("PID2", o->b, "The second process")->required()->check(CLI::PositiveNumber);
  add_json_flag(*sub, o->json);
  sub->footer(
      "Every /proc/PID/ns link, pid_for_children and time_for_children included. A link\n"
      "that cannot be read counts as different. The exit status is 0 either way.\n\n"
      "Example:\n  nsm diff 1 $$");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
