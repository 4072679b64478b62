// SPDX-License-Identifier: MIT
// nsm – shared helpers: errors, tables, JSON, colour, user names.

#include "cli.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsm {

std::string why(const nsfun::error& e) {
  return e.code.message();
}

void fail_pid(pid_t pid, const nsfun::error& e) {
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

std::string Table::render(bool headings, bool raw) const {
  const std::size_t ncols = columns_.size();
  std::string out;
  const bool bold = headings && !raw && colour_enabled();
  if (raw) {
    auto line = [&](const std::vector<std::string>& cells) {
      for (std::size_t i = 0; i < ncols; ++i) {
        if (i != 0) {
          out += ' ';
        }
        out += raw_escape(i < cells.size() ? cells[i] : std::string());
      }
      out += '\n';
    };
    if (headings) {
      std::vector<std::string> names;
      for (const Column& c : columns_) {
        names.push_back(c.name);
      }
      line(names);
    }
    for (const auto& row : rows_) {
      line(row);
    }
    return out;
  }
  std::vector<std::size_t> width(ncols, 0);
  for (std::size_t i = 0; i < ncols; ++i) {
    if (headings) {
      width[i] = display_width(columns_[i].name);
    }
    for (const auto& row : rows_) {
      if (i < row.size()) {
        width[i] = std::max(width[i], display_width(row[i]));
      }
    }
  }
  auto line = [&](const std::vector<std::string>& cells, bool is_heading) {
    std::string text;
    for (std::size_t i = 0; i < ncols; ++i) {
      const std::string empty;
      const std::string& cell = i < cells.size() ? cells[i] : empty;
      std::size_t pad = width[i] - display_width(cell);
      if (i != 0) {
        text += ' ';
      }
      if (columns_[i].right) {
        text.append(pad, ' ');
        text += cell;
      } else {
        text += cell;
        if (i + 1 < ncols) {
          text.append(pad, ' ');
        }
      }
    }
    while (!text.empty() && text.back() == ' ') {
      text.pop_back();
    }
    out += is_heading && bold ? heading(text) : text;
    out += '\n';
  };
  if (headings) {
    std::vector<std::string> names;
    for (const Column& c : columns_) {
      names.push_back(c.name);
    }
    line(names, true);
  }
  for (const auto& row : rows_) {
    line(row, false);
  }
  return out;
}

void add_json_flag(CLI::App& sub, bool& json) {
  sub.add_flag("-J,--json", json, "Use JSON output format");
}

}  // namespace nsm
