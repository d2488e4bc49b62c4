#include "audit/checkpoint.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "audit/canonical_json.hpp"

namespace phigate::audit {

std::string checkpoint::signed_message() const {
  return "phigate-audit-checkpoint-v1\n" + std::to_string(tree_size) + "\n" + head_hash + "\n" + time + "\n";
}

std::string checkpoint::to_json_line() const {
  std::string out = "{\"tree_size\":" + std::to_string(tree_size) + ",\"head\":";
  append_json_string(out, head_hash);
  out += ",\"time\":";
  append_json_string(out, time);
  out += ",\"key_id\":";
  append_json_string(out, key_id);
  out += ",\"signature\":";
  append_json_string(out, signature);
  out += '}';
  return out;
}

std::optional<checkpoint> checkpoint::from_json_line(std::string_view line) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  const auto text = [&](const char* key) -> const boost::json::string* {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? &v->as_string() : nullptr;
  };
  const auto* size = o.if_contains("tree_size");
  const auto *head = text("head"), *time = text("time"), *key_id = text("key_id"), *sig = text("signature");
  if (!size || !(size->is_uint64() || size->is_int64()) || !head || !time || !key_id || !sig)
    return std::nullopt;
  checkpoint c;
  c.tree_size = size->is_uint64() ? size->as_uint64() : static_cast<std::uint64_t>(size->as_int64());
  c.head_hash = std::string(*head);
  c.time = std::string(*time);
  c.key_id = std::string(*key_id);
  c.signature = std::string(*sig);
  return c;
}

}  // namespace phigate::audit
