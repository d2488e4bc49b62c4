#include "masking/detector_config.hpp"

namespace phigate::masking {

std::vector<mrn_shape> default_mrn_shapes() {
  return {
      {R"((?i:MRN)[-:#]?[ ]?\d{6,10})", false},
      {R"(MR\d{6,8})", false},
      {R"([A-Z]\d{7,9})", true},
      {R"(\d{6,10})", true},
  };
}

}  // namespace phigate::masking
