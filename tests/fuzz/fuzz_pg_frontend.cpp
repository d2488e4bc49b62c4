// Client → server bytes: an optional startup packet, then typed messages, each decoded as every frontend
// type.
#include "fuzz_support.hpp"

using namespace phigate;
using namespace phigate::pg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_span buf(reinterpret_cast<const std::byte*>(data), size);
  if (const auto s = split_startup_frame(buf)) {
    fuzz::check_startup(*s);
    buf = buf.subspan(s->whole.size());
  }
  fuzz::for_each_frame(buf, [](const frame& f) {
    fuzz::check_all<password_message, sasl_initial_response, sasl_response, query, parse, bind, describe,
                    pg::close, execute, copy_data, copy_fail>(f);
  });
  return 0;
}
