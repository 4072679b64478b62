// SPDX-License-Identifier: MIT
// nsm – shared helpers for the subcommands: errors, tables, JSON, colour, user names.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <nsfun/error.hpp>
#include <nsfun/ns_type.hpp>

namespace nsm {

/// JSON with keys in insertion order (columns stay in the order asked for).
using Json = nlohmann::ordered_json;

/// A run-time failure: main prints `nsm: <what>: <why>` and exits 1.
class Failure : public std::runtime_error {
 public:
  Failure(std::string what, std::string why)
      : std::runtime_error(what + ": " + why), what_(std::move(what)), why_(std::move(why)) {}

  [[nodiscard]] const std::string& context() const noexcept { return what_; }

  [[nodiscard]] const std::string& reason() const noexcept { return why_; }

 private:
  std::string what_;
  std::string why_;
};

/// A usage error found after parsing (bad column, bad type): main prints one line plus a hint
/// naming `command`, and exits 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(std::string command, const std::string& message)
      : std::runtime_error(message), command_(std::move(command)) {}

  [[nodiscard]] const std::string& command() const noexcept { return command_; }

 private:
  std::string command_;
};

/// Thrown by a command that ran a program: main flushes stdout and exits with `code`.
struct ExitWith {
  int code = 0;
};

/// Throws Failure{"pid N", …} for an error about process `pid`: "No such process" when it is
/// gone, else the error's whole text.
[[noreturn]] void fail_pid(pid_t pid, const nsfun::error& e);

/// The whole text of an nsfun error: its step, the object it failed on, the reason and the
/// kernel's own words ("open /proc/42/ns/net: No such process").
[[nodiscard]] std::string why(const nsfun::error& e);

/// Parses one or more type lists ("net", "net,uts", "all"); throws UsageError for `command`.
[[nodiscard]] nsfun::NsTypeSet parse_types(const std::string& command,
                                           const std::vector<std::string>& lists);

/// True when stdout is a terminal and NO_COLOR is unset (or empty).
[[nodiscard]] bool colour_enabled();

/// `s` in bold when colour is on.
[[nodiscard]] std::string heading(std::string_view s);

/// The login name of `uid` (cached), its number when it has none, "" for -1.
[[nodiscard]] std::string user_name(uid_t uid);

/// Writes `j` to stdout, indented, with a final newline.
void print_json(const Json& j);

/// The type names of `types` as a JSON array (["net","uts"]), user first as NsTypeSet orders them.
[[nodiscard]] Json types_json(nsfun::NsTypeSet types);

/// Writes `s` to stdout as is.
void print(std::string_view s);

/// A column of a Table.
struct Column {
  std::string name;
  bool right = false;    ///< right-aligned (numbers)
  std::size_t hint = 0;  ///< libsmartcols's width hint (see column_width)
};

/// How wide libsmartcols makes a column whose widest cell is `data_width`: at least as wide as
/// its heading (when headings are shown), and as wide as its hint when the data is no narrower
/// than the heading but narrower than the hint (lsns's PID is "  PID" over 4-digit pids, but
/// "PID" over "2").
[[nodiscard]] std::size_t column_width(const Column& c, std::size_t data_width, bool headings);

/// A table laid out like util-linux's libsmartcols: padded columns (the last one is not
/// padded), or with `raw`, single spaces with blanks and backslashes escaped as \xHH. The cells
/// are kept in one buffer, so a table of thousands of rows costs a few allocations, not one per
/// cell.
class Table {
 public:
  explicit Table(std::vector<Column> columns);

  /// Adds a row: missing cells are blank, extra ones are dropped.
  void add(const std::vector<std::string>& row);

  /// Room for `rows` rows.
  void reserve(std::size_t rows);

  [[nodiscard]] std::string render(bool headings, bool raw) const;

  /// Writes what render() returns to stdout, a chunk at a time.
  void print(bool headings, bool raw) const;

 private:
  template <class Out>
  void emit(bool headings, bool raw, Out&& out) const;

  [[nodiscard]] std::string_view cell(std::size_t row, std::size_t col) const noexcept;

  std::vector<Column> columns_;
  std::string text_;                ///< every cell, one after another
  std::vector<std::size_t> ends_;   ///< where each cell ends in text_, row by row
  std::vector<std::size_t> width_;  ///< the widest cell of each column (display width)
};

/// Number of terminal columns a UTF-8 string takes (one per code point; good for box drawing).
[[nodiscard]] std::size_t display_width(std::string_view s);

/// The escaping of lsns -r: whitespace, backslashes and controls as \xHH.
[[nodiscard]] std::string raw_escape(std::string_view s);

/// Adds the common -J/--json flag.
void add_json_flag(CLI::App& sub, bool& json);

/// The check of a PID argument: a whole number from 1 to INT_MAX, else the one-line error
/// "'-t' is not a process id (a whole number from 1)" (CLI11 puts the option's name in front).
[[nodiscard]] CLI::Validator pid_check();

// Registration of each subcommand (one per cmd_*.cpp).
void register_list(CLI::App& app);
void register_tree(CLI::App& app);
void register_inspect(CLI::App& app);
void register_diff(CLI::App& app);
void register_ps(CLI::App& app);
void register_create(CLI::App& app);
void register_enter(CLI::App& app);  // enter and exec
void register_destroy(CLI::App& app);
void register_monitor(CLI::App& app);

}  // namespace nsm
