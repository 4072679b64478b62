// SPDX-License-Identifier: MIT
// nsm – the namespace manager: list, tree, inspect, diff, ps, monitor, and named sets (create,
// enter, exec, destroy), with util-linux conventions.
//
// Exit status: 0 success, 1 failure (one line `nsm: <what>: <why>` on stderr), 2 usage error
// (one line and a hint).

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <regex>
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

bool looks_like_option(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' && (std::isdigit(static_cast<unsigned char>(arg[1])) == 0);
}

// CLI11's own messages, said the way the rest of nsm (and util-linux) says them: "unknown option
// '-x'" rather than "The following argument was not expected: -x", "'--task' needs a value"
// rather than "--task: 1 required PID:PID missing".
std::string usage_text(const CLI::ParseError& e) {
  std::string what = e.what();  // not const: returned (moved) at the end
  std::smatch m;
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // The extras come in reverse order: the first one given is the last word.
    const std::size_t space = what.find_last_of(' ');
    const std::string first = space == std::string::npos ? what : what.substr(space + 1);
    return looks_like_option(first) ? fmt::format("unknown option '{}'", first)
                                    : fmt::format("unexpected argument '{}'", first);
  }
  static const std::regex missing(R"(^(\S+): \d+ required .* missing$)");
  static const std::regex at_least(R"(^(\S+): At least (\d+) required but received \d+$)");
  static const std::regex flag_value(
      R"(^(\S+)(: too many inputs for a flag|: Should be true/false or a number| was given a disallowed flag override)$)");
  static const std::regex range(R"(^(\S+): Value (.*) not in range .*$)");
  static const std::regex convert(R"(^Could not convert: (\S+) = (.*)$)");
  if (std::regex_match(what, m, missing)) {
    return fmt::format("'{}' needs a value", m[1].str());
  }
  if (std::regex_match(what, m, at_least)) {
    return fmt::format("'{}' needs at least {} values", m[1].str(), m[2].str());
  }
  if (std::regex_match(what, m, flag_value)) {
    const std::string name = m[1].str();
    return fmt::format("'{}{}' takes no value", name.front() == '-' ? "" : "--", name);
  }
  if (std::regex_match(what, m, range)) {
    return fmt::format("{}: '{}' is out of range", m[1].str(), m[2].str());
  }
  if (std::regex_match(what, m, convert)) {
    return fmt::format("{}: '{}' is not a valid value", m[1].str(), m[2].str());
  }
  return what;
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
  // A flag takes no value: --json=3 is an error, as with getopt, not a silent "true".
  app.option_defaults()->disable_flag_override();
  app.footer(
      "Commands: list (ls), tree, inspect (info), diff (compare), ps (procs), create (new),\n"
      "enter (shell), exec (run), destroy (rm, del), monitor (watch), help.\n"
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
  nsm::register_monitor(app);

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
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && app.get_subcommands().empty()) {
      if (argc == 1) {
        return usage_error("nsm", "a command is required");
      }
      const std::string first = argv[1];
      return usage_error("nsm", looks_like_option(first)
                                    ? fmt::format("unknown option '{}'", first)
                                    : fmt::format("unknown command '{}'", first));
    }
    return usage_error(command_path(app), usage_text(e));
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
