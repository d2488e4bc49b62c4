// A batch of client messages held for approval: from the message the policy held up to the Sync that ends
// it (the Query itself in the simple protocol). Nothing of it reaches the server until it is approved, and
// then exactly these bytes are replayed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "approvals/digest.hpp"
#include "gateway/seams.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate {

struct held_batch {
  decision first;         ///< the hold that started the batch (its details describe the request)
  bool extended = false;  ///< ends at Sync (or Flush) rather than with the Query itself
  bool complete = false;
  std::string frames;  ///< the held client messages, whole, in arrival order
  approvals::digest_input digest;
  std::vector<std::string> parameters;                     ///< for reviewers: "$1 = '…'" per Bind parameter
  std::map<std::string, std::string, std::less<>> parsed;  ///< statements parsed inside the batch

  /// Adds one client message; `known_statements` gives the text of statements parsed before the batch.
  /// Returns false for a message that cannot be held (malformed).
  template <typename Lookup>
  bool add(const pg::frame& f, const Lookup& known_statement_sql);
};

/// The requester's reason, from a `/* justification: … */` or `-- justification: …` comment in any of
/// the statements; "" when there is none.
std::string find_justification(const std::vector<std::string>& statements);

/// "$n = 'text'" for a text parameter, "$n = NULL", "$n = <binary, N bytes>".
std::string describe_parameter(std::size_t number, const std::optional<byte_span>& value,
                               std::int16_t format);

template <typename Lookup>
bool held_batch::add(const pg::frame& f, const Lookup& known_statement_sql) {
  frames.append(as_chars(f.whole));
  switch (f.type) {
    case pg::frontend_type::query: {
      auto q = pg::query::decode(f);
      if (!q) return false;
      digest.statements.emplace_back(q->sql);
      digest.parameters.emplace_back();
      digest.parameter_formats.emplace_back();
      complete = true;
      return true;
    }
    case pg::frontend_type::parse: {
      auto p = pg::parse::decode(f);
      if (!p) return false;
      parsed[std::string(p->name)] = std::string(p->sql);
      return true;
    }
    case pg::frontend_type::bind: {
      auto b = pg::bind::decode(f);
      if (!b) return false;
      auto inside = parsed.find(b->statement);
      digest.statements.push_back(inside != parsed.end() ? inside->second
                                                         : known_statement_sql(b->statement));
      auto& values = digest.parameters.emplace_back();
      for (std::size_t i = 0; i < b->params.size(); ++i) {
        const auto& v = b->params[i];
        values.push_back(v ? std::optional<std::string>(std::string(as_chars(*v))) : std::nullopt);
        const std::int16_t format = b->param_formats.size() == 1  ? b->param_formats[0]
                                    : i < b->param_formats.size() ? b->param_formats[i]
                                                                  : 0;
        parameters.push_back(describe_parameter(i + 1, v, format));
      }
      digest.parameter_formats.push_back(b->param_formats);
      return true;
    }
    case pg::frontend_type::sync:
    case pg::frontend_type::flush:
      complete = true;
      return true;
    default:
      return true;
  }
}

}  // namespace phigate
