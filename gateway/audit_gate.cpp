#include "gateway/audit_gate.hpp"

#include "gateway/analysis_cache.hpp"

namespace phigate {

decision audit_only_gate::decide(const session_identity& who, const statement_request& request) {
  if (!audit_->healthy()) return audit_->refuse_unavailable(who, request);
  // The built-in function catalog is enough to normalize and classify; the analysis cache keeps repeated
  // statements cheap.
  static const auto catalog_only = std::make_shared<const policy::policy_model>();
  const auto analysis = analysis_cache::for_this_thread().get(request.sql, catalog_only);
  return audit_->record_decision(who, request, analysis, nullptr, decision::allow());
}

}  // namespace phigate
