#include "gateway/pg_response_queue.hpp"

namespace phigate {

void pg_response_queue::drop_until_sync() {
  while (!queue_.empty() && queue_.front().what != expected_response::kind::sync) queue_.pop_front();
}

std::shared_ptr<const result_shape> apply_result_formats(const result_shape& statement_shape,
                                                         const std::vector<std::int16_t>& formats) {
  auto out = std::make_shared<result_shape>();
  if (!statement_shape.has_rows) return out;
  auto whole = as_bytes(statement_shape.row_description);
  auto f = pg::split_frame(whole, whole.size());
  if (!f) return nullptr;
  auto desc = pg::row_description::decode(*f);
  if (!desc) return nullptr;
  for (std::size_t i = 0; i < desc->fields.size(); ++i) {
    std::int16_t fmt = 0;
    if (formats.size() == 1)
      fmt = formats[0];
    else if (i < formats.size())
      fmt = formats[i];
    desc->fields[i].format = fmt;
  }
  out->has_rows = true;
  desc->encode(out->row_description);
  return out;
}

}  // namespace phigate
