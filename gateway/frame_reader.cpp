#include "gateway/frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace phigate {

namespace {
// Read in chunks of at least this size so a stream of small messages costs few system calls.
constexpr std::size_t read_chunk_bytes = 16 * 1024;
// A buffer grown beyond this for one large message is given back once that message is consumed.
constexpr std::size_t max_idle_buffer_bytes = 1024 * 1024;
}  // namespace

void frame_reader::consume_previous() {
  begin_ += pending_consume_;
  pending_consume_ = 0;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // One huge message must not pin its buffer for the rest of the session.
    if (buf_.size() > max_idle_buffer_bytes) {
      buf_.resize(read_chunk_bytes);
      buf_.shrink_to_fit();
    }
  }
}

decoded<pg::frame> frame_reader::poll(phase p) {
  consume_previous();
  byte_span available{reinterpret_cast<const std::byte*>(buf_.data() + begin_), end_ - begin_};
  auto f = p == phase::startup ? pg::split_startup_frame(available)
                               : pg::split_frame(available, max_message_bytes_);
  if (f.ok()) pending_consume_ = f->whole.size();
  return f;
}

void frame_reader::make_room() {
  // Room for at least one chunk beyond what is buffered, moving the partial message to the front.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < read_chunk_bytes) buf_.resize(std::max(buf_.size() * 2, end_ + read_chunk_bytes));
}

asio::awaitable<decoded<pg::frame>> frame_reader::next(transport& t, phase p, error_code& io_error) {
  for (;;) {
    auto f = poll(p);
    if (!f.need_more()) co_return f;
    make_room();
    std::size_t n = co_await t.read_some({buf_.data() + end_, buf_.size() - end_}, io_error);
    if (io_error) co_return decode_error{decode_errc::malformed, "connection closed"};
    end_ += n;
  }
}

asio::awaitable<void> frame_reader::fill(transport& t, error_code& io_error) {
  consume_previous();
  make_room();
  std::size_t n = co_await t.read_some({buf_.data() + end_, buf_.size() - end_}, io_error);
  if (!io_error) end_ += n;
}

}  // namespace phigate
