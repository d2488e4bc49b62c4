#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/statement_kind.hpp"

namespace phigate::policy {

/// A relation as written in the statement: schema only when the statement qualified it. Resolution
/// against search_path happens later, with the session's settings.
struct table_ref {
  std::string schema;  ///< "" when written unqualified
  std::string name;

  /// "schema.name" or "name".
  [[nodiscard]] std::string qualified() const;
  friend bool operator==(const table_ref&, const table_ref&) = default;
};

/// One column of one relation. `all_columns` stands for `*`, `t.*` or a whole-row reference (`SELECT p
/// FROM patients p`, `row_to_json(p)`): every column of `table`, whatever its definition is.
/// An empty table means the analyzer could not tie the column to a relation (for example an
/// unqualified column in a statement without FROM).
struct column_ref {
  table_ref table;
  std::string column;  ///< "" when all_columns
  bool all_columns = false;

  /// "schema.table.column", "table.column", "table.*" or "column".
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const column_ref&, const column_ref&) = default;
};

/// How a result column is computed from its sources.
enum class column_derivation : std::uint8_t {
  plain_reference,  ///< exactly one source column, unchanged (`ssn`, `p.ssn AS note`)
  expression,       ///< computed from its sources (`lower(ssn)`, `ssn::int`, `row_to_json(p)`, `count(*)`)
  star,             ///< `*` or `t.*` over a relation whose columns are not known here: all its columns
};

std::string_view to_string(column_derivation derivation) noexcept;

/// One output column of the statement's top-level SELECT, RETURNING list or COPY query.
struct result_column {
  std::string name;  ///< the output name PostgreSQL would use ("?column?" for anonymous expressions)
  column_derivation derivation = column_derivation::expression;
  /// Every base column the value derives from, through subqueries and CTEs. Conservative: an
  /// unqualified column that could belong to several relations lists each candidate.
  std::vector<column_ref> sources;
  friend bool operator==(const result_column&, const result_column&) = default;
};

/// One reason a statement has a kind, for humans ("export: COPY ... TO STDOUT").
struct kind_reason {
  statement_kind kind = statement_kind::unknown;
  std::string reason;
  friend bool operator==(const kind_reason&, const kind_reason&) = default;
};

/// A function called anywhere in the statement, with the name as written (lowercased by the parser).
struct function_call {
  std::string schema;  ///< "" when unqualified
  std::string name;
  friend bool operator==(const function_call&, const function_call&) = default;
};

/// How COPY writes its rows (the options of a COPY statement), so fields can be told apart in its data.
struct copy_format {
  enum class kind : std::uint8_t { text, csv, binary } format = kind::text;
  char delimiter = '\t';  ///< tab for text, ',' for csv unless DELIMITER says otherwise
  char quote = '"';       ///< csv only
  char escape = '"';      ///< csv only; defaults to the quote
  bool header = false;    ///< csv: the first row holds the column names
  friend bool operator==(const copy_format&, const copy_format&) = default;
};

/// Everything policy needs to know about one SQL statement. Collections hold no duplicates and keep
/// first-seen order.
struct statement_facts {
  std::string text;               ///< the statement's own text, as split from the input
  std::string normalized;         ///< literals replaced by $n (pg_query_normalize)
  std::uint64_t fingerprint = 0;  ///< pg_query_fingerprint, a cache key stable across literal values
  std::string fingerprint_hex;    ///< the same, as libpg_query prints it

  kind_set kinds;
  std::vector<kind_reason> reasons;  ///< at least one per kind in `kinds`

  /// Relations whose rows are read: FROM, JOIN, USING, subqueries, CTEs, COPY ... TO, MERGE sources,
  /// and (plain EXPLAIN) every relation the explained statement names. CTE names are not relations.
  std::vector<table_ref> tables_read;
  /// Relations the statement changes: DML targets (their columns read in WHERE or RETURNING are in
  /// columns_read), COPY ... FROM targets, tables created by CREATE TABLE AS / SELECT INTO, and the
  /// relations a utility statement alters, drops, grants on, comments on or maintains.
  std::vector<table_ref> tables_written;
  std::vector<column_ref> columns_read;       ///< any column whose value the statement reads
  std::vector<column_ref> columns_written;    ///< target columns of INSERT/UPDATE/MERGE/COPY FROM
  std::vector<column_ref> predicate_columns;  ///< read in WHERE/JOIN/GROUP BY/HAVING/ORDER BY/window:
                                              ///< they leak values by inference even when not returned
  std::vector<function_call> functions;
  std::vector<result_column> result_columns;
  copy_format copy;  ///< for COPY statements: the format their data is written in

  /// True when these facts may not hold for the same statement with other literal values: some fact
  /// was read from a literal (`ORDER BY 2`, `set_config('role', ...)`), a string literal reaches a
  /// function or a reg* cast (`nextval('s')`, `'patients'::regclass`), or the statement is not plain
  /// DML (utility statements: SET, COPY, EXPLAIN, ...). A cache keyed by text with literals taken out
  /// must not reuse such facts.
  bool literal_sensitive = false;

  /// Records a kind with its reason; one reason per distinct (kind, reason) pair.
  void add_kind(statement_kind kind, std::string reason);
  void add_table_read(const table_ref& table);
  void add_table_written(const table_ref& table);
  void add_column_read(const column_ref& column);
  void add_column_written(const column_ref& column);
  void add_predicate_column(const column_ref& column);
  void add_function(const function_call& function);

  friend bool operator==(const statement_facts&, const statement_facts&) = default;
};

}  // namespace phigate::policy
