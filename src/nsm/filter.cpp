// SPDX-License-Identifier: MIT
// nsm – the row filter of `nsm list -Q`: a small recursive-descent parser for lsns's (util-linux
// 2.40 libsmartcols) filter language, and its evaluation over one row at a time.
//
// Grammar, with libsmartcols's precedence (&& and || bind equally, left to right; comparisons
// and ! bind tighter):
//   expr    := compare { ("&&" | "||" | and | or | AND | OR) compare }
//   compare := unary { op unary }         op: == != < <= > >= eq ne lt le gt ge =~ !~
//   unary   := ("!" | not | NOT) unary | "(" expr ")" | NAME | NUMBER | FLOAT | STRING
//              | true | TRUE | false | FALSE

#include "filter.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <utility>

#include <regex.h>

#include <fmt/format.h>

namespace nsm::filter {

enum class Tok {
  end,
  lparen,
  rparen,
  and_,
  or_,
  not_,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  reg,
  nreg,
  true_,
  false_,
  number,
  floating,
  string,
  name,
};

struct Token {
  Tok tok = Tok::end;
  std::string_view text;
  std::size_t pos = 0;  // 0-based
};

// A compiled POSIX extended regular expression (what libsmartcols uses).
struct Regex {
  regex_t re{};
  bool ok = false;

  Regex() = default;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  ~Regex() {
    if (ok) {
      ::regfree(&re);
    }
  }
};

struct Node {
  enum class Kind { number, floating, string, boolean, column, and_, or_, not_, compare, regex };
  Kind kind = Kind::number;
  Tok op = Tok::end;  // for compare and regex (reg or nreg)
  std::uint64_t num = 0;
  double flt = 0;
  std::string str;
  bool boolean = false;
  ColumnRef col;
  std::unique_ptr<Node> left;
  std::unique_ptr<Node> right;
  std::unique_ptr<Regex> re;
};

namespace {

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  auto push = [&](Tok t, std::size_t len) {
    out.push_back({t, s.substr(i, len), i});
    i += len;
  };
  while (i < s.size()) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (c == ' ' || c == '\t' || c == '\n') {
      ++i;
    } else if (c == '(') {
      push(Tok::lparen, 1);
    } else if (c == ')') {
      push(Tok::rparen, 1);
    } else if (c == '&' && next == '&') {
      push(Tok::and_, 2);
    } else if (c == '|' && next == '|') {
      push(Tok::or_, 2);
    } else if (c == '=' && next == '=') {
      push(Tok::eq, 2);
    } else if (c == '=' && next == '~') {
      push(Tok::reg, 2);
    } else if (c == '!' && next == '=') {
      push(Tok::ne, 2);
    } else if (c == '!' && next == '~') {
      push(Tok::nreg, 2);
    } else if (c == '!') {
      push(Tok::not_, 1);
    } else if (c == '<') {
      push(next == '=' ? Tok::le : Tok::lt, next == '=' ? 2 : 1);
    } else if (c == '>') {
      push(next == '=' ? Tok::ge : Tok::gt, next == '=' ? 2 : 1);
    } else if (c == '"' || c == '\'') {
      const std::size_t close = s.find_first_of(std::string{c, '\n'}, i + 1);
      if (close == std::string_view::npos || s[close] != c) {
        throw Error(fmt::format("unterminated string starting with {}", c), i + 1);
      }
      push(Tok::string, close - i + 1);
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) != 0) {
        ++j;
      }
      Tok t = Tok::number;
      if (j + 1 < s.size() && s[j] == '.' &&
          std::isdigit(static_cast<unsigned char>(s[j + 1])) != 0) {
        ++j;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) != 0) {
          ++j;
        }
        t = Tok::floating;
      }
      push(t, j - i);
    } else if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      std::size_t j = i;
      while (j < s.size() && is_word(s[j])) {
        ++j;
      }
      const std::string_view w = s.substr(i, j - i);
      Tok t = Tok::name;
      if (w == "and" || w == "AND") {
        t = Tok::and_;
      } else if (w == "or" || w == "OR") {
        t = Tok::or_;
      } else if (w == "not" || w == "NOT") {
        t = Tok::not_;
      } else if (w == "eq") {
        t = Tok::eq;
      } else if (w == "ne") {
        t = Tok::ne;
      } else if (w == "lt") {
        t = Tok::lt;
      } else if (w == "le") {
        t = Tok::le;
      } else if (w == "gt") {
        t = Tok::gt;
      } else if (w == "ge") {
        t = Tok::ge;
      } else if (w == "true" || w == "TRUE") {
        t = Tok::true_;
      } else if (w == "false" || w == "FALSE") {
        t = Tok::false_;
      }
      push(t, j - i);
    } else {
      throw Error(fmt::format("unexpected character '{}'", c), i + 1);
    }
  }
  out.push_back({Tok::end, {}, s.size()});
  return out;
}

bool is_compare(Tok t) {
  switch (t) {
    case Tok::eq:
    case Tok::ne:
    case Tok::lt:
    case Tok::le:
    case Tok::gt:
    case Tok::ge:
    case Tok::reg:
    case Tok::nreg:
      return true;
    default:
      return false;
  }
}

std::string describe(const Token& t) {
  if (t.tok == Tok::end) {
    return "end";
  }
  return fmt::format("'{}'", t.text);
}

class Parser {
 public:
  Parser(std::vector<Token> toks,
         const std::function<std::optional<ColumnRef>(std::string_view)>& lookup,
         std::vector<int>& columns)
      : toks_(std::move(toks)), lookup_(lookup), columns_(columns) {}

  std::unique_ptr<Node> parse() {
    auto n = expr();
    if (peek().tok != Tok::end) {
      fail("an operator or the end");
    }
    return n;
  }

 private:
  const Token& peek() const { return toks_[at_]; }

  const Token& take() { return toks_[at_++]; }

  [[noreturn]] void fail(const std::string& expected) const {
    throw Error(fmt::format("unexpected {} (expected {})", describe(peek()), expected),
                peek().pos + 1);
  }

  std::unique_ptr<Node> expr() {
    auto left = compare();
    while (peek().tok == Tok::and_ || peek().tok == Tok::or_) {
      const Tok op = take().tok;
      auto n = std::make_unique<Node>();
      n->kind = op == Tok::and_ ? Node::Kind::and_ : Node::Kind::or_;
      n->left = std::move(left);
      n->right = compare();
      left = std::move(n);
    }
    return left;
  }

  std::unique_ptr<Node> compare() {
    auto left = unary();
    while (is_compare(peek().tok)) {
      const Token op = take();
      auto n = std::make_unique<Node>();
      n->op = op.tok;
      n->left = std::move(left);
      if (op.tok == Tok::reg || op.tok == Tok::nreg) {
        if (peek().tok != Tok::string) {
          fail(fmt::format("a quoted regular expression after {}", describe(op)));
        }
        const Token& pattern = take();
        n->kind = Node::Kind::regex;
        n->re = std::make_unique<Regex>();
        const std::string text(pattern.text.substr(1, pattern.text.size() - 2));
        const int rc = ::regcomp(&n->re->re, text.c_str(), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
          std::array<char, 256> buf{};
          ::regerror(rc, &n->re->re, buf.data(), buf.size());
          throw Error(fmt::format("bad regular expression {}: {}", pattern.text, buf.data()),
                      pattern.pos + 1);
        }
        n->re->ok = true;
      } else {
        n->kind = Node::Kind::compare;
        n->right = unary();
      }
      left = std::move(n);
    }
    return left;
  }

  std::unique_ptr<Node> unary() {
    auto n = std::make_unique<Node>();
    const Token& t = peek();
    switch (t.tok) {
      case Tok::not_:
        take();
        n->kind = Node::Kind::not_;
        n->left = unary();
        return n;
      case Tok::lparen: {
        take();
        auto inner = expr();
        if (peek().tok != Tok::rparen) {
          fail("')'");
        }
        take();
        return inner;
      }
      case Tok::number: {
        const auto* end = t.text.data() + t.text.size();
        auto [p, ec] = std::from_chars(t.text.data(), end, n->num);
        if (ec != std::errc() || p != end) {
          throw Error(fmt::format("number {} is too large", t.text), t.pos + 1);
        }
        n->kind = Node::Kind::number;
        take();
        return n;
      }
      case Tok::floating:
        n->kind = Node::Kind::floating;
        n->flt = std::strtod(std::string(t.text).c_str(), nullptr);
        take();
        return n;
      case Tok::string:
        n->kind = Node::Kind::string;
        n->str = std::string(t.text.substr(1, t.text.size() - 2));
        take();
        return n;
      case Tok::true_:
      case Tok::false_:
        n->kind = Node::Kind::boolean;
        n->boolean = t.tok == Tok::true_;
        take();
        return n;
      case Tok::name: {
        auto col = lookup_(t.text);
        if (!col) {
          throw Error(fmt::format("unknown column '{}'", t.text), t.pos + 1);
        }
        n->kind = Node::Kind::column;
        n->col = *col;
        if (std::find(columns_.begin(), columns_.end(), col->id) == columns_.end()) {
          columns_.push_back(col->id);
        }
        take();
        return n;
      }
      default:
        fail("a column, a value, '!' or '('");
    }
  }

  std::vector<Token> toks_;
  std::size_t at_ = 0;
  const std::function<std::optional<ColumnRef>(std::string_view)>& lookup_;
  std::vector<int>& columns_;
};

// A value met during evaluation.
struct Val {
  enum class Type { number, floating, string, boolean };
  Type type = Type::string;
  bool from_string_column = false;
  bool empty = false;
  std::uint64_t num = 0;
  double flt = 0;
  std::string str;
  bool boolean = false;

  [[nodiscard]] std::string text() const {
    switch (type) {
      case Type::number:
        return empty ? std::string() : std::to_string(num);
      case Type::floating:
        return fmt::format("{}", flt);
      case Type::boolean:
        return boolean ? "true" : "false";
      case Type::string:
        break;
    }
    return str;
  }

  // As a number: nothing when it is empty or not one.
  [[nodiscard]] std::optional<double> as_double() const {
    switch (type) {
      case Type::number:
        return empty ? std::nullopt : std::optional<double>(static_cast<double>(num));
      case Type::floating:
        return flt;
      case Type::boolean:
        return boolean ? 1.0 : 0.0;
      case Type::string:
        break;
    }
    if (str.empty()) {
      return std::nullopt;
    }
    char* end = nullptr;
    const double d = std::strtod(str.c_str(), &end);
    return end != nullptr && *end == '\0' ? std::optional<double>(d) : std::nullopt;
  }

  [[nodiscard]] std::optional<std::uint64_t> as_u64() const {
    switch (type) {
      case Type::number:
        return empty ? std::nullopt : std::optional<std::uint64_t>(num);
      case Type::boolean:
        return boolean ? 1 : 0;
      case Type::floating:
        return std::nullopt;
      case Type::string:
        break;
    }
    std::uint64_t v = 0;
    const char* end = str.data() + str.size();
    auto [p, ec] = std::from_chars(str.data(), end, v);
    return ec == std::errc() && p == end && !str.empty() ? std::optional<std::uint64_t>(v)
                                                         : std::nullopt;
  }
};

template <class T>
bool compare_with(Tok op, const T& a, const T& b) {
  switch (op) {
    case Tok::eq:
      return a == b;
    case Tok::ne:
      return a != b;
    case Tok::lt:
      return a < b;
    case Tok::le:
      return a <= b;
    case Tok::gt:
      return a > b;
    case Tok::ge:
      return a >= b;
    default:
      return false;
  }
}

bool truth(const Node& n, const std::function<Cell(int)>& cell);

Val value(const Node& n, const std::function<Cell(int)>& cell) {
  Val v;
  switch (n.kind) {
    case Node::Kind::number:
      v.type = Val::Type::number;
      v.num = n.num;
      return v;
    case Node::Kind::floating:
      v.type = Val::Type::floating;
      v.flt = n.flt;
      return v;
    case Node::Kind::string:
      v.type = Val::Type::string;
      v.str = n.str;
      return v;
    case Node::Kind::boolean:
      v.type = Val::Type::boolean;
      v.boolean = n.boolean;
      return v;
    case Node::Kind::column: {
      Cell c = cell(n.col.id);
      v.empty = c.empty;
      if (n.col.number) {
        v.type = Val::Type::number;
        v.num = c.num;
      } else {
        v.type = Val::Type::string;
        v.from_string_column = true;
        v.str = std::move(c.text);
      }
      return v;
    }
    default:
      v.type = Val::Type::boolean;
      v.boolean = truth(n, cell);
      return v;
  }
}

bool compare_values(Tok op, const Val& a, const Val& b) {
  using T = Val::Type;
  // A string column compares as text; a number on either side otherwise makes it a number
  // comparison, in which an empty cell (or text that is no number) matches nothing.
  if (a.from_string_column || b.from_string_column) {
    return compare_with(op, a.text(), b.text());
  }
  if (a.type == T::floating || b.type == T::floating) {
    auto x = a.as_double();
    auto y = b.as_double();
    return x && y && compare_with(op, *x, *y);
  }
  if (a.type == T::number || b.type == T::number) {
    auto x = a.as_u64();
    auto y = b.as_u64();
    return x && y && compare_with(op, *x, *y);
  }
  if (a.type == T::boolean && b.type == T::boolean) {
    return compare_with(op, a.boolean, b.boolean);
  }
  return compare_with(op, a.text(), b.text());
}

bool truth(const Node& n, const std::function<Cell(int)>& cell) {
  switch (n.kind) {
    case Node::Kind::and_:
      return truth(*n.left, cell) && truth(*n.right, cell);
    case Node::Kind::or_:
      return truth(*n.left, cell) || truth(*n.right, cell);
    case Node::Kind::not_:
      return !truth(*n.left, cell);
    case Node::Kind::compare:
      return compare_values(n.op, value(*n.left, cell), value(*n.right, cell));
    case Node::Kind::regex: {
      const std::string text = value(*n.left, cell).text();
      const bool hit = ::regexec(&n.re->re, text.c_str(), 0, nullptr, 0) == 0;
      return n.op == Tok::reg ? hit : !hit;
    }
    case Node::Kind::number:
      return n.num != 0;
    case Node::Kind::floating:
      return n.flt != 0;
    case Node::Kind::string:
      return !n.str.empty();
    case Node::Kind::boolean:
      return n.boolean;
    case Node::Kind::column: {
      // A bare column: true when the row has a value there (and a number one is not 0).
      const Cell c = cell(n.col.id);
      return !c.empty && (!n.col.number || c.num != 0);
    }
  }
  return false;
}

}  // namespace

Expr Expr::parse(std::string_view text,
                 const std::function<std::optional<ColumnRef>(std::string_view)>& lookup) {
  Expr e;
  Parser p(tokenize(text), lookup, e.columns_);
  if (text.find_first_not_of(" \t\n") == std::string_view::npos) {
    throw Error("the expression is empty", 1);
  }
  e.root_ = p.parse();
  return e;
}

Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;
Expr::~Expr() = default;

bool Expr::matches(const std::function<Cell(int id)>& cell) const {
  return root_ == nullptr || truth(*root_, cell);
}

}  // namespace nsm::filter
