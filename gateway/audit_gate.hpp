// The decide step of a gateway with an audit log but no policy file: every statement is allowed and
// recorded, and every statement is refused while the audit log cannot record (fail closed).
#pragma once

#include <memory>

#include "gateway/audit_recorder.hpp"
#include "gateway/seams.hpp"

namespace phigate {

class audit_only_gate final : public statement_gate {
 public:
  explicit audit_only_gate(std::shared_ptr<audit_recorder> audit) : audit_(std::move(audit)) {}

  decision decide(const session_identity& who, const statement_request& request) override;

 private:
  std::shared_ptr<audit_recorder> audit_;
};

}  // namespace phigate
