#include "policy/utility_rules.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "policy/query_walker.hpp"

namespace phigate::policy {

using parse_tree::array;
using parse_tree::object;
using parse_tree::value;

namespace {

struct utility_rule {
  std::string_view type;
  statement_kind kind;
  std::string_view label;
};

using enum statement_kind;

// One row per statement node whose kind follows from its type alone.
constexpr std::array utility_rules = {
    utility_rule{"CreateStmt", ddl, "CREATE TABLE"},
    utility_rule{"IndexStmt", ddl, "CREATE INDEX"},
    utility_rule{"CreateSchemaStmt", ddl, "CREATE SCHEMA"},
    utility_rule{"CreateSeqStmt", ddl, "CREATE SEQUENCE"},
    utility_rule{"AlterSeqStmt", ddl, "ALTER SEQUENCE"},
    utility_rule{"CreateDomainStmt", ddl, "CREATE DOMAIN"},
    utility_rule{"AlterDomainStmt", ddl, "ALTER DOMAIN"},
    utility_rule{"CompositeTypeStmt", ddl, "CREATE TYPE"},
    utility_rule{"CreateEnumStmt", ddl, "CREATE TYPE"},
    utility_rule{"CreateRangeStmt", ddl, "CREATE TYPE"},
    utility_rule{"AlterEnumStmt", ddl, "ALTER TYPE"},
    utility_rule{"AlterTypeStmt", ddl, "ALTER TYPE"},
    utility_rule{"DefineStmt", ddl, "CREATE AGGREGATE/OPERATOR/TYPE"},
    utility_rule{"RenameStmt", ddl, "ALTER ... RENAME"},
    utility_rule{"SecLabelStmt", ddl, "SECURITY LABEL"},
    utility_rule{"CreateTrigStmt", ddl, "CREATE TRIGGER"},
    utility_rule{"CreateEventTrigStmt", ddl, "CREATE EVENT TRIGGER"},
    utility_rule{"AlterEventTrigStmt", ddl, "ALTER EVENT TRIGGER"},
    utility_rule{"RuleStmt", ddl, "CREATE RULE"},
    utility_rule{"CreateExtensionStmt", ddl, "CREATE EXTENSION"},
    utility_rule{"AlterExtensionStmt", ddl, "ALTER EXTENSION"},
    utility_rule{"AlterExtensionContentsStmt", ddl, "ALTER EXTENSION"},
    utility_rule{"CreateFdwStmt", ddl, "CREATE FOREIGN DATA WRAPPER"},
    utility_rule{"AlterFdwStmt", ddl, "ALTER FOREIGN DATA WRAPPER"},
    utility_rule{"CreateForeignServerStmt", ddl, "CREATE SERVER"},
    utility_rule{"AlterForeignServerStmt", ddl, "ALTER SERVER"},
    utility_rule{"CreateForeignTableStmt", ddl, "CREATE FOREIGN TABLE"},
    utility_rule{"ImportForeignSchemaStmt", ddl, "IMPORT FOREIGN SCHEMA"},
    utility_rule{"CreatePublicationStmt", ddl, "CREATE PUBLICATION"},
    utility_rule{"AlterPublicationStmt", ddl, "ALTER PUBLICATION"},
    utility_rule{"CreateSubscriptionStmt", ddl, "CREATE SUBSCRIPTION"},
    utility_rule{"AlterSubscriptionStmt", ddl, "ALTER SUBSCRIPTION"},
    utility_rule{"DropSubscriptionStmt", ddl, "DROP SUBSCRIPTION"},
    utility_rule{"CreateCastStmt", ddl, "CREATE CAST"},
    utility_rule{"CreateConversionStmt", ddl, "CREATE CONVERSION"},
    utility_rule{"CreateOpClassStmt", ddl, "CREATE OPERATOR CLASS"},
    utility_rule{"CreateOpFamilyStmt", ddl, "CREATE OPERATOR FAMILY"},
    utility_rule{"AlterOpFamilyStmt", ddl, "ALTER OPERATOR FAMILY"},
    utility_rule{"CreatePLangStmt", ddl, "CREATE LANGUAGE"},
    utility_rule{"CreateTransformStmt", ddl, "CREATE TRANSFORM"},
    utility_rule{"CreateAmStmt", ddl, "CREATE ACCESS METHOD"},
    utility_rule{"CreateStatsStmt", ddl, "CREATE STATISTICS"},
    utility_rule{"AlterStatsStmt", ddl, "ALTER STATISTICS"},
    utility_rule{"AlterObjectSchemaStmt", ddl, "ALTER ... SET SCHEMA"},
    utility_rule{"AlterObjectDependsStmt", ddl, "ALTER ... DEPENDS ON EXTENSION"},
    utility_rule{"AlterCollationStmt", ddl, "ALTER COLLATION"},
    utility_rule{"CreateTableSpaceStmt", ddl, "CREATE TABLESPACE"},
    utility_rule{"DropTableSpaceStmt", ddl, "DROP TABLESPACE"},
    utility_rule{"AlterTableSpaceOptionsStmt", ddl, "ALTER TABLESPACE"},
    utility_rule{"AlterTableMoveAllStmt", ddl, "ALTER TABLE ALL IN TABLESPACE"},
    utility_rule{"CreatedbStmt", ddl, "CREATE DATABASE"},
    utility_rule{"DropdbStmt", ddl, "DROP DATABASE"},
    utility_rule{"AlterDatabaseStmt", ddl, "ALTER DATABASE"},
    utility_rule{"AlterDatabaseSetStmt", ddl, "ALTER DATABASE ... SET"},
    utility_rule{"AlterDatabaseRefreshCollStmt", ddl, "ALTER DATABASE ... REFRESH COLLATION VERSION"},
    utility_rule{"AlterTSDictionaryStmt", ddl, "ALTER TEXT SEARCH DICTIONARY"},
    utility_rule{"AlterTSConfigurationStmt", ddl, "ALTER TEXT SEARCH CONFIGURATION"},
    utility_rule{"RefreshMatViewStmt", write, "REFRESH MATERIALIZED VIEW"},
    utility_rule{"GrantRoleStmt", privilege, "GRANT/REVOKE role membership"},
    utility_rule{"AlterRoleStmt", privilege, "ALTER ROLE"},
    utility_rule{"AlterRoleSetStmt", privilege, "ALTER ROLE ... SET"},
    utility_rule{"DropRoleStmt", privilege, "DROP ROLE"},
    utility_rule{"AlterDefaultPrivilegesStmt", privilege, "ALTER DEFAULT PRIVILEGES"},
    utility_rule{"ReassignOwnedStmt", privilege, "REASSIGN OWNED"},
    utility_rule{"DropOwnedStmt", privilege, "DROP OWNED"},
    utility_rule{"AlterOwnerStmt", privilege, "ALTER ... OWNER TO"},
    utility_rule{"CreateUserMappingStmt", privilege, "CREATE USER MAPPING"},
    utility_rule{"AlterUserMappingStmt", privilege, "ALTER USER MAPPING"},
    utility_rule{"DropUserMappingStmt", privilege, "DROP USER MAPPING"},
    utility_rule{"CreatePolicyStmt", privilege, "CREATE POLICY (row-level security)"},
    utility_rule{"AlterPolicyStmt", privilege, "ALTER POLICY (row-level security)"},
    utility_rule{"VacuumStmt", admin, "VACUUM/ANALYZE"},
    utility_rule{"ClusterStmt", admin, "CLUSTER"},
    utility_rule{"ReindexStmt", admin, "REINDEX"},
    utility_rule{"CheckPointStmt", admin, "CHECKPOINT"},
    utility_rule{"LoadStmt", admin, "LOAD loads a shared library"},
    utility_rule{"AlterSystemStmt", admin, "ALTER SYSTEM"},
    utility_rule{"LockStmt", admin, "LOCK TABLE"},
    utility_rule{"DiscardStmt", session, "DISCARD"},
    utility_rule{"DeallocateStmt", session, "DEALLOCATE"},
    utility_rule{"ListenStmt", session, "LISTEN"},
    utility_rule{"UnlistenStmt", session, "UNLISTEN"},
    utility_rule{"ClosePortalStmt", session, "CLOSE cursor"},
    utility_rule{"ConstraintsSetStmt", session, "SET CONSTRAINTS"},
    utility_rule{"FetchStmt", read, "FETCH/MOVE on a cursor"},
    utility_rule{"NotifyStmt", write, "NOTIFY delivers a payload to other sessions"},
    utility_rule{"DoStmt", unknown, "DO runs an anonymous code block that is not analyzed"},
    utility_rule{"ExecuteStmt", unknown, "EXECUTE runs a prepared statement whose text was not seen"},
};

// Settings whose change hides activity from the server log or disables triggers and foreign keys.
constexpr std::array admin_settings = {
    "session_replication_role", "log_statement",         "log_min_duration_statement",
    "log_min_messages",         "log_duration",          "log_parameter_max_length",
    "allow_system_table_mods",  "ignore_system_indexes", "zero_damaged_pages"};

std::string role_statement_label(const object& fields) {
  const std::string_view type = parse_tree::string_field(fields, "stmt_type");
  if (type == "ROLESTMT_USER") return "CREATE USER";
  if (type == "ROLESTMT_GROUP") return "CREATE GROUP";
  return "CREATE ROLE";
}

void classify_set(const object& set, statement_facts& facts) {
  const std::string name(parse_tree::string_field(set, "name"));
  const std::string_view kind = parse_tree::string_field(set, "kind");
  const bool reset = kind == "VAR_RESET";
  const std::string verb = reset ? "RESET " : "SET ";
  if (kind == "VAR_RESET_ALL") {
    // RESET ALL leaves role and session_authorization alone (GUC_NO_RESET_ALL).
    facts.add_kind(session, "session: RESET ALL");
  } else if (name == "role") {
    facts.add_kind(privilege, "privilege: " + verb + "ROLE changes the current role");
  } else if (name == "session_authorization") {
    facts.add_kind(privilege, "privilege: " + verb + "SESSION AUTHORIZATION changes the session user");
  } else if (std::find(admin_settings.begin(), admin_settings.end(), name) != admin_settings.end()) {
    facts.add_kind(admin, "admin: " + verb + name + " changes server logging or integrity checks");
  } else if (name == "search_path") {
    facts.add_kind(session, "session: " + verb + "search_path changes how unqualified names resolve");
  } else if (kind == "VAR_SET_MULTI") {
    facts.add_kind(session, "session: SET " + name);
  } else {
    facts.add_kind(session, "session: " + verb + name);
  }
}

bool security_definer(const array* options) {
  if (options == nullptr) return false;
  for (const value& item : *options) {
    const object* def = parse_tree::node_fields(item, "DefElem");
    if (def == nullptr || parse_tree::string_field(*def, "defname") != "security") continue;
    const value* arg = parse_tree::field(*def, "arg");
    const object* b = arg == nullptr ? nullptr : parse_tree::node_fields(*arg, "Boolean");
    if (b != nullptr && parse_tree::bool_field(*b, "boolval")) return true;
  }
  return false;
}

void classify_function_ddl(const parse_tree::node& stmt, statement_facts& facts) {
  const bool create = stmt.type == "CreateFunctionStmt";
  const bool procedure = parse_tree::bool_field(*stmt.fields, "is_procedure");
  const std::string what =
      std::string(create ? "CREATE " : "ALTER ") + (procedure ? "PROCEDURE" : "FUNCTION");
  facts.add_kind(ddl, "ddl: " + what);
  if (security_definer(parse_tree::array_field(*stmt.fields, create ? "options" : "actions"))) {
    facts.add_kind(privilege, "privilege: " + what + " ... SECURITY DEFINER runs with its owner's rights");
  }
}

// Object types whose name lists (DROP, COMMENT ON) name a relation; for a column the relation is
// the name before the column's.
std::string_view relation_object_type(std::string_view object_type) {
  static constexpr std::array relation_types = {"OBJECT_TABLE",         "OBJECT_VIEW",     "OBJECT_MATVIEW",
                                                "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE", "OBJECT_INDEX"};
  if (std::find(relation_types.begin(), relation_types.end(), object_type) != relation_types.end())
    return "relation";
  return object_type == "OBJECT_COLUMN" ? "column" : "";
}

void add_named_relation(const value& item, std::string_view what, statement_facts& facts) {
  const object* list = parse_tree::node_fields(item, "List");
  const array* names = list == nullptr ? nullptr : parse_tree::array_field(*list, "items");
  if (names == nullptr) return;
  std::size_t count = names->size();
  if (what == "column" && count > 0) --count;
  if (count == 0) return;
  const std::string name(parse_tree::string_node((*names)[count - 1]));
  const std::string schema(count > 1 ? parse_tree::string_node((*names)[count - 2]) : "");
  facts.add_table_written(table_ref{schema, name});
}

void classify_drop(const object& drop, statement_facts& facts) {
  const std::string_view object_type = parse_tree::string_field(drop, "removeType");
  std::string type(object_type);
  if (type.starts_with("OBJECT_")) type.erase(0, 7);
  std::replace(type.begin(), type.end(), '_', ' ');
  facts.add_kind(ddl, "ddl: DROP " + type);
  const std::string_view what = relation_object_type(object_type);
  const array* objects = parse_tree::array_field(drop, "objects");
  if (what.empty() || objects == nullptr) return;
  for (const value& item : *objects) add_named_relation(item, what, facts);
}

void classify_comment(const object& comment, statement_facts& facts) {
  facts.add_kind(ddl, "ddl: COMMENT ON");
  const std::string_view what = relation_object_type(parse_tree::string_field(comment, "objtype"));
  const value* target = parse_tree::field(comment, "object");
  if (!what.empty() && target != nullptr) add_named_relation(*target, what, facts);
}

// ALTER TABLE subcommands that change who may see or do what, rather than the table's shape.
void classify_alter_table(const object& alter, statement_facts& facts) {
  facts.add_kind(ddl, "ddl: ALTER TABLE");
  const array* cmds = parse_tree::array_field(alter, "cmds");
  if (cmds == nullptr) return;
  for (const value& item : *cmds) {
    const object* cmd = parse_tree::node_fields(item, "AlterTableCmd");
    const std::string_view subtype =
        cmd == nullptr ? std::string_view{} : parse_tree::string_field(*cmd, "subtype");
    if (subtype == "AT_ChangeOwner") {
      facts.add_kind(privilege, "privilege: ALTER TABLE ... OWNER TO");
    } else if (subtype.ends_with("RowSecurity")) {
      facts.add_kind(privilege, "privilege: ALTER TABLE changes row-level security");
    }
  }
}

std::string transaction_label(const object& transaction) {
  std::string kind(parse_tree::string_field(transaction, "kind"));
  if (kind.starts_with("TRANS_STMT_")) kind.erase(0, 11);
  std::replace(kind.begin(), kind.end(), '_', ' ');
  return kind.empty() ? "BEGIN" : kind;
}

std::string dotted_name(const array* parts) {
  std::string name;
  if (parts == nullptr) return name;
  for (const value& part : *parts) {
    if (!name.empty()) name += '.';
    name += parse_tree::string_node(part);
  }
  return name;
}

bool classify_special(const parse_tree::node& stmt, statement_facts& facts) {
  const object& fields = *stmt.fields;
  if (stmt.type == "VariableSetStmt") {
    classify_set(fields, facts);
  } else if (stmt.type == "TransactionStmt") {
    facts.add_kind(session, "session: " + transaction_label(fields));
  } else if (stmt.type == "GrantStmt") {
    facts.add_kind(privilege,
                   parse_tree::bool_field(fields, "is_grant") ? "privilege: GRANT" : "privilege: REVOKE");
  } else if (stmt.type == "CreateRoleStmt") {
    facts.add_kind(privilege, "privilege: " + role_statement_label(fields));
  } else if (stmt.type == "CreateFunctionStmt" || stmt.type == "AlterFunctionStmt") {
    classify_function_ddl(stmt, facts);
  } else if (stmt.type == "AlterTableStmt") {
    classify_alter_table(fields, facts);
  } else if (stmt.type == "CommentStmt") {
    classify_comment(fields, facts);
  } else if (stmt.type == "DropStmt") {
    classify_drop(fields, facts);
  } else if (stmt.type == "VariableShowStmt") {
    facts.add_kind(session, "session: SHOW " + std::string(parse_tree::string_field(fields, "name")));
  } else if (stmt.type == "CallStmt") {
    const object* call = parse_tree::object_field(fields, "funccall");
    const std::string name =
        dotted_name(call == nullptr ? nullptr : parse_tree::array_field(*call, "funcname"));
    facts.add_kind(unknown, "unknown: CALL " + name + "() runs a procedure whose body is not analyzed");
  } else if (stmt.type == "TruncateStmt") {
    facts.add_kind(ddl, "ddl: TRUNCATE");
    facts.add_kind(write, "write: TRUNCATE removes every row");
  } else {
    return false;
  }
  return true;
}

}  // namespace

void classify_utility(const parse_tree::node& stmt, statement_facts& facts, const function_catalog& catalog) {
  bool known = classify_special(stmt, facts);
  if (!known) {
    const auto rule = std::find_if(utility_rules.begin(), utility_rules.end(),
                                   [&](const utility_rule& r) { return r.type == stmt.type; });
    if (rule != utility_rules.end()) {
      facts.add_kind(rule->kind, std::string(to_string(rule->kind)) + ": " + std::string(rule->label));
      known = true;
    }
  }
  if (!known) {
    facts.add_kind(unknown, "unknown: " + std::string(stmt.type) + " is not classified");
    return;
  }
  // Relations, functions and embedded queries anywhere in the statement (CREATE RULE actions,
  // DEFAULT expressions, CALL arguments).
  query_walker walker(facts, catalog);
  for (const auto& member : *stmt.fields) walker.scan_utility(member.value());
}

}  // namespace phigate::policy
