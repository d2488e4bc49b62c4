// The canonical encoder's writing primitives (canonical_json.cpp only). A record's body is built from a few
// dozen short pieces per statement; appending each to a std::string costs a call, a capacity check and a
// terminator, so the pieces go through json_buffer instead: a writer asks once for room for what it is
// about to write and then copies into it.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::audit {

/// Writes at the end of `out`, which holds scratch bytes past what was written until finish().
class json_buffer {
 public:
  explicit json_buffer(std::string& out) : out_(out) { expose(out.size(), 0); }
  json_buffer(const json_buffer&) = delete;
  json_buffer& operator=(const json_buffer&) = delete;
  ~json_buffer() { finish(); }

  /// Cuts `out` to what was written; nothing may be written after.
  void finish() {
    if (!pos_) return;
    out_.resize(size());
    pos_ = end_ = nullptr;
  }

  /// Makes room for `n` more bytes.
  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - pos_) < n) expose(size(), n);
  }
  // Each put assumes room() was asked for it.
  void put(char c) { *pos_++ = c; }
  void put(std::string_view s) {
    if (s.empty()) return;  // an empty view may have no data pointer, which memcpy must not get
    std::memcpy(pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void put_number(std::uint64_t value) { pos_ = std::to_chars(pos_, pos_ + max_digits, value).ptr; }
  static constexpr std::size_t max_digits = 20;

  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(pos_ - out_.data()); }

 private:
  // Makes the string's whole capacity (at least `used` + `more` bytes) writable, keeping `used` bytes.
  void expose(std::size_t used, std::size_t more) {
    out_.resize(used);
    if (out_.capacity() < used + more) out_.reserve(std::max(2 * out_.capacity(), used + more));
    out_.resize(out_.capacity());
    pos_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* pos_ = nullptr;
  char* end_ = nullptr;
};

/// `text` as a JSON string literal (see append_json_string).
void write_json_string(json_buffer& out, std::string_view text);

/// Writes keys in the order the caller gives them; the caller's fixed order is what makes it canonical.
/// Keys are the encoder's own literals (plain ASCII), copied with a size known at compile time.
class object_writer {
 public:
  explicit object_writer(json_buffer& out) : out_(out) {
    out_.room(1);
    out_.put('{');
  }
  template <std::size_t N>
  void string(const char (&key)[N], std::string_view value, bool keep_empty = false) {
    if (value.empty() && !keep_empty) return;
    name(key);
    write_json_string(out_, value);
  }
  /// A string value that needs no escaping (hex digests, formatted times, kind names): copied as is.
  template <std::size_t N>
  void plain(const char (&key)[N], std::string_view value) {
    name(key, value.size() + 2);
    out_.put('"');
    out_.put(value);
    out_.put('"');
  }
  /// A lowercase hex digest (record_item.hpp: never anything else), left out when empty.
  template <std::size_t N>
  void hex(const char (&key)[N], std::string_view value) {
    if (!value.empty()) plain(key, value);
  }
  template <std::size_t N>
  void number(const char (&key)[N], std::uint64_t value) {
    name(key, json_buffer::max_digits);
    out_.put_number(value);
  }
  template <std::size_t N>
  void list(const char (&key)[N], const std::vector<std::string>* items) {
    if (!items || items->empty()) return;
    name(key, 1);
    out_.put('[');
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (i) {
        out_.room(1);
        out_.put(',');
      }
      write_json_string(out_, (*items)[i]);
    }
    out_.room(1);
    out_.put(']');
  }
  template <std::size_t N>
  void counts(const char (&key)[N], const std::map<std::string, std::uint64_t>& items) {
    if (items.empty()) return;
    object_writer inner = open(key);
    for (const auto& [label, count] : items) {
      inner.label(label);
      out_.room(json_buffer::max_digits);
      out_.put_number(count);
    }
    inner.close();
  }
  template <std::size_t N>
  object_writer open(const char (&key)[N]) {
    name(key);
    return object_writer(out_);
  }
  /// key: [{...}, ...] with `fill(object_writer&, i)` writing the fields of the i-th object.
  template <std::size_t N, class Fill>
  void objects(const char (&key)[N], std::size_t count, Fill fill) {
    name(key, 1);
    out_.put('[');
    for (std::size_t i = 0; i < count; ++i) {
      if (i) {
        out_.room(1);
        out_.put(',');
      }
      object_writer item(out_);
      fill(item, i);
      item.close();
    }
    out_.room(1);
    out_.put(']');
  }
  void close() {
    out_.room(1);
    out_.put('}');
  }

 private:
  // ,"key": (no comma before the first key), with room for `then` more bytes after it.
  template <std::size_t N>
  void name(const char (&key)[N], std::size_t then = 0) {
    out_.room(N + 3 + then);
    if (!first_) out_.put(',');
    first_ = false;
    out_.put('"');
    out_.put(std::string_view(key, N - 1));
    out_.put('"');
    out_.put(':');
  }
  // Detector labels come from configuration: escaped like any string.
  void label(std::string_view key) {
    if (!first_) {
      out_.room(1);
      out_.put(',');
    }
    first_ = false;
    write_json_string(out_, key);
    out_.room(1);
    out_.put(':');
  }
  json_buffer& out_;
  bool first_ = true;
};

}  // namespace phigate::audit
