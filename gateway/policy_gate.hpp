// The decide step backed by the policy file: every statement is analyzed (through the per-thread analysis
// cache), evaluated against the person, the database and the session's settings, and refused with SQLSTATE
// 42501 naming the rule when the policy does not allow it.
#pragma once

#include <memory>

#include "gateway/audit_recorder.hpp"
#include "gateway/column_catalog.hpp"
#include "gateway/config.hpp"
#include "gateway/seams.hpp"
#include "policy/evaluator.hpp"
#include "policy/session_facts.hpp"

namespace phigate {

/// One per session. Keeps the session's search_path and role as observed in the statements it allowed,
/// so unqualified names resolve as the server will resolve them.
class policy_gate final : public statement_gate {
 public:
  /// `audit` (null: audit off) records every verdict; while it cannot record, every statement is refused.
  /// `masking` (null: no column rules apply to this person) plans and refuses outputs that carry masked
  /// columns; `catalog` (may be null) is told when DDL passes, so it reads the column rules' OIDs again.
  policy_gate(std::shared_ptr<const policy::policy_model> policy, const session_identity& who,
              std::shared_ptr<audit_recorder> audit = nullptr,
              std::shared_ptr<const masking_config> masking = nullptr,
              std::shared_ptr<column_catalog> catalog = nullptr);

  decision decide(const session_identity& who, const statement_request& request) override;

  [[nodiscard]] const policy::session_facts& session() const noexcept { return session_; }

  /// The message a client sees for a refused statement (or a held one the gateway cannot hold).
  static std::string client_message(const policy::decision& d);

 private:
  std::shared_ptr<const hold_details> describe_hold(const policy::analysis& analysis,
                                                    const policy::decision& d) const;
  /// `out`, once the audit log has it (or the audit log's refusal when a durable record failed).
  decision recorded(const session_identity& who, const statement_request& request,
                    const std::shared_ptr<const policy::analysis>& analysis, const policy::decision& d,
                    decision out) const;
  /// The allow decision for `analysis`, or the refusal its masked outputs earn.
  decision allow(const session_identity& who, const statement_request& request,
                 const std::shared_ptr<const policy::analysis>& analysis, const policy::decision& d);

  std::shared_ptr<const policy::policy_model> policy_;
  policy::evaluator evaluator_;
  policy::identity_facts identity_;
  policy::session_facts session_;
  std::shared_ptr<audit_recorder> audit_;
  std::shared_ptr<const masking_config> masking_;
  std::shared_ptr<column_catalog> catalog_;
  std::string database_;
};

/// Loads the config's policy_file. Errors in the policy come back as a config_exception carrying the policy
/// file's own file:line:column, so `phigate check` prints them and a SIGHUP reload keeps the last good
/// snapshot. No policy_file: null, with a warning (every statement is allowed).
std::shared_ptr<const policy::policy_model> load_gateway_policy(const gateway_config& config);

}  // namespace phigate
