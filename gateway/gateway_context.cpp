#include "gateway/gateway_context.hpp"

#include <malloc.h>

#include <algorithm>
#include <stdexcept>

#include "gateway/audit_gate.hpp"
#include "gateway/config_helpers.hpp"
#include "gateway/pg_masking_rewriter.hpp"
#include "gateway/policy_gate.hpp"

#include "protocol/postgres/auth.hpp"

namespace phigate {

namespace ssl = boost::asio::ssl;

namespace {

std::shared_ptr<ssl::context> make_client_tls(const client_tls_config& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) throw std::runtime_error("tls.cert_file " + tls.cert_file + ": " + ec.message());
  ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("tls.key_file " + tls.key_file + ": " + ec.message());
  return ctx;
}

std::shared_ptr<ssl::context> make_upstream_tls(const upstream_config& up) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (up.tls == upstream_tls_mode::verify_full) {
    boost::system::error_code ec;
    ctx->load_verify_file(up.ca_file, ec);
    if (ec) throw std::runtime_error("upstream.ca_file " + up.ca_file + ": " + ec.message());
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  } else {
    ctx->set_verify_mode(ssl::verify_none);  // require / prefer: encryption without authentication, as libpq
  }
  return ctx;
}

std::shared_ptr<const masking::cell_masker> make_masker(const std::shared_ptr<const gateway_config>& config) {
  if (!config->masking || !config->masking->enabled) return nullptr;
  auto compiled = masking::detector_set::compile(masking::detector_config{});
  if (!compiled.set) throw std::runtime_error("masking detectors: " + compiled.error);
  // Compiling allocates far more than the compiled set keeps; hand the rest back to the system so the
  // gateway's resident size is what it uses.
  malloc_trim(0);
  // The rules live inside the config; the aliasing pointer keeps the whole config alive with them.
  std::shared_ptr<const masking::masking_rules> rules(config, &config->masking->rules);
  return std::make_shared<const masking::cell_masker>(std::move(compiled.set), std::move(rules));
}

std::shared_ptr<column_catalog> make_catalog(const gateway_config& config) {
  if (!config.masking || !config.masking->enabled || config.masking->columns.empty() ||
      config.masking->metadata_role.empty())
    return nullptr;
  const role_config& role = config.roles.at(config.masking->metadata_role);
  column_catalog::connection_settings settings{config.upstream.host,
                                               config.upstream.port,
                                               role.user,
                                               role.password,
                                               std::string(config_detail::to_string(config.upstream.tls)),
                                               config.upstream.ca_file};
  return std::make_shared<column_catalog>(config.masking->columns, std::move(settings),
                                          config.masking->metadata_refresh);
}

// True when masking applies to this person: it is on and they are in none of the unmasked groups.
bool masked_for(const gateway_snapshot& snap, const session_identity& who) {
  if (!snap.masker) return false;
  const auto& unmasked = snap.config->masking->unmasked_groups;
  return std::none_of(who.groups.begin(), who.groups.end(), [&](const std::string& group) {
    return std::find(unmasked.begin(), unmasked.end(), group) != unmasked.end();
  });
}

}  // namespace

gateway_snapshot make_snapshot(std::shared_ptr<const gateway_config> config) {
  gateway_snapshot s;
  if (config->tls) s.client_tls = make_client_tls(*config->tls);
  if (config->upstream.tls != upstream_tls_mode::disable)
    s.upstream_tls = make_upstream_tls(config->upstream);
  s.masker = make_masker(config);
  s.catalog = make_catalog(*config);
  s.policy = load_gateway_policy(*config);
  s.config = std::move(config);
  return s;
}

gateway_context::gateway_context(gateway_snapshot snapshot) : mock_secret_(pg::scram::random_bytes(32)) {
  const auto& config = snapshot.config;
  if (config && config->audit && config->audit->enabled)
    audit_ = std::make_shared<audit_recorder>(*config->audit);
  snapshot.audit = audit_;
  snapshot_ = std::make_shared<const gateway_snapshot>(std::move(snapshot));
}

std::shared_ptr<const gateway_snapshot> gateway_context::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void gateway_context::replace_snapshot(gateway_snapshot snapshot) {
  snapshot.audit = audit_;
  auto next = std::make_shared<const gateway_snapshot>(std::move(snapshot));
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(next);
}

std::unique_ptr<statement_gate> gateway_context::make_gate(const gateway_snapshot& snap,
                                                           const session_identity& who) {
  auto policy = snap.policy;
  if (!policy) {
    if (snap.audit) return std::make_unique<audit_only_gate>(snap.audit);
    return std::make_unique<allow_all_gate>();
  }
  std::shared_ptr<const masking_config> masking;
  if (masked_for(snap, who) && !snap.config->masking->columns.empty())
    masking = std::shared_ptr<const masking_config>(snap.config, &*snap.config->masking);
  return std::make_unique<policy_gate>(std::move(policy), who, snap.audit, std::move(masking), snap.catalog);
}

std::unique_ptr<row_rewriter> gateway_context::make_rewriter(const gateway_snapshot& snap,
                                                             const session_identity& who) {
  if (!masked_for(snap, who)) return std::make_unique<identity_rewriter>();
  std::shared_ptr<const masking_config> masking(snap.config, &*snap.config->masking);
  return std::make_unique<pg_masking_rewriter>(snap.masker, std::move(masking), snap.catalog, who.database);
}

}  // namespace phigate
