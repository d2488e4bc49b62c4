// A capture file read back for `phigate replay`: its sessions in order of first appearance, each with the
// frontend messages its client sent, and the same model written out (by the pgbench import and by tests).
// The format is described in gateway/capture.hpp and benchmarks/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace phigate::replay {

/// One frontend message as the client sent it (type byte, length word, body).
struct message {
  std::int64_t time_us = 0;
  std::string bytes;
  char type() const noexcept { return bytes.empty() ? '\0' : bytes.front(); }
};

struct session {
  std::string key;  ///< "<segment>:<session id>", unique in the file
  std::uint64_t id = 0;
  std::string user;
  std::string database;
  std::string application_name;
  std::int64_t start_us = 0;
  std::vector<message> messages;
};

struct capture {
  std::vector<session> sessions;
  std::int64_t first_us() const noexcept;  ///< earliest session start; 0 when empty
  std::size_t message_count() const noexcept;
};

/// Why a capture could not be read, with the byte offset where reading stopped.
struct read_error {
  std::string message;
  std::size_t offset = 0;
  std::string to_string() const;
};

/// Parses a whole capture file. Every record is checked: a known type, a payload that fits its length, a
/// message record holding exactly one frontend message, a session id announced before its messages.
std::variant<capture, read_error> parse_capture(std::string_view bytes);
std::variant<capture, read_error> read_capture_file(const std::string& path);

/// The capture as one segment (session ids renumbered from 1 in order).
std::string encode_capture(const capture& c);
/// Writes `c` to `path`, created or truncated with mode 0600. "" on success, else why not.
std::string write_capture_file(const std::string& path, const capture& c);

}  // namespace phigate::replay
