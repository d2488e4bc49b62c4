// Text helpers behind load_config that do not depend on the YAML reader: address and mode parsing, path
// resolution, secret files, typo suggestions. Internal to gateway/; defined in config.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/config.hpp"

namespace phigate::config_detail {

/// A parsed "host:port" (IPv6 hosts in brackets: "[::1]:6432").
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

/// Why a text is not a valid value, in words for the person editing the file.
struct problem {
  std::string message;
};

/// The value, or the problem with it.
template <typename T>
using parsed = std::variant<T, problem>;

/// "host:port", "[v6]:port"; port 0..65535.
parsed<host_port> parse_host_port(std::string_view text);
/// An unsigned decimal integer within [min, max], without sign, spaces or leading '+'.
parsed<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t min, std::uint64_t max);
/// libpq's sslmode names: disable, prefer, require, verify-full.
std::optional<upstream_tls_mode> parse_upstream_tls_mode(std::string_view text);
std::string_view to_string(upstream_tls_mode mode);
/// trace, debug, info, warn, error.
bool is_log_level(std::string_view text);
inline constexpr std::string_view log_levels = "trace, debug, info, warn, error";

/// `path` as is when absolute, else relative to `base_dir` (the config file's directory).
std::string resolve_path(const std::filesystem::path& base_dir, std::string_view path);
/// Empty when `path` is a regular file that can be opened for reading; otherwise why not.
std::string check_readable_file(const std::string& path);
/// The file's content with one trailing newline ("\n" or "\r\n") removed, or why it cannot be read.
parsed<std::string> read_secret_file(const std::string& path);

}  // namespace phigate::config_detail
