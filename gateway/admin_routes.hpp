// The admin API's request handling, without sockets: one parsed HTTP request in, one response out (or,
// for the changes long-poll, the instruction to wait). admin_server does the I/O; tests call this directly.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "approvals/chat_messages.hpp"
#include "approvals/service.hpp"
#include "gateway/config.hpp"

namespace phigate {

namespace http = boost::beast::http;

using admin_request = http::request<http::string_body>;
using admin_response = http::response<http::string_body>;

/// Longest wait a changes long-poll may ask for; longer requests are cut to it.
inline constexpr std::chrono::seconds admin_max_poll_timeout{60};
/// The wait when the client names none.
inline constexpr std::chrono::seconds admin_default_poll_timeout{25};

/// A changes long-poll with nothing to report yet: wait for a change after `since`, at most `timeout`,
/// then answer with admin_routes::changes(since).
struct changes_wait {
  std::uint64_t since = 0;
  std::chrono::seconds timeout{0};
};

/// What to do with one request.
struct admin_outcome {
  admin_response response;           ///< ready to send unless `wait` is set
  std::optional<changes_wait> wait;  ///< set only for a changes poll with nothing new yet
};

class admin_routes {
 public:
  using clock_fn = std::function<std::int64_t()>;  ///< unix epoch seconds (Slack timestamps)

  /// `config` supplies the tokens, the users' groups and the Slack settings; `now` defaults to the system
  /// clock.
  admin_routes(std::shared_ptr<approvals::service> service, std::shared_ptr<const gateway_config> config,
               clock_fn now = {});

  /// Routes one request. Never throws on anything a client sends; a failing store answers 500.
  admin_outcome handle(const admin_request& req);

  /// {"seq":N,"requests":[...]}: the changes after `since` in ascending seq order (the long-poll answer).
  admin_response changes(std::uint64_t since, unsigned version, bool keep_alive);

  /// Sends `body` to a Slack click's response_url (the chat notifier's delivery); unset: clicks get no reply.
  using slack_reply_fn = std::function<void(http_url url, std::string body, std::string request_id)>;
  void set_slack_reply(slack_reply_fn reply) { slack_reply_ = std::move(reply); }

 private:
  admin_outcome route(const admin_request& req);
  std::optional<approvals::approver> authenticate(const admin_request& req) const;
  admin_response list(const admin_request& req, std::string_view query);
  admin_response get(const admin_request& req, std::string_view id);
  admin_response vote(const admin_request& req, std::string_view id, bool approve,
                      const approvals::approver& who);
  admin_outcome poll(const admin_request& req, std::string_view query);
  admin_response whoami(const admin_request& req, const approvals::approver& who);
  admin_response slack_interactive(const admin_request& req);
  /// Answers the click `action` by `who` (which the service answered with `vote`) through its response_url.
  void reply_in_slack(const approvals::slack_action& action, const approvals::approver& who,
                      const approvals::vote_outcome& vote) const;
  std::optional<approvals::approver> approver_for(const std::string& identity) const;

  std::shared_ptr<approvals::service> service_;
  std::shared_ptr<const gateway_config> config_;
  clock_fn now_;
  slack_reply_fn slack_reply_;
};

/// Lowercase hex SHA-256 of `text` (how token hashes are written in the config).
std::string sha256_hex(std::string_view text);

}  // namespace phigate
