#include "gateway/replay_capture.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "gateway/capture.hpp"
#include "protocol/byte_reader.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate::replay {

namespace {

std::uint64_t read_u64(byte_reader& r) {
  const std::uint64_t high = r.read_u32_be();
  return (high << 32) | r.read_u32_be();
}

struct parser {
  explicit parser(std::string_view b) : bytes(b) {}

  std::string_view bytes;
  std::size_t pos = 0;
  std::size_t segment = 0;
  capture out;
  std::map<std::pair<std::size_t, std::uint64_t>, std::size_t> index;  // (segment, id) → sessions[i]

  read_error fail(std::string message) const { return {std::move(message), pos}; }

  bool at_header() const { return bytes.substr(pos).starts_with(capture_format::header_prefix); }

  std::optional<read_error> header() {
    const auto line_end = bytes.find('\n', pos);
    if (line_end == std::string_view::npos) return fail("truncated header");
    const auto line = bytes.substr(pos, line_end + 1 - pos);
    if (line != capture_format::header) {
      return fail("unsupported capture version '" + std::string(line.substr(0, line.size() - 1)) +
                  "' (this phigate reads version " + std::to_string(capture_format::version) + ")");
    }
    pos = line_end + 1;
    ++segment;
    return std::nullopt;
  }

  std::optional<read_error> record() {
    if (bytes.size() - pos < 5) return fail("truncated record header");
    byte_reader head(as_bytes(bytes.substr(pos, 5)));
    const char type = static_cast<char>(head.read_u8());
    const std::size_t length = head.read_u32_be();
    if (length > capture_format::max_payload_bytes)
      return fail("record length " + std::to_string(length) + " too large");
    if (bytes.size() - pos - 5 < length) return fail("truncated record");
    byte_reader r(as_bytes(bytes.substr(pos + 5, length)));
    const std::uint64_t id = read_u64(r);
    const auto time_us = static_cast<std::int64_t>(read_u64(r));
    if (!r.ok()) return fail("record too short");
    std::optional<read_error> problem;
    if (type == capture_format::session_start) {
      problem = session_start(r, id, time_us);
    } else if (type == capture_format::message) {
      problem = message_record(r, id, time_us);
    } else {
      problem = fail(std::string("unknown record type '") + type + "'");
    }
    if (!problem) pos += 5 + length;
    return problem;
  }

  std::optional<read_error> session_start(byte_reader& r, std::uint64_t id, std::int64_t time_us) {
    session s;
    s.id = id;
    s.start_us = time_us;
    s.user = r.read_cstring();
    s.database = r.read_cstring();
    s.application_name = r.read_cstring();
    if (!r.ok() || !r.at_end()) return fail("malformed session start record");
    s.key = std::to_string(segment) + ":" + std::to_string(id);
    if (!index.emplace(std::pair{segment, id}, out.sessions.size()).second)
      return fail("session " + s.key + " started twice");
    out.sessions.push_back(std::move(s));
    return std::nullopt;
  }

  std::optional<read_error> message_record(byte_reader& r, std::uint64_t id, std::int64_t time_us) {
    const auto it = index.find({segment, id});
    if (it == index.end())
      return fail("message for session " + std::to_string(id) + " before its start record");
    const auto body = r.read_rest();
    auto f = pg::split_frame(body, capture_format::max_payload_bytes);
    if (!f || f->whole.size() != body.size()) return fail("message record does not hold exactly one message");
    out.sessions[it->second].messages.push_back({time_us, std::string(as_chars(body))});
    return std::nullopt;
  }
};

}  // namespace

std::int64_t capture::first_us() const noexcept {
  std::int64_t first = 0;
  for (const auto& s : sessions)
    if (first == 0 || s.start_us < first) first = s.start_us;
  return first;
}

std::size_t capture::message_count() const noexcept {
  std::size_t n = 0;
  for (const auto& s : sessions) n += s.messages.size();
  return n;
}

std::string read_error::to_string() const {
  return message + " (at byte " + std::to_string(offset) + ")";
}

std::variant<capture, read_error> parse_capture(std::string_view bytes) {
  parser p{bytes};
  if (!p.at_header()) return read_error{"not a phigate capture (no PHIGATE-CAPTURE header)", 0};
  while (p.pos < bytes.size()) {
    auto problem = p.at_header() ? p.header() : p.record();
    if (problem) return *problem;
  }
  return std::move(p.out);
}

std::variant<capture, read_error> read_capture_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return read_error{"cannot read " + path + ": " + std::strerror(errno), 0};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_capture(text.str());
}

std::string encode_capture(const capture& c) {
  std::string out(capture_format::header);
  std::uint64_t id = 0;
  for (const auto& s : c.sessions) {
    ++id;
    encode_session_start({id, s.start_us, s.user, s.database, s.application_name}, out);
    for (const auto& m : s.messages) encode_message_record(id, m.time_us, m.bytes, out);
  }
  return out;
}

std::string write_capture_file(const std::string& path, const capture& c) {
  const std::string bytes = encode_capture(c);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + path + ": " + std::strerror(errno);
  std::string_view rest = bytes;
  std::string problem;
  if (::fchmod(fd, 0600) != 0) problem = "cannot restrict " + path + ": " + std::strerror(errno);
  while (problem.empty() && !rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      problem = "cannot write " + path + ": " + std::strerror(errno);
    else
      rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::close(fd) != 0 && problem.empty()) problem = "cannot write " + path + ": " + std::strerror(errno);
  return problem;
}

}  // namespace phigate::replay
