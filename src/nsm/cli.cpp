// SPDX-License-Identifier: MIT
// nsm – shared helpers: errors, tables, JSON, colour, user names.

#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsm {

std::string why(const nsfun::error& e) {
  return e.message();
}

void fail_pid(pid_t pid, const nsfun::error& e) {
  // A process that is gone is the whole story; for anything else the step and file tell which
  // part of it could not be read ("read /proc/1/ns: Permission denied").
  if (e == std::errc::no_such_process) {
    throw Failure(fmt::format("pid {}", pid), e.code.message());
  }
  throw Failure(fmt::format("pid {}", pid), why(e));
}

nsfun::NsTypeSet parse_types(const std::string& command, const std::vector<std::string>& lists) {
  nsfun::NsTypeSet types;
  for (const std::string& list : lists) {
    auto parsed = nsfun::NsTypeSet::parse(list);
    if (!parsed) {
      throw UsageError(command, fmt::format("unknown namespace type in '{}' (known: "
                                            "user,mnt,uts,ipc,pid,net,cgroup,time or all)",
                                            list));
    }
    types = types | parsed.value();
  }
  return types;
}

bool colour_enabled() {
  static const bool on = [] {
    const char* no_colour = std::getenv("NO_COLOR");
    return ::isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
  }();
  return on;
}

std::string heading(std::string_view s) {
  if (!colour_enabled()) {
    return std::string(s);
  }
  return fmt::format("\033[1m{}\033[0m", s);
}

std::string user_name(uid_t uid) {
  static std::map<uid_t, std::string> cache;
  if (uid == static_cast<uid_t>(-1)) {
    return {};
  }
  auto it = cache.find(uid);
  if (it == cache.end()) {
    const passwd* pw = ::getpwuid(uid);
    it = cache.emplace(uid, pw != nullptr ? pw->pw_name : std::to_string(uid)).first;
  }
  return it->second;
}

void print(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
}

void print_json(const Json& j) {
  print(j.dump(2, ' ', false, Json::error_handler_t::replace));
  print("\n");
}

Json types_json(nsfun::NsTypeSet types) {
  Json arr = Json::array();
  for (nsfun::NsType t : types) {
    arr.push_back(std::string(nsfun::name(t)));
  }
  return arr;
}

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    // Count every byte that does not continue a UTF-8 sequence.
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++n;
    }
  }
  return n;
}

std::size_t column_width(const Column& c, std::size_t data_width, bool headings) {
  const std::size_t heading = display_width(c.name);
  if (data_width < heading) {
    return headings ? heading : data_width;
  }
  if (c.hint != 0 && data_width < c.hint && heading < c.hint) {
    return c.hint;
  }
  return data_width;
}

std::string raw_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20U || u == 0x7FU || c == '\\') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

Table::Table(std::vector<Column> columns)
    : columns_(std::move(columns)), width_(columns_.size(), 0) {}

void Table::add(const std::vector<std::string>& row) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (i < row.size()) {
      text_ += row[i];
      width_[i] = std::max(width_[i], display_width(row[i]));
    }
    ends_.push_back(text_.size());
  }
}

void Table::reserve(std::size_t rows) {
  ends_.reserve(rows * columns_.size());
  // Generous: pages of the reserve that are never written cost nothing, while growing past it
  // copies everything into fresh pages.
  text_.reserve(rows * columns_.size() * 24);
}

std::string_view Table::cell(std::size_t row, std::size_t col) const noexcept {
  std::size_t at = row * columns_.size() + col;
  std::size_t begin = at == 0 ? 0 : ends_[at - 1];
  return std::string_view(text_).substr(begin, ends_[at] - begin);
}

// Calls out(line) for each line of the table, newline included; the line's buffer is reused.
template <class Out>
void Table::emit(bool headings, bool raw, Out&& out) const {
  const std::size_t ncols = columns_.size();
  if (ncols == 0) {
    return;
  }
  const std::size_t nrows = ends_.size() / ncols;
  const bool bold = headings && !raw && colour_enabled();
  std::vector<std::size_t> width = width_;
  for (std::size_t i = 0; i < ncols; ++i) {
    width[i] = column_width(columns_[i], width_[i], headings);
  }
  std::string line;
  auto put = [&](auto&& cell_at, bool is_heading) {
    line.clear();
    for (std::size_t i = 0; i < ncols; ++i) {
      std::string_view c = cell_at(i);
      if (i != 0) {
        line += ' ';
      }
      if (raw) {
        line += raw_escape(c);
        continue;
      }
      std::size_t pad = width[i] - display_width(c);
      if (columns_[i].right) {
        line.append(pad, ' ');
        line += c;
      } else {
        line += c;
        if (i + 1 < ncols) {
          line.append(pad, ' ');
        }
      }
    }
    if (!raw) {
      while (!line.empty() && line.back() == ' ') {
        line.pop_back();
      }
    }
    if (is_heading && bold) {
      line = heading(line);
    }
    line += '\n';
    out(std::string_view(line));
  };
  if (headings) {
    put([&](std::size_t i) { return std::string_view(columns_[i].name); }, true);
  }
  for (std::size_t r = 0; r < nrows; ++r) {
    put([&](std::size_t i) { return cell(r, i); }, false);
  }
}

std::string Table::render(bool headings, bool raw) const {
  std::string out;
  emit(headings, raw, [&](std::string_view line) { out += line; });
  return out;
}

void Table::print(bool headings, bool raw) const {
  // A chunk this size keeps the same few pages in use however long the table is.
  constexpr std::size_t chunk = 64 * 1024;
  std::string buf;
  buf.reserve(chunk);
  emit(headings, raw, [&](std::string_view line) {
    buf += line;
    if (buf.size() >= chunk) {
      nsm::print(buf);
      buf.clear();
    }
  });
  nsm::print(buf);
}

void add_json_flag(CLI::App& sub, bool& json) {
  sub.add_flag("-J,--json", json, "Use JSON output format");
}

CLI::Validator pid_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int pid = 0;
        const char* end = text.data() + text.size();
        auto [p, ec] = std::from_chars(text.data(), end, pid);
        if (ec == std::errc() && p == end && pid > 0) {
          return {};
        }
        // Quote at most 64 bytes of what was given.
        std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
        return "'" + shown + "' is not a process id (a whole number from 1)";
      },
      "PID");
}

}  // namespace nsm
