// Announces every new approval request to the configured chat channels (the `notify:` section): a Slack
// incoming webhook, a Microsoft Teams incoming webhook and a generic signed webhook; and answers clicks on
// the Slack message's buttons through the click's response_url. Each POST runs as its
// own coroutine on the admin io_context; a failure is logged and retried with backoff and never reaches
// the session that filed the request.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "approvals/service.hpp"
#include "gateway/config.hpp"

namespace phigate {

/// Attempts per message (the first one and the retries).
inline constexpr int notify_max_attempts = 4;
/// Wait before the first retry; doubled before each further one.
inline constexpr std::chrono::milliseconds notify_first_backoff{500};
/// Connect, TLS handshake, write and read of one attempt together.
inline constexpr std::chrono::seconds notify_attempt_timeout{10};

class chat_notifier {
 public:
  chat_notifier(boost::asio::io_context& io, std::shared_ptr<approvals::service> service,
                std::shared_ptr<const gateway_config> config);
  ~chat_notifier();
  chat_notifier(const chat_notifier&) = delete;
  chat_notifier& operator=(const chat_notifier&) = delete;

  /// Subscribes to the service: from now on each new pending request is announced.
  void start();

  /// Queues the messages for one request on the io_context; thread-safe, never blocks.
  void announce(const approvals::request& r);
  /// Queues a POST of `body` to a Slack click's response_url (see approvals::slack_vote_reply), with the
  /// same retries; thread-safe, never blocks.
  void reply_in_slack(http_url url, std::string body, std::string request_id);

  /// True when the config names at least one channel.
  static bool configured(const gateway_config& config);

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<approvals::service> service_;
  std::shared_ptr<const gateway_config> config_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  ///< for https:// webhooks: system CAs, host name checked
  std::uint64_t subscription_ = 0;
};

}  // namespace phigate
