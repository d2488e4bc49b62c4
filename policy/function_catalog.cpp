#include "policy/function_catalog.hpp"

#include <array>
#include <cctype>

namespace phigate::policy {
namespace {

// Functions without side effects that ordinary applications, ORMs, pgbench and psql's \d commands
// call. Anything missing here is treated as admin, so the list errs on the short side: a policy
// file extends it rather than the analyzer guessing.
constexpr std::array read_only_functions = {
    // aggregates and window functions
    "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg",
    "json_object_agg", "jsonb_object_agg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "stddev",
    "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "percentile_cont", "percentile_disc",
    "mode", "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value", "corr", "covar_pop", "covar_samp", "regr_slope",
    // strings
    "lower", "upper", "initcap", "length", "char_length", "character_length", "octet_length", "bit_length",
    "substr", "substring", "left", "right", "trim", "btrim", "ltrim", "rtrim", "lpad", "rpad", "concat",
    "concat_ws", "replace", "translate", "reverse", "repeat", "position", "strpos", "split_part", "format",
    "quote_ident", "quote_literal", "quote_nullable", "regexp_replace", "regexp_match", "regexp_matches",
    "regexp_split_to_array", "regexp_split_to_table", "regexp_like", "regexp_count", "regexp_substr",
    "starts_with", "ascii", "chr", "to_hex", "encode", "decode", "convert_from", "convert_to", "overlay",
    "md5", "sha224", "sha256", "sha384", "sha512", "string_to_array", "array_to_string", "unistr",
    "normalize", "textlen", "text", "char", "varchar", "bpchar", "name",
    // numbers
    "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "pow", "sqrt", "cbrt", "exp", "ln",
    "log", "log10", "sign", "div", "greatest", "least", "random", "width_bucket", "numeric", "int4", "int8",
    "int2", "float4", "float8", "pi", "degrees", "radians", "gcd", "lcm", "scale", "factorial",
    // dates and times
    "now", "current_timestamp", "current_date", "current_time", "localtime", "localtimestamp",
    "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday", "date_trunc", "date_part",
    "date_bin", "extract", "age", "to_char", "to_date", "to_timestamp", "to_number", "make_date", "make_time",
    "make_timestamp", "make_timestamptz", "make_interval", "justify_days", "justify_hours",
    "justify_interval", "isfinite", "timezone", "date", "timestamp", "timestamptz", "overlaps",
    // conditionals and misc scalar
    "coalesce", "nullif", "num_nulls", "num_nonnulls", "gen_random_uuid", "uuid_generate_v4", "is_normalized",
    "similar_to_escape", "like_escape", "pg_collation_for", "xmlexists", "xmlconcat", "xmlagg", "xmlcomment",
    // arrays, json, ranges
    "array_length", "array_lower", "array_upper", "array_ndims", "array_dims", "array_position",
    "array_positions", "array_remove", "array_replace", "array_append", "array_prepend", "array_cat",
    "cardinality", "unnest", "generate_series", "generate_subscripts", "to_json", "to_jsonb", "row_to_json",
    "array_to_json", "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
    "json_object", "jsonb_object", "json_extract_path", "jsonb_extract_path", "json_extract_path_text",
    "jsonb_extract_path_text", "json_array_elements", "jsonb_array_elements", "json_array_elements_text",
    "jsonb_array_elements_text", "json_each", "jsonb_each", "json_each_text", "jsonb_each_text",
    "json_object_keys", "jsonb_object_keys", "json_typeof", "jsonb_typeof", "jsonb_set", "jsonb_insert",
    "jsonb_strip_nulls", "json_strip_nulls", "jsonb_pretty", "json_array_length", "jsonb_array_length",
    "jsonb_path_query", "jsonb_path_exists", "jsonb_path_match", "jsonb_path_query_array",
    "jsonb_path_query_first", "lower_inc", "upper_inc", "isempty", "range_merge", "xmlparse", "xpath",
    "xpath_exists", "xmlelement", "xmlforest",
    // session information
    "current_user", "session_user", "current_role", "user", "current_schema", "current_schemas",
    "current_database", "current_catalog", "current_setting", "version", "pg_backend_pid", "inet_client_addr",
    "inet_client_port", "inet_server_addr", "inet_server_port", "pg_postmaster_start_time",
    "pg_conf_load_time", "txid_current", "pg_current_xact_id", "pg_is_in_recovery", "pg_my_temp_schema",
    "pg_is_other_temp_schema", "pg_trigger_depth", "pg_jit_available", "pg_listening_channels",
    "pg_notification_queue_usage", "pg_last_xact_replay_timestamp",
    // catalog helpers psql, pg_dump and drivers use
    "format_type", "pg_get_expr", "pg_get_indexdef", "pg_get_constraintdef", "pg_get_viewdef",
    "pg_get_triggerdef", "pg_get_functiondef", "pg_get_function_arguments",
    "pg_get_function_identity_arguments", "pg_get_function_result", "pg_get_ruledef", "pg_get_userbyid",
    "pg_get_serial_sequence", "pg_get_partkeydef", "pg_get_partition_constraintdef",
    "pg_get_statisticsobjdef", "pg_get_statisticsobjdef_columns", "pg_get_statisticsobjdef_expressions",
    "pg_get_keywords", "pg_get_publication_tables", "pg_get_replica_identity_index", "pg_table_is_visible",
    "pg_type_is_visible", "pg_function_is_visible", "pg_operator_is_visible", "pg_opclass_is_visible",
    "pg_opfamily_is_visible", "pg_collation_is_visible", "pg_conversion_is_visible",
    "pg_statistics_obj_is_visible", "pg_ts_config_is_visible", "pg_ts_dict_is_visible",
    "pg_ts_parser_is_visible", "pg_ts_template_is_visible", "obj_description", "col_description",
    "shobj_description", "pg_describe_object", "pg_identify_object", "pg_encoding_to_char",
    "pg_char_to_encoding", "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size",
    "pg_database_size", "pg_tablespace_size", "pg_column_size", "pg_size_pretty", "pg_size_bytes",
    "pg_relation_filenode", "pg_relation_is_publishable", "pg_tablespace_location", "pg_typeof",
    "pg_collation_for", "pg_get_userbyid", "pg_has_role", "has_table_privilege", "has_column_privilege",
    "has_any_column_privilege", "has_schema_privilege", "has_database_privilege", "has_function_privilege",
    "has_sequence_privilege", "has_type_privilege", "has_language_privilege", "has_tablespace_privilege",
    "has_foreign_data_wrapper_privilege", "has_server_privilege", "pg_options_to_table", "array_to_string",
    "pg_index_column_has_property", "pg_index_has_property", "pg_indexam_has_property", "pg_partition_tree",
    "pg_partition_root", "pg_partition_ancestors", "pg_sequence_parameters", "pg_sequence_last_value",
    "pg_stat_get_numscans", "to_regclass", "to_regtype", "to_regproc", "to_regprocedure", "to_regrole",
    "to_regnamespace", "regclass", "pg_get_function_arg_default", "pg_event_trigger_ddl_commands",
    "pg_blocking_pids", "pg_safe_snapshot_blocking_pids", "pg_current_snapshot", "pg_snapshot_xmin",
    "pg_xact_status", "pg_stat_get_activity", "pg_show_all_settings", "pg_settings_get_flags"};

constexpr std::array write_functions = {
    "nextval", "setval",      "lo_create",     "lo_creat",  "lo_from_bytea",           "lo_put",
    "lowrite", "lo_truncate", "lo_truncate64", "pg_notify", "pg_logical_emit_message", "lo_open"};

constexpr std::array export_functions = {"lo_export",
                                         "lo_import",
                                         "pg_read_file",
                                         "pg_read_binary_file",
                                         "pg_ls_dir",
                                         "pg_stat_file",
                                         "pg_ls_logdir",
                                         "pg_ls_waldir",
                                         "pg_ls_tmpdir",
                                         "pg_ls_archive_statusdir",
                                         "pg_ls_logicalsnapdir",
                                         "pg_ls_logicalmapdir",
                                         "pg_ls_replslotdir",
                                         "pg_logical_slot_get_changes",
                                         "pg_logical_slot_peek_changes",
                                         "pg_logical_slot_get_binary_changes",
                                         "pg_logical_slot_peek_binary_changes",
                                         "pg_file_write",
                                         "pg_file_read",
                                         "lo_get",
                                         "loread"};

constexpr std::array admin_functions = {"set_config",
                                        "pg_terminate_backend",
                                        "pg_cancel_backend",
                                        "lo_unlink",
                                        "pg_reload_conf",
                                        "pg_rotate_logfile",
                                        "pg_switch_wal",
                                        "pg_create_restore_point",
                                        "pg_backup_start",
                                        "pg_backup_stop",
                                        "pg_start_backup",
                                        "pg_stop_backup",
                                        "pg_promote",
                                        "pg_wal_replay_pause",
                                        "pg_wal_replay_resume",
                                        "pg_create_physical_replication_slot",
                                        "pg_create_logical_replication_slot",
                                        "pg_drop_replication_slot",
                                        "pg_replication_slot_advance",
                                        "pg_copy_physical_replication_slot",
                                        "pg_copy_logical_replication_slot",
                                        "pg_advisory_lock",
                                        "pg_advisory_lock_shared",
                                        "pg_advisory_xact_lock",
                                        "pg_advisory_unlock",
                                        "pg_advisory_unlock_all",
                                        "pg_try_advisory_lock",
                                        "pg_log_backend_memory_contexts",
                                        "pg_stat_reset",
                                        "pg_stat_reset_shared",
                                        "pg_stat_reset_single_table_counters",
                                        "pg_import_system_collations",
                                        "pg_file_unlink",
                                        "pg_file_rename",
                                        "pg_sleep",
                                        "pg_sleep_for",
                                        "pg_sleep_until"};

// These take SQL text (or a relation name) and execute it: the tables they read are invisible here.
constexpr std::array sql_text_functions = {"query_to_xml",
                                           "query_to_xmlschema",
                                           "query_to_xml_and_xmlschema",
                                           "cursor_to_xml",
                                           "cursor_to_xmlschema",
                                           "table_to_xml",
                                           "table_to_xmlschema",
                                           "table_to_xml_and_xmlschema",
                                           "schema_to_xml",
                                           "schema_to_xmlschema",
                                           "schema_to_xml_and_xmlschema",
                                           "database_to_xml",
                                           "database_to_xmlschema",
                                           "database_to_xml_and_xmlschema",
                                           "ts_stat"};

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

function_catalog::function_catalog() {
  for (const char* name : read_only_functions) classes_[name] = function_class::read_only;
  for (const char* name : write_functions) classes_[name] = function_class::write;
  for (const char* name : export_functions) classes_[name] = function_class::export_data;
  for (const char* name : admin_functions) classes_[name] = function_class::admin;
  for (const char* name : sql_text_functions) classes_[name] = function_class::runs_sql_text;
}

void function_catalog::add_read_only(std::string_view name) {
  set_class(name, function_class::read_only);
}

void function_catalog::set_class(std::string_view name, function_class cls) {
  classes_[lowercase(name)] = cls;
}

function_class function_catalog::classify(const function_call& call) const {
  const std::string name = lowercase(call.name);
  if (!call.schema.empty()) {
    const auto qualified = classes_.find(lowercase(call.schema) + "." + name);
    if (qualified != classes_.end()) return qualified->second;
    if (lowercase(call.schema) != "pg_catalog") return function_class::not_known;
  }
  // dblink's whole family (dblink, dblink_exec, dblink_open, dblink_send_query, ...) talks to another
  // server with credentials the gateway does not control.
  if (name.starts_with("dblink")) return function_class::export_data;
  const auto found = classes_.find(name);
  return found == classes_.end() ? function_class::not_known : found->second;
}

const function_catalog& builtin_function_catalog() {
  static const function_catalog catalog;
  return catalog;
}

}  // namespace phigate::policy
