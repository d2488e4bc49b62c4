#include "gateway/replay_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>

#include "protocol/postgres/auth.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::replay {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Answers are trusted as much as any server's; this bounds the memory one huge row can take.
constexpr std::size_t max_server_message_bytes = std::size_t{1} << 30;
constexpr std::uint64_t fnv_offset = 14695981039346656037ull;
constexpr std::uint64_t fnv_prime = 1099511628211ull;

std::uint64_t fnv1a(std::uint64_t h, byte_span bytes) {
  for (const std::byte b : bytes) {
    h ^= static_cast<std::uint8_t>(b);
    h *= fnv_prime;
  }
  return h;
}

// key=value pairs, values optionally single-quoted with \' and \\ escapes (libpq's rules).
std::variant<std::vector<std::pair<std::string, std::string>>, std::string> split_keywords(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  for (skip_space(); i < text.size(); skip_space()) {
    const auto eq = text.find('=', i);
    if (eq == std::string_view::npos) return "missing '=' after \"" + std::string(text.substr(i)) + "\"";
    std::string key(text.substr(i, eq - i));
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    i = eq + 1;
    skip_space();
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i]);
      }
      if (i >= text.size()) return "unterminated quoted value for " + key;
      ++i;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
        value.push_back(text[i++]);
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// postgresql://user:password@host:port/dbname?key=value&...
std::variant<std::vector<std::pair<std::string, std::string>>, std::string> split_uri(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  text.remove_prefix(text.find("://") + 3);
  std::string_view query;
  if (const auto q = text.find('?'); q != std::string_view::npos) {
    query = text.substr(q + 1);
    text = text.substr(0, q);
  }
  std::string_view path;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    path = text.substr(slash + 1);
    text = text.substr(0, slash);
  }
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = text.substr(0, at);
    const auto colon = userinfo.find(':');
    out.emplace_back("user", percent_decode(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos)
      out.emplace_back("password", percent_decode(userinfo.substr(colon + 1)));
    text = text.substr(at + 1);
  }
  if (const auto colon = text.rfind(':');
      colon != std::string_view::npos && text.find(']') == std::string_view::npos) {
    out.emplace_back("port", std::string(text.substr(colon + 1)));
    text = text.substr(0, colon);
  }
  if (!text.empty()) out.emplace_back("host", std::string(text));
  if (!path.empty()) out.emplace_back("dbname", percent_decode(path));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return "URI parameter without '=': " + std::string(pair);
    out.emplace_back(std::string(pair.substr(0, eq)), percent_decode(pair.substr(eq + 1)));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return out;
}

std::string server_error_text(const pg::frame& f) {
  auto e = pg::error_response::decode(f);
  if (!e) return "malformed ErrorResponse";
  return std::string(e->field('C').value_or("?")) + " " + std::string(e->field('M').value_or(""));
}

}  // namespace

std::string target::describe() const {
  return name + " (" + user + "@" + host + ":" + std::to_string(port) + "/" +
         (database.empty() ? "<recorded database>" : database) + ")";
}

std::variant<target, std::string> parse_target(std::string_view text) {
  target t;
  // "name=key=value ..." or "name=postgresql://...": a leading word, '=', then a conninfo whose first word is
  // itself a key=value pair (in "host=h port=5432" the word after "host=" has no '=', so it is no name).
  if (const auto eq = text.find('='); eq != std::string_view::npos) {
    const auto word = text.substr(0, eq);
    const auto rest = text.substr(eq + 1);
    const auto first = rest.substr(0, rest.find_first_of(" \t"));
    const bool named = rest.starts_with("postgres://") || rest.starts_with("postgresql://") ||
                       first.find('=') != std::string_view::npos;
    if (named && !word.empty() && word.find_first_of(" \t:/") == std::string_view::npos) {
      t.name = std::string(word);
      text = rest;
    }
  }
  const bool uri = text.starts_with("postgres://") || text.starts_with("postgresql://");
  auto pairs = uri ? split_uri(text) : split_keywords(text);
  if (auto* problem = std::get_if<std::string>(&pairs)) return *problem;
  for (auto& [key, value] : std::get<0>(pairs)) {
    if (key == "host" || key == "hostaddr") {
      t.host = value;
    } else if (key == "port") {
      char* end = nullptr;
      const long port = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || port < 1 || port > 65535) return "invalid port '" + value + "'";
      t.port = static_cast<std::uint16_t>(port);
    } else if (key == "user") {
      t.user = value;
    } else if (key == "password") {
      t.password = value;
    } else if (key == "dbname") {
      t.database = value;
    } else if (key == "application_name") {
      t.application_name = value;
    } else if (key == "sslmode") {
      if (value == "disable" || value == "allow")
        t.tls = target::tls_mode::disable;
      else if (value == "prefer")
        t.tls = target::tls_mode::prefer;
      else if (value == "require")
        t.tls = target::tls_mode::require;
      else
        return "unsupported sslmode '" + value + "' (disable, allow, prefer or require)";
    } else if (key != "connect_timeout") {
      return "unknown connection keyword '" + key + "'";
    }
  }
  if (t.user.empty()) {
    if (const char* u = std::getenv("PGUSER")) t.user = u;
  }
  if (t.password.empty()) {
    if (const char* p = std::getenv("PGPASSWORD")) t.password = p;
  }
  if (t.user.empty()) return "no user: give user=... or set PGUSER";
  return t;
}

connection::connection(asio::any_io_executor executor, asio::ssl::context& tls)
    : executor_(std::move(executor)), tls_(tls), reader_(max_server_message_bytes) {}

asio::awaitable<std::string> connection::open(const target& t, const std::string& database) {
  tcp::resolver resolver(executor_);
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, std::to_string(t.port), use_tuple);
  if (rec) co_return "cannot resolve " + t.host + ": " + rec.message();
  tcp::socket sock(executor_);
  auto [cec, ep] = co_await asio::async_connect(sock, endpoints, use_tuple);
  if (cec) co_return "cannot connect to " + t.host + ":" + std::to_string(t.port) + ": " + cec.message();
  sock.set_option(tcp::no_delay(true));
  link_.emplace(std::move(sock));
  error_code ec;
  if (t.tls != target::tls_mode::disable) {
    std::string req;
    pg::ssl_request{}.encode(req);
    co_await link_->write_all(req, ec);
    char answer = 0;
    const std::size_t n = ec ? 0 : co_await link_->read_some({&answer, 1}, ec);
    if (ec || n != 1) co_return "connection closed during SSLRequest";
    if (answer == 'S') {
      if (auto tec = co_await link_->tls_connect(tls_, t.host, false))
        co_return "TLS handshake: " + tec.message();
    } else if (t.tls == target::tls_mode::require) {
      co_return "the server does not accept TLS (sslmode=require)";
    }
  }
  std::string out;
  pg::startup_message startup;
  startup.params = {{"user", t.user}, {"database", database}, {"application_name", t.application_name}};
  startup.encode(out);
  co_await link_->write_all(out, ec);
  if (ec) co_return "cannot send the startup message: " + ec.message();
  auto problem = co_await authenticate(t);
  if (!problem.empty()) co_return problem;
  co_return co_await wait_ready();
}

asio::awaitable<std::string> connection::authenticate(const target& t) {
  std::optional<pg::scram::client_exchange> scram;
  for (;;) {
    error_code io;
    auto f = co_await reader_.next(*link_, frame_reader::phase::typed, io);
    if (!f) co_return "connection lost during login";
    if (f->type == pg::backend_type::error_response) co_return "login refused: " + server_error_text(*f);
    if (f->type == pg::backend_type::negotiate_protocol_version) continue;
    if (f->type != pg::backend_type::authentication) co_return "unexpected message during login";
    auto auth = pg::authentication::decode(*f);
    if (!auth) co_return "malformed authentication request";
    std::string out;
    switch (auth->code) {
      case pg::auth_code::ok:
        co_return "";
      case pg::auth_code::cleartext_password:
        pg::password_message{t.password}.encode(out);
        break;
      case pg::auth_code::md5_password:
        pg::password_message{pg::md5_password_response(t.user, t.password, auth->md5_salt)}.encode(out);
        break;
      case pg::auth_code::sasl: {
        scram.emplace(t.password);
        const std::string first = scram->client_first();
        pg::sasl_initial_response{pg::scram::mechanism, as_bytes(first)}.encode(out);
        break;
      }
      case pg::auth_code::sasl_continue: {
        if (!scram) co_return "SASLContinue without SASL";
        auto step = scram->on_server_first(as_chars(auth->data));
        if (step.result != pg::scram::status::ok) co_return "SCRAM exchange failed";
        pg::sasl_response{as_bytes(step.message)}.encode(out);
        break;
      }
      case pg::auth_code::sasl_final:
        if (!scram || scram->on_server_final(as_chars(auth->data)).result != pg::scram::status::ok)
          co_return "the server's SCRAM signature did not verify";
        continue;
      default:
        co_return "unsupported authentication method " + std::to_string(static_cast<int>(auth->code));
    }
    co_await link_->write_all(out, io);
    if (io) co_return "connection lost during login";
  }
}

asio::awaitable<std::string> connection::wait_ready() {
  for (;;) {
    error_code io;
    auto f = co_await reader_.next(*link_, frame_reader::phase::typed, io);
    if (!f) co_return "connection lost after login";
    if (f->type == pg::backend_type::ready_for_query) co_return "";
    if (f->type == pg::backend_type::error_response)
      co_return "refused after login: " + server_error_text(*f);
  }
}

asio::awaitable<std::string> connection::play(const step& s, const std::string& session_key,
                                              std::uint32_t step_index, bool measure, stats& into,
                                              std::vector<statement_result>* results) {
  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  error_code io;
  co_await link_->write_all(s.bytes, io);
  if (io) co_return "write failed: " + io.message();
  if (s.terminates || s.ready_expected == 0) co_return "";

  std::vector<statement_result> outcome(s.statements.size());
  std::vector<bool> failed(s.statements.size(), false);
  for (auto& r : outcome) r.digest = fnv_offset;
  std::size_t front = 0;
  std::uint32_t ready_seen = 0;
  const auto finish = [&](std::size_t i, bool error) {
    const auto latency =
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started).count();
    if (measure) into.record(s.statements[i].label, latency, error);
    if (results) {
      outcome[i].session = session_key;
      outcome[i].step = step_index;
      outcome[i].label = s.statements[i].label;
      results->push_back(std::move(outcome[i]));
    }
  };
  for (;;) {
    auto f = co_await reader_.next(*link_, frame_reader::phase::typed, io);
    if (!f) co_return "connection lost while waiting for answers";
    const bool have = front < s.statements.size();
    switch (f->type) {
      case pg::backend_type::data_row:
      case pg::backend_type::copy_data:
        if (have) {
          outcome[front].rows += f->type == pg::backend_type::data_row;
          outcome[front].digest = fnv1a(outcome[front].digest, f->body);
        }
        break;
      case pg::backend_type::command_complete:
      case pg::backend_type::empty_query_response:
      case pg::backend_type::portal_suspended: {
        if (!have) break;
        if (f->type == pg::backend_type::command_complete) {
          if (auto c = pg::command_complete::decode(*f)) {
            auto& tags = outcome[front].tags;
            tags += (tags.empty() ? "" : ";") + std::string(c->tag);
          }
        }
        if (!s.statements[front].simple) finish(front++, false);
        break;
      }
      case pg::backend_type::error_response: {
        auto e = pg::error_response::decode(*f);
        const std::string code(e ? e->field('C').value_or("?") : "?");
        if (!have) {
          into.record_other_error();
          break;
        }
        if (outcome[front].sqlstate.empty()) outcome[front].sqlstate = code;
        failed[front] = true;
        if (!s.statements[front].simple) finish(front++, true);
        break;
      }
      case pg::backend_type::copy_in_response: {
        std::string data = s.copy_in;
        if (data.empty()) pg::copy_fail{"phigate replay: no COPY data was captured"}.encode(data);
        co_await link_->write_all(data, io);
        if (io) co_return "write failed: " + io.message();
        break;
      }
      case pg::backend_type::ready_for_query:
        if (have && s.statements[front].simple) {
          finish(front, failed[front]);
          ++front;
        }
        if (++ready_seen < s.ready_expected) break;
        // After an error the server skipped the rest of the pipeline up to Sync: those never ran.
        for (; front < s.statements.size(); ++front) {
          if (outcome[front].sqlstate.empty()) outcome[front].sqlstate = "skipped";
          finish(front, true);
        }
        co_return "";
      default:
        break;
    }
  }
}

asio::awaitable<void> connection::close(bool send_terminate) {
  if (!link_) co_return;
  if (send_terminate) {
    std::string bye;
    pg::encode_empty(bye, pg::frontend_type::terminate);
    error_code ignored;
    co_await link_->write_all(bye, ignored);
  }
  link_->close();
  link_.reset();
}

}  // namespace phigate::replay
