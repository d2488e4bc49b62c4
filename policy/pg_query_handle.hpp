#pragma once

#include <pg_query.h>

#include <string>
#include <utility>

namespace phigate::policy {

/// Owns one libpg_query result struct and frees it with the matching pg_query_free_* function.
/// Move-only. Every libpg_query call in policy/ goes through one of the aliases below, so no result
/// (parse tree, error message, stderr buffer) outlives its scope.
template <typename Result, void (*Free)(Result)>
class pg_query_handle {
 public:
  explicit pg_query_handle(Result result) noexcept : result_(result), owned_(true) {}
  pg_query_handle(const pg_query_handle&) = delete;
  pg_query_handle& operator=(const pg_query_handle&) = delete;
  pg_query_handle(pg_query_handle&& other) noexcept
      : result_(other.result_), owned_(std::exchange(other.owned_, false)) {}
  pg_query_handle& operator=(pg_query_handle&& other) noexcept {
    if (this != &other) {
      reset();
      result_ = other.result_;
      owned_ = std::exchange(other.owned_, false);
    }
    return *this;
  }
  ~pg_query_handle() { reset(); }

  [[nodiscard]] const Result& get() const noexcept { return result_; }
  const Result* operator->() const noexcept { return &result_; }

 private:
  void reset() noexcept {
    if (owned_) Free(result_);
    owned_ = false;
  }
  Result result_{};
  bool owned_ = false;
};

using parse_handle = pg_query_handle<PgQueryParseResult, pg_query_free_parse_result>;
using normalize_handle = pg_query_handle<PgQueryNormalizeResult, pg_query_free_normalize_result>;
using fingerprint_handle = pg_query_handle<PgQueryFingerprintResult, pg_query_free_fingerprint_result>;
using split_handle = pg_query_handle<PgQuerySplitResult, pg_query_free_split_result>;

/// The parser's message, prefixed with nothing; "parse error" when libpg_query gave none.
inline std::string pg_query_error_text(const PgQueryError* error) {
  if (error == nullptr || error->message == nullptr) return "parse error";
  return error->message;
}

}  // namespace phigate::policy
