#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phigate::policy {

/// What a statement does, as far as policy is concerned. A statement may have several kinds at once
/// (`COPY (DELETE ... RETURNING *) TO STDOUT` is a write and an export).
enum class statement_kind : std::uint8_t {
  read,         ///< returns rows or metadata without changing anything (SELECT, FETCH, plain EXPLAIN)
  write,        ///< changes rows or other persistent non-schema state (INSERT, UPDATE, nextval(), NOTIFY)
  ddl,          ///< changes schema objects (CREATE/ALTER/DROP, TRUNCATE, COMMENT ON)
  export_data,  ///< moves data out of the database's control or copies it in bulk (COPY TO, pg_read_file,
                ///< dblink, CREATE TABLE AS, INSERT ... SELECT); spelled "export"
  privilege,    ///< changes who may do what (GRANT, REVOKE, roles, SET ROLE, SECURITY DEFINER functions)
  admin,        ///< server side effects (pg_terminate_backend, set_config, VACUUM, ALTER SYSTEM) and any
                ///< function not known to be read-only
  session,      ///< session state only (SET, SHOW, BEGIN/COMMIT, DISCARD, LISTEN)
  unknown,      ///< cannot be analyzed (DO, CALL, EXECUTE, parse errors); never silently allowed
};

/// Number of enumerators in statement_kind.
inline constexpr std::size_t statement_kind_count = 8;

/// The policy-facing name: "read", "write", "ddl", "export", "privilege", "admin", "session", "unknown".
std::string_view to_string(statement_kind kind) noexcept;

/// Inverse of to_string; nullopt for any other text.
std::optional<statement_kind> statement_kind_from_string(std::string_view name) noexcept;

/// Severity rank used to pick the strictest kind: unknown > privilege > export > admin > ddl > write >
/// session > read. Higher is stricter.
int strictness(statement_kind kind) noexcept;

/// A small set of kinds (bit set over statement_kind).
class kind_set {
 public:
  constexpr kind_set() = default;

  void insert(statement_kind kind) noexcept { bits_ |= bit(kind); }
  void insert(kind_set other) noexcept { bits_ |= other.bits_; }
  [[nodiscard]] bool contains(statement_kind kind) const noexcept { return (bits_ & bit(kind)) != 0; }
  [[nodiscard]] bool empty() const noexcept { return bits_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept;

  /// The strictest member by strictness(); nullopt when empty.
  [[nodiscard]] std::optional<statement_kind> strictest() const noexcept;

  /// Comma-separated names in enum order, e.g. "read,export"; "" when empty.
  [[nodiscard]] std::string to_string() const;
  /// One bit per member kind (a key for caches of derived values).
  [[nodiscard]] std::uint16_t bits() const noexcept { return bits_; }

  friend bool operator==(kind_set, kind_set) = default;

 private:
  static constexpr std::uint16_t bit(statement_kind kind) noexcept {
    return static_cast<std::uint16_t>(1U << static_cast<unsigned>(kind));
  }
  std::uint16_t bits_ = 0;
};

}  // namespace phigate::policy
