#include "gateway/capture.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>

#include "gateway/config.hpp"

namespace phigate {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}

void put_cstring(std::string& out, std::string_view s) {
  // A NUL inside would end the field early and shift every later one; startup values never hold one anyway.
  out.append(s.substr(0, s.find('\0')));
  out.push_back('\0');
}

// Type and length are written first and the length patched once the payload is in place.
std::size_t begin_record(std::string& out, char type) {
  out.push_back(type);
  const std::size_t at = out.size();
  put_u32(out, 0);
  return at;
}

void end_record(std::string& out, std::size_t length_at) {
  const auto length = static_cast<std::uint32_t>(out.size() - length_at - 4);
  for (int i = 0; i < 4; ++i) out[length_at + i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

bool write_fully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

void encode_session_start(const capture_session_info& info, std::string& out) {
  const std::size_t at = begin_record(out, capture_format::session_start);
  put_u64(out, info.session);
  put_u64(out, static_cast<std::uint64_t>(info.time_us));
  put_cstring(out, info.user);
  put_cstring(out, info.database);
  put_cstring(out, info.application_name);
  end_record(out, at);
}

void encode_message_record(std::uint64_t session, std::int64_t time_us, std::string_view message,
                           std::string& out) {
  const std::size_t at = begin_record(out, capture_format::message);
  put_u64(out, session);
  put_u64(out, static_cast<std::uint64_t>(time_us));
  out.append(message);
  end_record(out, at);
}

std::int64_t capture_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::shared_ptr<capture_writer> capture_writer::shared_for(const std::string& path, bool is_dir) {
  static std::mutex registry_mutex;
  static std::map<std::pair<std::string, bool>, std::weak_ptr<capture_writer>> registry;
  std::lock_guard lock(registry_mutex);
  auto& slot = registry[{path, is_dir}];
  if (auto existing = slot.lock()) return existing;
  auto writer = std::make_shared<capture_writer>(path, is_dir);
  slot = writer;
  return writer;
}

capture_writer::capture_writer(std::string path, bool is_dir)
    : destination_(std::move(path)), is_dir_(is_dir) {}

capture_writer::~capture_writer() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void capture_writer::record(std::uint64_t session, const session_identity& who, const pg::frame& message) {
  const std::int64_t now = capture_now_us();
  std::lock_guard lock(mutex_);
  if (failed_) return;
  if (started_.insert(session).second) {
    encode_session_start({session, now, who.user, who.database, who.application_name}, pending_);
  }
  encode_message_record(session, now, as_chars(message.whole), pending_);
  const bool ends = message.type == pg::frontend_type::terminate;
  if (ends) started_.erase(session);
  if (ends || pending_.size() >= flush_threshold_bytes ||
      std::chrono::steady_clock::now() - last_flush_ >= flush_interval) {
    flush_locked();
  }
}

void capture_writer::flush() {
  std::lock_guard lock(mutex_);
  flush_locked();
}

std::string capture_writer::file_path() const {
  std::lock_guard lock(mutex_);
  return file_;
}

bool capture_writer::open_locked() {
  std::error_code ec;
  if (is_dir_) {
    std::filesystem::create_directories(destination_, ec);
    if (!ec) ::chmod(destination_.c_str(), 0700);
    file_ = (std::filesystem::path(destination_) /
             ("phigate-" + utc_stamp() + "-" + std::to_string(::getpid()) + ".pgcap"))
                .string();
  } else {
    file_ = destination_;
  }
  // 0600 even when the file already existed with wider permissions: a capture holds every literal.
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0 || ::fchmod(fd_, 0600) != 0) {
    spdlog::error("capture: cannot open {}: {}; capturing stops", file_, std::strerror(errno));
    return false;
  }
  // Every run starts a segment with its own header, so session ids of an earlier run appended to the same
  // file never mix with this run's.
  if (!write_fully(fd_, capture_format::header)) {
    spdlog::error("capture: cannot write {}: {}; capturing stops", file_, std::strerror(errno));
    return false;
  }
  spdlog::info("capture: recording sessions to {}", file_);
  return true;
}

void capture_writer::flush_locked() {
  last_flush_ = std::chrono::steady_clock::now();
  if (pending_.empty() || failed_) return;
  if (fd_ < 0 && !open_locked()) {
    failed_ = true;
    pending_.clear();
    return;
  }
  if (!write_fully(fd_, pending_)) {
    spdlog::error("capture: cannot write {}: {}; capturing stops", file_, std::strerror(errno));
    failed_ = true;
  }
  pending_.clear();
}

void capture_frontend_message(const gateway_config& config, std::uint64_t session,
                              const session_identity& who, const pg::frame& message) {
  if (!config.capture || !config.capture->enabled || !config.capture->writer) return;
  if (!config.capture->captures(who)) return;
  config.capture->writer->record(session, who, message);
}

}  // namespace phigate
