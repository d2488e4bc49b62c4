// The network side of `phigate review`: background threads that keep a request list current through the admin
// API (a full list, then GET /api/v1/changes long-polls) and carry out votes, so the terminal UI never waits
// on the network. The UI thread collects what happened with take_events().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "approvals/request.hpp"
#include "gateway/admin_cli_options.hpp"
#include "gateway/admin_client.hpp"

namespace phigate {

/// Something the feed learned, for the UI thread.
struct review_event {
  enum class type {
    replaced,  ///< `requests` is the full list
    changed,   ///< `requests` changed (merge by id)
    identity,  ///< `identity` is who the token belongs to
    error,     ///< `message` explains a failed call (unreachable API, 403 on a vote, ...)
    notice,    ///< `message` reports a success ("approved r-...")
  };
  type what = type::notice;
  std::vector<approvals::request> requests;
  admin_identity identity;
  std::string message;
};

class review_feed {
 public:
  /// Nothing runs before start().
  review_feed() = default;
  review_feed(const review_feed&) = delete;
  review_feed& operator=(const review_feed&) = delete;
  /// Stops the threads; a long-poll in progress is cut short.
  ~review_feed();

  /// The token the clients given to start() must watch.
  std::stop_token stop_token() const noexcept { return stop_.get_token(); }

  /// Starts polling with `poll_client` and voting with `action_client` (two clients so a vote never waits
  /// behind a long-poll).
  void start(admin_client poll_client, admin_client action_client);

  /// Asks for a full list now (the `r` key).
  void refresh();
  /// Sends a vote; the outcome arrives as a `changed` event plus a notice, or as an error.
  void vote(std::string id, bool approve, std::string reason);

  /// Everything that happened since the last call, oldest first.
  std::vector<review_event> take_events();

 private:
  struct action {
    enum class type { refresh, approve, deny } what = type::refresh;
    std::string id, reason;
  };

  void poll_loop(const admin_client& client);
  void action_loop(const admin_client& client);
  bool fetch_all(const admin_client& client, std::uint64_t& since);
  void push(review_event event);
  void pause(std::chrono::milliseconds how_long);

  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<action> actions_;
  std::vector<review_event> events_;
  std::string last_poll_error_;
  std::thread poller_, actor_;
};

}  // namespace phigate
