#include "policy/pg_query_raw.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

// libpg_query exports these from its internal API (pg_query_internal.h, which needs PostgreSQL's own
// headers). The parse tree and the memory context stay opaque here: only pointers cross the boundary.
extern "C" {
struct phigate_pg_query_raw_result {
  void* tree;
  char* stderr_buffer;
  PgQueryError* error;
};
phigate_pg_query_raw_result pg_query_raw_parse(const char* input);
void* pg_query_enter_memory_context();
void pg_query_exit_memory_context(void* context);
char* pg_query_nodes_to_json(const void* node);
std::uint64_t pg_query_fingerprint_node(const void* node);
void pg_query_free_error(PgQueryError* error);
}

namespace phigate::policy {

pg_query_raw_parse_result::pg_query_raw_parse_result(const char* sql) noexcept
    : memory_context_(pg_query_enter_memory_context()) {
  const phigate_pg_query_raw_result raw = pg_query_raw_parse(sql);
  tree_ = raw.tree;
  stderr_buffer_ = raw.stderr_buffer;
  error_ = raw.error;
  // pg_query_parse does exactly this after the same raw parse; the string lives in the memory context.
  if (error_ == nullptr) json_ = pg_query_nodes_to_json(tree_);
}

pg_query_raw_parse_result::~pg_query_raw_parse_result() {
  pg_query_exit_memory_context(memory_context_);
  if (error_ != nullptr) pg_query_free_error(error_);
  std::free(stderr_buffer_);
}

std::uint64_t pg_query_raw_parse_result::fingerprint() const noexcept {
  // pg_query_fingerprint hashes the list of raw statements; so does this, on the same list.
  return error_ == nullptr ? pg_query_fingerprint_node(tree_) : 0;
}

std::string fingerprint_hex(std::uint64_t fingerprint) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, fingerprint);
  return text;
}

}  // namespace phigate::policy
