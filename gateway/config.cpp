// Config error reporting and the loader-independent text helpers (config_helpers.hpp).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gateway/config.hpp"
#include "gateway/config_helpers.hpp"

namespace phigate {
namespace {

std::string join_errors(const std::vector<config_error>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += '\n';
    out += e.to_string();
  }
  return out;
}

}  // namespace

std::string config_error::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

config_exception::config_exception(std::vector<config_error> errors)
    : std::runtime_error(join_errors(errors)), errors_(std::move(errors)) {}

}  // namespace phigate

namespace phigate::config_detail {

parsed<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t min, std::uint64_t max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no sign or spaces, so "-1", "+5" and " 5" are refused rather than wrapped or trimmed.
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec == std::errc::result_out_of_range)
    return problem{"'" + std::string(text) + "' is out of range " + range};
  if (ec != std::errc{} || ptr != end)
    return problem{"expected an integer in " + range + ", got '" + std::string(text) + "'"};
  if (value < min || value > max) return problem{std::to_string(value) + " is out of range " + range};
  return value;
}

parsed<host_port> parse_host_port(std::string_view text) {
  const problem expected{"expected host:port, got '" + std::string(text) + "'"};
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return expected;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return expected;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // An unbracketed IPv6 address is ambiguous ("::1:6432"): ask for brackets instead of guessing.
    if (host.find(':') != std::string_view::npos)
      return problem{"IPv6 addresses need brackets: '[" + std::string(host) + "]:port'"};
  }
  if (host.empty()) return expected;
  const auto number = parse_unsigned(port, 0, 65535);
  if (const auto* p = std::get_if<problem>(&number)) return problem{"port: " + p->message};
  return host_port{std::string(host), static_cast<std::uint16_t>(std::get<std::uint64_t>(number))};
}

std::optional<upstream_tls_mode> parse_upstream_tls_mode(std::string_view text) {
  if (text == "disable") return upstream_tls_mode::disable;
  if (text == "prefer") return upstream_tls_mode::prefer;
  if (text == "require") return upstream_tls_mode::require;
  if (text == "verify-full") return upstream_tls_mode::verify_full;
  return std::nullopt;
}

std::string_view to_string(upstream_tls_mode mode) {
  switch (mode) {
    case upstream_tls_mode::disable:
      return "disable";
    case upstream_tls_mode::prefer:
      return "prefer";
    case upstream_tls_mode::require:
      return "require";
    case upstream_tls_mode::verify_full:
      return "verify-full";
  }
  return "unknown";
}

bool is_log_level(std::string_view text) {
  return text == "trace" || text == "debug" || text == "info" || text == "warn" || text == "error";
}

std::string resolve_path(const std::filesystem::path& base_dir, std::string_view path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p.string() : (base_dir / p).lexically_normal().string();
}

std::string check_readable_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) return "cannot read " + path + ": " + ec.message();
  if (!std::filesystem::is_regular_file(status)) return "cannot read " + path + ": not a regular file";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path + ": " + std::strerror(errno);
  return {};
}

parsed<std::string> read_secret_file(const std::string& path) {
  if (auto message = check_readable_file(path); !message.empty()) return problem{std::move(message)};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return problem{"cannot read " + path + ": " + std::strerror(errno)};
  std::string secret = std::move(content).str();
  // Editors and `echo` end files with a newline that is not part of the password; remove exactly one.
  if (secret.ends_with('\n')) secret.pop_back();
  if (secret.ends_with('\r')) secret.pop_back();
  return secret;
}
}  // namespace phigate::config_detail
