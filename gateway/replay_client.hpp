// The replay client: one PostgreSQL connection that logs in like libpq (cleartext, MD5 or SCRAM-SHA-256,
// optional TLS) and plays a session's steps, timing every statement and, on request, keeping what each
// statement returned (command tag, row count, a digest of the rows) to compare runs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/frame_reader.hpp"
#include "gateway/replay_plan.hpp"
#include "gateway/replay_stats.hpp"
#include "gateway/transport.hpp"

namespace phigate::replay {

/// Where to replay: libpq's keywords (host, port, user, password, dbname, sslmode, application_name).
struct target {
  std::string name = "target";
  std::string host = "127.0.0.1";
  std::uint16_t port = 5432;
  std::string user;
  std::string password;  ///< from the conninfo, else PGPASSWORD
  std::string database;  ///< "" = each session's recorded database
  enum class tls_mode { disable, prefer, require } tls = tls_mode::disable;
  std::string application_name = "phigate-replay";
  std::string describe() const;  ///< "name (user@host:port/db)", never the password
};

/// Parses "[NAME=]CONNINFO" where CONNINFO is `key=value ...` (values may be single-quoted) or a
/// postgresql:// URI. Returns the target or why not.
std::variant<target, std::string> parse_target(std::string_view text);

/// What one statement returned, for `--results`.
struct statement_result {
  std::string session;
  std::uint32_t step = 0;
  std::uint32_t label = 0;
  std::string tags;  ///< CommandComplete tags, ";"-joined for a multi-statement Query
  std::uint64_t rows = 0;
  std::uint64_t digest = 0;  ///< FNV-1a over every DataRow and CopyData body, in order
  std::string sqlstate;      ///< "" when it succeeded
};

/// One connection's play of one session.
class connection {
 public:
  connection(asio::any_io_executor executor, asio::ssl::context& tls);

  /// Connects and logs in; "" on success, else why not.
  asio::awaitable<std::string> open(const target& t, const std::string& database);
  /// Sends one step and reads up to its last ReadyForQuery, recording every statement's latency in `into`
  /// (when `measure`) and its result in `results` (when not null). "" on success, else why the connection
  /// cannot go on.
  asio::awaitable<std::string> play(const step& s, const std::string& session_key, std::uint32_t step_index,
                                    bool measure, stats& into, std::vector<statement_result>* results);
  /// Sends Terminate (unless the step did) and closes.
  asio::awaitable<void> close(bool send_terminate);

 private:
  asio::awaitable<std::string> authenticate(const target& t);
  asio::awaitable<std::string> wait_ready();

  asio::any_io_executor executor_;
  asio::ssl::context& tls_;
  std::optional<transport> link_;
  frame_reader reader_;
};

}  // namespace phigate::replay
