// One parse of a statement string through libpg_query's raw-parse entry points, from which the JSON tree
// and the fingerprint are both taken. pg_query_parse, pg_query_fingerprint and pg_query_normalize each
// parse the text again; taking the JSON and the fingerprint from the same tree halves the analyzer's cost.
#pragma once

#include <pg_query.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace phigate::policy {

/// The raw parse tree of one input, alive (in libpg_query's per-thread memory context) for as long as
/// this object lives. Not copyable or movable: the memory context it entered must be left on the same
/// thread, in the same scope. Nothing else may call libpg_query while one is alive on the thread.
class pg_query_raw_parse_result {
 public:
  /// Parses NUL-terminated `sql` (PostgreSQL 15 grammar).
  explicit pg_query_raw_parse_result(const char* sql) noexcept;
  ~pg_query_raw_parse_result();
  pg_query_raw_parse_result(const pg_query_raw_parse_result&) = delete;
  pg_query_raw_parse_result& operator=(const pg_query_raw_parse_result&) = delete;

  /// The parser's error, or nullptr when the input parsed.
  [[nodiscard]] const PgQueryError* error() const noexcept { return error_; }

  /// The tree as libpg_query's JSON (the text pg_query_parse returns); valid while this object lives.
  /// Empty when the input did not parse.
  [[nodiscard]] std::string_view json() const noexcept {
    return json_ == nullptr ? std::string_view{} : json_;
  }

  /// pg_query_fingerprint of the whole input, computed on this tree (0 when the input did not parse).
  [[nodiscard]] std::uint64_t fingerprint() const noexcept;

 private:
  void* memory_context_ = nullptr;
  void* tree_ = nullptr;
  char* stderr_buffer_ = nullptr;
  PgQueryError* error_ = nullptr;
  char* json_ = nullptr;  ///< palloc'ed in memory_context_
};

/// libpg_query's 16 hex digit spelling of a fingerprint (as in PgQueryFingerprintResult::fingerprint_str).
std::string fingerprint_hex(std::uint64_t fingerprint);

}  // namespace phigate::policy
