// Shared checks for the PostgreSQL codec fuzz targets: every decoder must survive any frame, and whatever
// it accepts must encode back to exactly the bytes it came from.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>

#include "protocol/postgres/messages.hpp"

namespace phigate::pg::fuzz {

/// Large enough for any input the fuzzer builds, small enough to exercise too_large on hostile headers.
inline constexpr std::size_t max_message_bytes = 1 << 20;

/// Decodes `f` as M; if that succeeds, re-encodes it and traps unless the body is reproduced byte for byte.
template <class M>
void check_round_trip(const frame& f) {
  const auto m = M::decode(f);
  if (!m) return;
  std::string out;
  const char type = f.type != '\0' ? f.type : 'x';  // a '\0' type would make the writer omit the byte
  if constexpr (requires { m->encode(out, type); }) {
    m->encode(out, type);
  } else {
    m->encode(out);
  }
  const auto again = split_frame(as_bytes(out), std::numeric_limits<std::size_t>::max());
  if (!again || !std::ranges::equal(again->body, f.body)) __builtin_trap();
}

template <class... M>
void check_all(const frame& f) {
  (check_round_trip<M>(f), ...);
  if (decode_empty(f) && !f.body.empty()) __builtin_trap();
}

/// A startup packet that decodes must encode back to its exact bytes.
inline void check_startup(const frame& f) {
  const auto p = decode_startup_packet(f);
  if (!p) return;
  std::string out;
  std::visit([&](const auto& m) { m.encode(out); }, *p);
  if (!std::ranges::equal(as_bytes(out), f.whole)) __builtin_trap();
}

/// Splits `data` into typed frames until it runs out or a frame is refused, calling `check` on each.
template <class Check>
void for_each_frame(byte_span data, Check check) {
  for (auto f = split_frame(data, max_message_bytes); f; f = split_frame(data, max_message_bytes)) {
    check(*f);
    data = data.subspan(f->whole.size());
  }
}

}  // namespace phigate::pg::fuzz
