// Session settings that change how a statement resolves. The gateway learns them from the statements it
// forwards: a SET is parsed again here (cheap: only statements whose reasons mention search_path, ROLE, RESET
// ALL or DISCARD reach the parser) so that the analyzer's facts stay free of session state.
#include "policy/session_facts.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>

#include "policy/parse_tree.hpp"
#include "policy/pg_query_handle.hpp"

namespace phigate::policy {
namespace {

using parse_tree::object;

// Every relation (table, view, sequence) of PostgreSQL 15's pg_catalog, sorted: PostgreSQL searches
// pg_catalog before the search_path unless the path names it, so these names always resolve there.
constexpr std::array pg_catalog_relations = {"pg_aggregate",
                                             "pg_am",
                                             "pg_amop",
                                             "pg_amproc",
                                             "pg_attrdef",
                                             "pg_attribute",
                                             "pg_auth_members",
                                             "pg_authid",
                                             "pg_available_extension_versions",
                                             "pg_available_extensions",
                                             "pg_backend_memory_contexts",
                                             "pg_cast",
                                             "pg_class",
                                             "pg_collation",
                                             "pg_config",
                                             "pg_constraint",
                                             "pg_conversion",
                                             "pg_cursors",
                                             "pg_database",
                                             "pg_db_role_setting",
                                             "pg_default_acl",
                                             "pg_depend",
                                             "pg_description",
                                             "pg_enum",
                                             "pg_event_trigger",
                                             "pg_extension",
                                             "pg_file_settings",
                                             "pg_foreign_data_wrapper",
                                             "pg_foreign_server",
                                             "pg_foreign_table",
                                             "pg_group",
                                             "pg_hba_file_rules",
                                             "pg_ident_file_mappings",
                                             "pg_index",
                                             "pg_indexes",
                                             "pg_inherits",
                                             "pg_init_privs",
                                             "pg_language",
                                             "pg_largeobject",
                                             "pg_largeobject_metadata",
                                             "pg_locks",
                                             "pg_matviews",
                                             "pg_namespace",
                                             "pg_opclass",
                                             "pg_operator",
                                             "pg_opfamily",
                                             "pg_parameter_acl",
                                             "pg_partitioned_table",
                                             "pg_policies",
                                             "pg_policy",
                                             "pg_prepared_statements",
                                             "pg_prepared_xacts",
                                             "pg_proc",
                                             "pg_publication",
                                             "pg_publication_namespace",
                                             "pg_publication_rel",
                                             "pg_publication_tables",
                                             "pg_range",
                                             "pg_replication_origin",
                                             "pg_replication_origin_status",
                                             "pg_replication_slots",
                                             "pg_rewrite",
                                             "pg_roles",
                                             "pg_rules",
                                             "pg_seclabel",
                                             "pg_seclabels",
                                             "pg_sequence",
                                             "pg_sequences",
                                             "pg_settings",
                                             "pg_shadow",
                                             "pg_shdepend",
                                             "pg_shdescription",
                                             "pg_shmem_allocations",
                                             "pg_shseclabel",
                                             "pg_stat_activity",
                                             "pg_stat_all_indexes",
                                             "pg_stat_all_tables",
                                             "pg_stat_archiver",
                                             "pg_stat_bgwriter",
                                             "pg_stat_database",
                                             "pg_stat_database_conflicts",
                                             "pg_stat_gssapi",
                                             "pg_stat_progress_analyze",
                                             "pg_stat_progress_basebackup",
                                             "pg_stat_progress_cluster",
                                             "pg_stat_progress_copy",
                                             "pg_stat_progress_create_index",
                                             "pg_stat_progress_vacuum",
                                             "pg_stat_recovery_prefetch",
                                             "pg_stat_replication",
                                             "pg_stat_replication_slots",
                                             "pg_stat_slru",
                                             "pg_stat_ssl",
                                             "pg_stat_subscription",
                                             "pg_stat_subscription_stats",
                                             "pg_stat_sys_indexes",
                                             "pg_stat_sys_tables",
                                             "pg_stat_user_functions",
                                             "pg_stat_user_indexes",
                                             "pg_stat_user_tables",
                                             "pg_stat_wal",
                                             "pg_stat_wal_receiver",
                                             "pg_stat_xact_all_tables",
                                             "pg_stat_xact_sys_tables",
                                             "pg_stat_xact_user_functions",
                                             "pg_stat_xact_user_tables",
                                             "pg_statio_all_indexes",
                                             "pg_statio_all_sequences",
                                             "pg_statio_all_tables",
                                             "pg_statio_sys_indexes",
                                             "pg_statio_sys_sequences",
                                             "pg_statio_sys_tables",
                                             "pg_statio_user_indexes",
                                             "pg_statio_user_sequences",
                                             "pg_statio_user_tables",
                                             "pg_statistic",
                                             "pg_statistic_ext",
                                             "pg_statistic_ext_data",
                                             "pg_stats",
                                             "pg_stats_ext",
                                             "pg_stats_ext_exprs",
                                             "pg_subscription",
                                             "pg_subscription_rel",
                                             "pg_tables",
                                             "pg_tablespace",
                                             "pg_timezone_abbrevs",
                                             "pg_timezone_names",
                                             "pg_transform",
                                             "pg_trigger",
                                             "pg_ts_config",
                                             "pg_ts_config_map",
                                             "pg_ts_dict",
                                             "pg_ts_parser",
                                             "pg_ts_template",
                                             "pg_type",
                                             "pg_user",
                                             "pg_user_mapping",
                                             "pg_user_mappings",
                                             "pg_views"};

const std::vector<std::string> default_search_path{"$user", "public"};

bool mentions_session_change(const statement_facts& facts) {
  return std::any_of(facts.reasons.begin(), facts.reasons.end(), [](const kind_reason& r) {
    return r.reason.find("search_path") != std::string::npos || r.reason.find(" ROLE") != std::string::npos ||
           r.reason.find("RESET ALL") != std::string::npos || r.reason.find("DISCARD") != std::string::npos;
  });
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t\n") - first + 1));
}

// The schemas of SET search_path's arguments. One argument may itself be a list ('a, b'), which the server
// splits the same way; double quotes keep case and are removed here, as the server does.
std::vector<std::string> search_path_values(const object& set) {
  std::vector<std::string> out;
  const auto* args = parse_tree::array_field(set, "args");
  if (args == nullptr) return out;
  for (const auto& arg : *args) {
    const object* constant = parse_tree::node_fields(arg, "A_Const");
    const object* sval = constant ? parse_tree::object_field(*constant, "sval") : nullptr;
    if (sval == nullptr) continue;
    const std::string_view text = parse_tree::string_field(*sval, "sval");
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto comma = std::min(text.find(',', start), text.size());
      std::string item = trim(text.substr(start, comma - start));
      if (item.size() >= 2 && item.front() == '"' && item.back() == '"')
        item = item.substr(1, item.size() - 2);
      if (!item.empty()) out.push_back(std::move(item));
      start = comma + 1;
    }
  }
  return out;
}

void apply_set(const object& set, session_facts& session) {
  const std::string_view kind = parse_tree::string_field(set, "kind");
  const std::string_view name = parse_tree::string_field(set, "name");
  const bool local = parse_tree::bool_field(set, "is_local");
  if (kind == "VAR_RESET_ALL") {
    session.search_path = default_search_path;  // RESET ALL leaves the role alone (GUC_NO_RESET_ALL)
    return;
  }
  if (name == "role") {
    const auto* args = parse_tree::array_field(set, "args");
    std::string role;
    if (kind == "VAR_SET_VALUE" && args != nullptr && !args->empty()) {
      const object* constant = parse_tree::node_fields(args->front(), "A_Const");
      const object* sval = constant ? parse_tree::object_field(*constant, "sval") : nullptr;
      if (sval != nullptr) role = std::string(parse_tree::string_field(*sval, "sval"));
    }
    session.role = role == "none" ? std::string() : role;
    return;
  }
  if (name != "search_path" || kind == "VAR_SET_CURRENT") return;
  std::vector<std::string> next = kind == "VAR_SET_VALUE" ? search_path_values(set) : default_search_path;
  if (local) {
    // Until the transaction ends either path may be in force; keeping both makes resolution stricter, never
    // looser.
    for (auto& schema : next) {
      if (std::find(session.search_path.begin(), session.search_path.end(), schema) ==
          session.search_path.end())
        session.search_path.push_back(std::move(schema));
    }
    return;
  }
  session.search_path = std::move(next);
}

// Calls `visit` with each statement node of `facts`' text, parsed again (only for the few statements whose
// kinds say they change the session); nothing when the text does not parse.
template <class Visit>
void for_each_statement(const statement_facts& facts, Visit&& visit) {
  const parse_handle parsed(pg_query_parse(facts.text.c_str()));
  if (parsed->error != nullptr || parsed->parse_tree == nullptr) return;
  boost::system::error_code ec;
  const auto tree = boost::json::parse(parsed->parse_tree, ec);
  if (ec || !tree.is_object()) return;
  const auto* stmts = parse_tree::array_field(tree.as_object(), "stmts");
  if (stmts == nullptr) return;
  for (const auto& raw : *stmts) {
    const auto* stmt = raw.is_object() ? parse_tree::field(raw.as_object(), "stmt") : nullptr;
    if (stmt != nullptr) visit(*stmt);
  }
}

void apply_statement(const statement_facts& facts, session_facts& session) {
  for_each_statement(facts, [&](const boost::json::value& stmt_node) {
    const auto* stmt = &stmt_node;
    if (const object* set = parse_tree::node_fields(*stmt, "VariableSetStmt")) {
      apply_set(*set, session);
    } else if (const object* discard = parse_tree::node_fields(*stmt, "DiscardStmt")) {
      if (parse_tree::string_field(*discard, "target") == "DISCARD_ALL") {
        session.search_path = session_facts{}.search_path;
        session.role.clear();
      }
    }
  });
}

// PREPARE / DEALLOCATE / DISCARD ALL of one statement, from its parse tree.
void add_prepared_changes(const statement_facts& facts, prepared_statement_changes& changes) {
  for_each_statement(facts, [&](const boost::json::value& stmt_node) {
    const auto* stmt = &stmt_node;
    if (const object* prepare = parse_tree::node_fields(*stmt, "PrepareStmt")) {
      changes.names.emplace_back(parse_tree::string_field(*prepare, "name"));
    } else if (const object* deallocate = parse_tree::node_fields(*stmt, "DeallocateStmt")) {
      const auto name = parse_tree::string_field(*deallocate, "name");
      if (name.empty())
        changes.all_dropped = true;  // DEALLOCATE ALL carries no name
      else
        changes.names.emplace_back(name);
    } else if (const object* discard = parse_tree::node_fields(*stmt, "DiscardStmt")) {
      if (parse_tree::string_field(*discard, "target") == "DISCARD_ALL") changes.all_dropped = true;
    }
  });
}

}  // namespace

prepared_statement_changes prepared_changes(const analysis& statements) {
  prepared_statement_changes changes;
  for (const auto& facts : statements.statements) {
    const bool touches = std::any_of(facts.reasons.begin(), facts.reasons.end(), [](const kind_reason& r) {
      return r.reason.find("PREPARE") != std::string::npos ||
             r.reason.find("DEALLOCATE") != std::string::npos ||
             r.reason.find("DISCARD") != std::string::npos;
    });
    if (touches) add_prepared_changes(facts, changes);
  }
  return changes;
}

bool is_pg_catalog_relation(std::string_view name) noexcept {
  return std::binary_search(pg_catalog_relations.begin(), pg_catalog_relations.end(), name,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

void apply_session_changes(const analysis& statements, session_facts& session) {
  for (const auto& facts : statements.statements) {
    if (mentions_session_change(facts)) apply_statement(facts, session);
  }
}

std::vector<table_ref> resolve_table(const table_ref& table, const session_facts& session) {
  if (!table.schema.empty()) return {table};
  const bool catalog_named = std::find(session.search_path.begin(), session.search_path.end(),
                                       "pg_catalog") != session.search_path.end();
  if (!catalog_named && is_pg_catalog_relation(table.name)) return {{"pg_catalog", table.name}};
  std::vector<table_ref> out;
  for (const auto& schema : session.search_path) {
    // "$user" names a schema only where one exists with the role's name; phigate assumes none does (the
    // default set-up) and documents that rules for such schemas must name them in the search_path.
    if (schema == "$user" || schema.empty()) continue;
    table_ref candidate{schema, table.name};
    if (std::find(out.begin(), out.end(), candidate) == out.end()) out.push_back(std::move(candidate));
  }
  // An empty search_path leaves nothing to resolve to; PostgreSQL then fails the statement, and "pg_temp"
  // or a made-up schema keeps rules from matching it by accident.
  if (out.empty()) out.push_back({"pg_temp", table.name});
  return out;
}

}  // namespace phigate::policy
