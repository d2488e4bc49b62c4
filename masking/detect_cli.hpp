// `phigate detect`: run the detector set over JSON Lines cells, for scoring and for trying a configuration.
#pragma once

#include <iosfwd>

#include "masking/detector_config.hpp"

namespace phigate::masking {

/// Reads one JSON object per line, {"column": "...", "text": "..."} ("column" optional), and writes one line
/// per input line: {"entities": [{"type": "SSN", "start": 4, "end": 15}, ...]}. Offsets count Unicode code
/// points of "text" (what Python and most JSON consumers index by), end exclusive. A line that is not such an
/// object yields {"entities": [], "error": "..."} so output lines stay aligned with input lines.
///
/// Returns 0 when every line was read, 1 when some line was malformed, 2 when the configuration does not
/// compile (the reason goes to `out` as {"error": "..."}).
int run_detect(std::istream& in, std::ostream& out, const detector_config& cfg);

}  // namespace phigate::masking
