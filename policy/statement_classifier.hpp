#pragma once

#include "policy/function_catalog.hpp"
#include "policy/parse_tree.hpp"
#include "policy/statement_facts.hpp"

namespace phigate::policy {

/// Classifies one top-level statement node (the "stmt" of libpg_query's output, e.g. {"CopyStmt":
/// {...}}) and records its kinds, tables, columns, functions and result columns into `facts`.
///
/// Kinds chosen where PostgreSQL leaves room for judgement:
/// - SHOW, SET/RESET of ordinary settings, SET search_path, BEGIN/COMMIT/ROLLBACK/SAVEPOINT, SET
///   TRANSACTION, DISCARD, DEALLOCATE, LISTEN/UNLISTEN, CLOSE, SET CONSTRAINTS and PREPARE are session.
/// - SET/RESET ROLE and SET SESSION AUTHORIZATION are privilege; SET of settings that hide activity
///   or bypass triggers (session_replication_role, log_*) is admin.
/// - NOTIFY is write (it delivers a payload to other sessions); FETCH/MOVE are read.
/// - VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT, LOAD, ALTER SYSTEM and LOCK are admin.
/// - TRUNCATE is ddl and write; REFRESH MATERIALIZED VIEW is write.
/// - COPY ... FROM STDIN is write; COPY to or from a server file or program, and COPY ... TO STDOUT,
///   are export.
/// - Plain EXPLAIN is read whatever it explains (it only plans; tables it names are still recorded as
///   read); EXPLAIN ANALYZE runs the statement and takes its kinds.
/// - DO, CALL, EXECUTE and statement types this classifier does not know are unknown.
void classify_statement(const parse_tree::value& stmt, statement_facts& facts,
                        const function_catalog& catalog);

}  // namespace phigate::policy
