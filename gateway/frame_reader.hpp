// Reads whole PostgreSQL messages from a transport into one reusable buffer. The buffer grows only to the
// largest message seen (bounded by the configured limit) and is compacted as messages are consumed, so a
// session's memory does not grow with the size of a result: it holds at most one message at a time plus
// whatever one read brought in.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>

#include "gateway/transport.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate {

class frame_reader {
 public:
  enum class phase { startup, typed };

  explicit frame_reader(std::size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  /// Reads until a whole message is buffered and returns it; the frame stays valid until the next call.
  /// On failure returns an error: decode errors from the codec (too_large / malformed), or `io_error` set.
  asio::awaitable<decoded<pg::frame>> next(transport& t, phase p, error_code& io_error);

  /// Returns the next message if it is already buffered, need_more if not (without reading), or the
  /// codec's error. Consumes the message returned by the previous call, like next().
  decoded<pg::frame> poll(phase p);

  /// Reads once from the transport into the buffer without returning a frame (consuming the frame returned
  /// last). Used while a statement is held, to notice a client that goes away; whatever arrives stays
  /// buffered for next()/poll().
  asio::awaitable<void> fill(transport& t, error_code& io_error);

  /// Bytes read from the socket but not yet returned as a frame.
  std::size_t buffered() const noexcept { return end_ - begin_ - pending_consume_; }

 private:
  void consume_previous();
  void make_room();
  std::size_t max_message_bytes_;
  std::string buf_;
  std::size_t begin_ = 0;            // first unconsumed byte
  std::size_t end_ = 0;              // one past the last byte read
  std::size_t pending_consume_ = 0;  // size of the frame returned last time, consumed on the next call
};

}  // namespace phigate
