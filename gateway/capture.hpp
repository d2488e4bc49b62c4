// Session capture for `phigate replay`: the capture file format (version 1) and the writer the gateway's
// query cycle feeds with every frontend message of a captured session.
//
// Format (all integers big-endian; see benchmarks/README.md, "Capture format"):
//   header   the 18 bytes "PHIGATE-CAPTURE 1\n"; it may appear again between records, which starts a new
//            segment (a later gateway run appending to the same file): session ids are unique per segment
//   record   u8 type, u32 payload length, payload
//     'S'    session start: u64 session id, i64 time (µs since the Unix epoch), then NUL-terminated user,
//            database, application_name
//     'M'    one frontend message: u64 session id, i64 time, then the message exactly as the client sent it
//            (type byte, length word, body). Only messages after authentication are recorded: no passwords.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "gateway/seams.hpp"
#include "protocol/postgres/messages.hpp"

namespace phigate {

struct gateway_config;

namespace capture_format {
inline constexpr std::string_view header = "PHIGATE-CAPTURE 1\n";
inline constexpr std::string_view header_prefix = "PHIGATE-CAPTURE ";
inline constexpr std::uint32_t version = 1;
inline constexpr char session_start = 'S';
inline constexpr char message = 'M';
/// A record is one frontend message plus 16 bytes; PostgreSQL never accepts a message of 1 GB or more.
inline constexpr std::size_t max_payload_bytes = (std::size_t{1} << 30) + 16;
}  // namespace capture_format

/// Who a captured session was and where it connected.
struct capture_session_info {
  std::uint64_t session = 0;
  std::int64_t time_us = 0;
  std::string user;
  std::string database;
  std::string application_name;
};

/// Appends the encoded record to `out`.
void encode_session_start(const capture_session_info& info, std::string& out);
void encode_message_record(std::uint64_t session, std::int64_t time_us, std::string_view message,
                           std::string& out);

/// Microseconds since the Unix epoch (the records' clock).
std::int64_t capture_now_us();

/// Appends records to one capture file from every session on every thread. Buffered: the file is written
/// when 64 KiB are pending, when 200 ms have passed since the last write, at each session's Terminate, and
/// at destruction. A write failure is logged once and ends capturing; sessions are never affected.
class capture_writer {
 public:
  /// The writer for `path` (a file, or a directory when `is_dir`), shared while anyone holds it.
  static std::shared_ptr<capture_writer> shared_for(const std::string& path, bool is_dir);

  capture_writer(std::string path, bool is_dir);
  ~capture_writer();
  capture_writer(const capture_writer&) = delete;
  capture_writer& operator=(const capture_writer&) = delete;

  /// Records one frontend message of `session`; the first one of a session is preceded by its start record.
  void record(std::uint64_t session, const session_identity& who, const pg::frame& message);
  /// Writes what is pending.
  void flush();
  /// The file written to ("" until the first record).
  std::string file_path() const;

 private:
  void flush_locked();
  bool open_locked();

  static constexpr std::size_t flush_threshold_bytes = 64 * 1024;
  static constexpr std::chrono::milliseconds flush_interval{200};

  mutable std::mutex mutex_;
  std::string destination_;
  bool is_dir_;
  std::string file_;
  int fd_ = -1;
  bool failed_ = false;
  std::string pending_;
  std::unordered_set<std::uint64_t> started_;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
};

/// The tap in the query cycle: records `message` when the config captures `who`'s sessions. Cheap when
/// capturing is off (one check of an absent section).
void capture_frontend_message(const gateway_config& config, std::uint64_t session,
                              const session_identity& who, const pg::frame& message);

}  // namespace phigate
