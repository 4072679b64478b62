// SPDX-License-Identifier: MIT
// nsm – the row filter of `nsm list -Q` in the expression language of lsns -Q (util-linux 2.40's
// libsmartcols filters): comparisons, regular expressions, and/or/not, parentheses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nsm::filter {

/// A parse error: what went wrong and where (1-based character position in the expression).
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, std::size_t position)
      : std::runtime_error(message), position_(position) {}

  [[nodiscard]] std::size_t position() const noexcept { return position_; }

 private:
  std::size_t position_;
};

/// A column the expression may name, as the caller's lookup reports it.
struct ColumnRef {
  int id = 0;           ///< the caller's column id, passed back to the cell callback
  bool number = false;  ///< compared as numbers (NS, NPROCS, PID, ...), else as strings
};

/// One cell of a row, as the evaluation asks for it.
struct Cell {
  std::string text;       ///< what the table shows ("" when empty)
  std::uint64_t num = 0;  ///< its value, for number columns
  bool empty = true;      ///< no value: a number comparison with it is false
};

struct Node;

/// A parsed expression.
class Expr {
 public:
  /// Parses `text`. `lookup` resolves a column name (any case) or returns nothing for an unknown
  /// one. Throws Error.
  static Expr parse(std::string_view text,
                    const std::function<std::optional<ColumnRef>(std::string_view)>& lookup);

  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  ~Expr();

  /// The ids of the columns the expression names (each once).
  [[nodiscard]] const std::vector<int>& columns() const noexcept { return columns_; }

  /// Whether a row passes; `cell(id)` gives the row's cell of column `id`.
  [[nodiscard]] bool matches(const std::function<Cell(int id)>& cell) const;

 private:
  Expr() = default;

  std::unique_ptr<Node> root_;
  std::vector<int> columns_;
};

}  // namespace nsm::filter
