#include "gateway/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace phigate {

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

transport::transport(tcp::socket socket) : plain_(std::move(socket)) {}

tcp::socket& transport::socket() noexcept {
  return tls_ ? tls_->next_layer() : *plain_;
}
const tcp::socket& transport::socket() const noexcept {
  return tls_ ? tls_->next_layer() : *plain_;
}

asio::awaitable<error_code> transport::tls_accept(asio::ssl::context& ctx) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*plain_), ctx);
  plain_.reset();
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, use_tuple);
  co_return ec;
}

asio::awaitable<error_code> transport::tls_connect(asio::ssl::context& ctx, const std::string& server_name,
                                                   bool verify_host) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*plain_), ctx);
  plain_.reset();
  if (!server_name.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
  if (verify_host) {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    tls_->set_verify_callback(asio::ssl::host_name_verification(server_name));
  }
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_tuple);
  co_return ec;
}

asio::awaitable<std::size_t> transport::read_some(std::span<char> into, error_code& ec) {
  auto buf = asio::buffer(into.data(), into.size());
  auto [e, n] = tls_ ? co_await tls_->async_read_some(buf, use_tuple)
                     : co_await plain_->async_read_some(buf, use_tuple);
  ec = e;
  co_return n;
}

asio::awaitable<void> transport::write_all(std::span<const char> data, error_code& ec) {
  auto buf = asio::buffer(data.data(), data.size());
  auto [e, n] = tls_ ? co_await asio::async_write(*tls_, buf, use_tuple)
                     : co_await asio::async_write(*plain_, buf, use_tuple);
  ec = e;
}

void transport::close() noexcept {
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
}

std::size_t transport::available() const {
  error_code ec;
  return socket().available(ec);
}

}  // namespace phigate
