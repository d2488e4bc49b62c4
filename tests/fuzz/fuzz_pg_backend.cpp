// Server → client bytes: typed messages, each decoded as every backend type.
#include "fuzz_support.hpp"

using namespace phigate;
using namespace phigate::pg;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const byte_span buf(reinterpret_cast<const std::byte*>(data), size);
  fuzz::for_each_frame(buf, [](const frame& f) {
    fuzz::check_all<authentication, backend_key_data, parameter_status, ready_for_query, row_description,
                    data_row, command_complete, error_response, notification_response, copy_response,
                    parameter_description, negotiate_protocol_version, copy_data>(f);
  });
  return 0;
}
