#pragma once

#include "policy/function_catalog.hpp"
#include "policy/parse_tree.hpp"
#include "policy/statement_facts.hpp"

namespace phigate::policy {

/// Classifies a utility statement (anything that is not a query, COPY, EXPLAIN, CREATE TABLE AS, VIEW,
/// DECLARE or PREPARE) by its node type: DDL, privilege changes, session commands, maintenance. The
/// relations it names are recorded in tables_written (the statement changes their definition,
/// privileges or storage); functions in it are classified; unknown node types are unknown.
void classify_utility(const parse_tree::node& stmt, statement_facts& facts, const function_catalog& catalog);

}  // namespace phigate::policy
