// The approvers' thread: one io_context for the admin listener and the chat notifier, started before the
// session workers (so a bad admin address fails the start) and stopped after them.
#include "gateway/admin_runtime.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "gateway/admin_server.hpp"
#include "gateway/chat_notifier.hpp"

namespace phigate {

std::unique_ptr<admin_runtime> admin_runtime::start(std::shared_ptr<approvals::service> service,
                                                    std::shared_ptr<const gateway_config> config) {
  const bool notify = chat_notifier::configured(*config);
  if (!config->admin && !notify) return nullptr;
  if (!service) {
    spdlog::warn("admin API and chat notifications are off: the gateway has no approvals store");
    return nullptr;
  }
  std::unique_ptr<admin_runtime> rt(new admin_runtime());
  // Kept alive without a listener too: the notifier's deliveries are posted to it as requests arrive.
  rt->work_.emplace(rt->io_.get_executor());
  if (notify) {
    rt->notifier_ = std::make_unique<chat_notifier>(rt->io_, service, config);
    rt->notifier_->start();
  }
  if (config->admin) {
    rt->server_ = std::make_unique<admin_server>(rt->io_, service, config);
    if (rt->notifier_) {
      // Clicks on the Slack message's buttons are answered through the notifier's delivery.
      rt->server_->set_slack_reply(
          [notifier = rt->notifier_.get()](http_url url, std::string body, std::string request_id) {
            notifier->reply_in_slack(std::move(url), std::move(body), std::move(request_id));
          });
    }
    rt->server_->start();
  }
  rt->thread_ = std::thread([io = &rt->io_] { io->run(); });
  return rt;
}

admin_runtime::~admin_runtime() {
  stop();
  // Unsubscribe before the io_context goes, so no change is posted to a dead one.
  notifier_.reset();
  server_.reset();
}

std::optional<std::uint16_t> admin_runtime::port() const noexcept {
  if (!server_) return std::nullopt;
  return server_->port();
}

void admin_runtime::stop() {
  if (!thread_.joinable()) return;
  if (server_) server_->stop();
  work_.reset();
  // Gives the posted stop a turn, then ends in-flight deliveries and keep-alive connections.
  boost::asio::post(io_, [this] { io_.stop(); });
  thread_.join();
}

}  // namespace phigate
