// The canonical encoding of an audit record: JSON with a fixed key order, no whitespace, integers only,
// and one escaping rule per byte, so the same event always encodes to the same bytes and a verifier can
// recompute the chain hash from the stored text alone. Empty optional fields are left out.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.hpp"
#include "audit/record_item.hpp"

namespace phigate::audit {

/// The previous hash of the first record: 64 hex zeros.
inline constexpr std::string_view genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends `text` as a JSON string literal. Valid UTF-8 passes through; control characters, quotes and
/// backslashes are escaped; each byte of an invalid UTF-8 sequence becomes \u00XX (so the output is always
/// valid JSON and the mapping is deterministic).
void append_json_string(std::string& out, std::string_view text);

/// The record body: {"v":1,"seq":N,"prev":"<hex>","time":"...","kind":"...",...}. The chain hash of a
/// record is SHA-256 over exactly these bytes, and `prev` is the chain hash of the record before it.
std::string encode_record_body(const event& e, std::uint64_t seq, std::string_view prev_hash_hex);
std::string encode_record_body(const record_item& e, std::uint64_t seq, std::string_view prev_hash_hex);

/// The body of a `statements` record (see grouping.hpp): the first item's time, session and actor, then
/// {"items":[{"time":"...","kind":"...","statement":{...},"decision":{...},"outcome":{...}},...]} with each
/// item's sections encoded as in a record of its own, except what several items repeat: the statement's
/// normalized text and key id and the whole decision section go once into
/// "common":[{"statement":{"normalized":"...","key_id":"..."},"decision":{...}},...] (before "items"), and
/// each item that shares one says {"common":N,"statement":{"text_hmac":...,"params_hmac":...},"outcome":...}
/// in place of those fields. When all the items that share an entry have the same text, its text_hmac is in
/// the entry ({"normalized":...,"text_hmac":...,"key_id":...}) and not in the items (whose statement
/// section is left out when nothing else is in it); likewise the outcome's command and SQLSTATE go into the
/// entry ("outcome":{"command":...,"sqlstate":...}, after "decision") when all its items that have an
/// outcome have the same ones; they complete the outcome of each such item. Export's CSV puts them back.
std::string encode_group_body(const std::vector<const record_item*>& items, std::uint64_t seq,
                              std::string_view prev_hash_hex);

/// "2026-12-04T18:33:36.123456Z" (UTC, microseconds).
std::string format_time(std::chrono::system_clock::time_point t);
/// Microseconds since the Unix epoch.
std::int64_t to_unix_us(std::chrono::system_clock::time_point t);

/// Reads "2026-12-04", "2026-12-04T18:33", "2026-12-04T18:33:36", with optional fraction and "Z" or
/// "+hh:mm" offset (no offset: UTC). Returns microseconds since the Unix epoch, nullopt when unreadable.
std::optional<std::int64_t> parse_time_us(std::string_view text);

}  // namespace phigate::audit
