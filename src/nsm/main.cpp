// SPDX-License-Identifier: MIT
// nsm – the namespace manager: list, tree, inspect, diff, ps, and named sets (create, enter,
// exec, destroy), with util-linux conventions.
//
// Exit status: 0 success, 1 failure (one line `nsm: <what>: <why>` on stderr), 2 usage error
// (one line and a hint).

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "cli.hpp"

namespace {

// The deepest subcommand given so far, for the "Try 'nsm list --help'" hint.
std::string command_path(const CLI::App& app) {
  std::string path = "nsm";
  const CLI::App* at = &app;
  while (true) {
    auto subs = at->get_subcommands();
    if (subs.empty()) {
      break;
    }
    at = subs.front();
    path += ' ';
    path += at->get_name();
  }
  return path;
}

int usage_error(const std::string& command, const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "nsm: {}\nTry '{} --help' for more information.\n", message, command);
  return 2;
}

}  // namespace

// Exceptions (the NOLINT): every command runs in the try below; what is left is CLI11's
// set-up (a programming error the tests catch) and a failed write to stderr, with nowhere left to
// report it.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  CLI::App app("nsm - list, inspect and manage Linux namespaces", "nsm");
  app.set_version_flag("-V,-v,--version", std::string("nsm ") + NSM_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer(
      "Commands: list (ls), tree, inspect (info), diff (compare), ps (procs), create (new),\n"
      "enter (shell), exec (run), destroy (rm, del), help.\n"
      "Run 'nsm COMMAND --help' or 'nsm help COMMAND' for the options of a command.\n\n"
      "Example:\n  nsm list -t net -o +PATH");

  nsm::register_list(app);
  nsm::register_tree(app);
  nsm::register_inspect(app);
  nsm::register_diff(app);
  nsm::register_ps(app);
  nsm::register_create(app);
  nsm::register_enter(app);
  nsm::register_destroy(app);

  // The bash nsm's (namespaces-fun) names for the same commands, so that its users' habits work.
  for (const auto& [name, alias] :
       {std::pair{"inspect", "info"}, std::pair{"create", "new"}, std::pair{"enter", "shell"},
        std::pair{"exec", "run"}, std::pair{"diff", "compare"}, std::pair{"destroy", "rm"},
        std::pair{"destroy", "del"}, std::pair{"ps", "procs"}}) {
    app.get_subcommand(name)->alias(alias);
  }
  // nsm help [COMMAND]: the same as nsm [COMMAND] --help.
  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Show the help of nsm, or of COMMAND");
  help->add_option("COMMAND", help_topic, "A command");
  help->callback([&app, &help_topic] {
    if (help_topic.empty()) {
      // (App::help() would show the selected subcommand, help itself.)
      fmt::print("{}", app.get_formatter()->make_help(&app, "nsm", CLI::AppFormatMode::Normal));
      return;
    }
    CLI::App* sub = nullptr;
    try {
      sub = app.get_subcommand(help_topic);
    } catch (const CLI::OptionNotFound&) {
      throw nsm::UsageError("help", fmt::format("unknown command '{}'", help_topic));
    }
    fmt::print("{}", sub->help("nsm"));
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --help-all, --version
      return app.exit(e);
    }
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && argc > 1 && argv[1][0] != '-' &&
        app.get_subcommands().empty()) {
      return usage_error("nsm", fmt::format("unknown command '{}'", argv[1]));
    }
    return usage_error(command_path(app), e.what());
  } catch (const nsm::UsageError& e) {
    return usage_error("nsm " + e.command(), e.what());
  } catch (const nsm::ExitWith& e) {
    std::fflush(stdout);
    return e.code;
  } catch (const nsm::Failure& e) {
    std::fflush(stdout);
    fmt::print(stderr, "nsm: {}: {}\n", e.context(), e.reason());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "nsm: {}\n", e.what());
    return 1;
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    fmt::print(stderr, "nsm: write error\n");
    return 1;
  }
  return 0;
}
