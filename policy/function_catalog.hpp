#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "policy/statement_facts.hpp"

namespace phigate::policy {

/// What calling a function does, for classification.
enum class function_class : std::uint8_t {
  read_only,      ///< no side effects (count, lower, now, pg_get_indexdef, ...)
  write,          ///< changes persistent state that is not schema (nextval, lo_create, pg_notify)
  export_data,    ///< reads server files, runs remote queries, drains replication (pg_read_file, dblink)
  admin,          ///< server side effects (set_config, pg_terminate_backend, pg_reload_conf)
  runs_sql_text,  ///< executes SQL given as a string the analyzer cannot see (query_to_xml, ts_stat)
  not_known,      ///< not in any list: treated as admin, because it may do anything
};

/// Built-in knowledge of PostgreSQL functions, extensible by the policy file.
///
/// Names are matched unqualified when the call is unqualified or qualified with pg_catalog: an
/// unqualified built-in resolves to pg_catalog first unless search_path names pg_catalog later,
/// which the session layer reports as a session change. Calls qualified with any other schema match
/// only entries added with that schema ("audit.safe_fn").
class function_catalog {
 public:
  /// The built-in lists.
  function_catalog();

  /// Marks a function read-only; `name` is "fn" (built-in spelling) or "schema.fn".
  void add_read_only(std::string_view name);
  /// Marks a function with any class; later calls override earlier ones.
  void set_class(std::string_view name, function_class cls);

  [[nodiscard]] function_class classify(const function_call& call) const;

 private:
  std::unordered_map<std::string, function_class> classes_;
};

/// The catalog with only built-in knowledge, shared and immutable.
const function_catalog& builtin_function_catalog();

}  // namespace phigate::policy
