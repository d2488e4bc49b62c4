// A byte stream that is plain TCP until (optionally) upgraded to TLS in place. PostgreSQL negotiates TLS
// inside the connection (SSLRequest), so one socket object must serve both phases.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace phigate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class transport {
 public:
  explicit transport(tcp::socket socket);

  /// TLS handshake as server (client side of phigate) or as client (upstream side). After success all I/O
  /// goes through TLS. `server_name` (client role) sets SNI and, when verify is on, the host name checked.
  asio::awaitable<error_code> tls_accept(asio::ssl::context& ctx);
  asio::awaitable<error_code> tls_connect(asio::ssl::context& ctx, const std::string& server_name,
                                          bool verify_host);

  /// Reads at least one byte into `into`; returns bytes read (0 with an error on EOF/failure).
  asio::awaitable<std::size_t> read_some(std::span<char> into, error_code& ec);
  /// Writes all of `data`.
  asio::awaitable<void> write_all(std::span<const char> data, error_code& ec);

  /// Closes the socket (no TLS close_notify: used when ending a session for cause or timeout).
  void close() noexcept;
  bool is_tls() const noexcept { return tls_ != nullptr; }
  bool is_open() const noexcept { return socket().is_open(); }
  tcp::socket& socket() noexcept;
  const tcp::socket& socket() const noexcept;
  /// Bytes already buffered by the kernel and not yet read; used to refuse data pipelined after SSLRequest.
  std::size_t available() const;

 private:
  std::optional<tcp::socket> plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
};

}  // namespace phigate
