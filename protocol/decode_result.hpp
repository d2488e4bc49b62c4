// Result of decoding untrusted bytes: a value, "need more bytes", or a typed error. No exceptions.
#pragma once

#include <cassert>
#include <string_view>
#include <utility>
#include <variant>

namespace phigate {

/// Why a decoder could not produce a value.
enum class decode_errc {
  need_more,     ///< the buffer holds a prefix of a valid message; read more and try again
  too_large,     ///< a declared length exceeds the configured limit
  malformed,     ///< the bytes can never become a valid message (bad length, missing terminator, ...)
  unsupported,   ///< well-formed, but a code or version phigate does not speak
};

/// A decode failure. `what` always points at a string literal, so errors are cheap to copy and never
/// carry bytes from the input (which may hold PHI).
struct decode_error {
  decode_errc code;
  std::string_view what;
};

/// Either a decoded T or a decode_error. Modelled on std::expected (C++23).
template <class T>
class decoded {
 public:
  decoded(T value) : v_(std::move(value)) {}                 // NOLINT(google-explicit-constructor)
  decoded(decode_error error) : v_(error) {}                 // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  bool need_more() const noexcept { return !ok() && error().code == decode_errc::need_more; }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const decode_error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, decode_error> v_;
};

inline decode_error need_more_bytes() { return {decode_errc::need_more, "need more bytes"}; }
inline decode_error malformed(std::string_view what) { return {decode_errc::malformed, what}; }

}  // namespace phigate
