# shellcheck shell=bash
# Running phigate in the background for the demo: config, start, readiness, stop.
# Requires common.sh, pg.sh and state.sh.

# phigate_verifier BIN PASSWORD: the SCRAM-SHA-256 verifier `phigate passwd` makes (password read on stdin).
phigate_verifier() {
  local bin="$1" password="$2" verifier
  verifier="$(printf '%s' "$password" | "$bin" passwd)" ||
    phigate_die "'$bin passwd' failed: this build cannot make password verifiers yet"
  [[ "$verifier" == SCRAM-SHA-256\$* ]] ||
    phigate_die "'$bin passwd' printed '$verifier', expected a SCRAM-SHA-256\$... verifier"
  printf '%s\n' "$verifier"
}

# phigate_write_config FILE BIN GATEWAY_PORT UPSTREAM_PORT CERT_DIR: the demo's gateway config. Expects the
# DEMO_<NAME>_PASSWORD variables (state_ensure_secrets).
phigate_write_config() {
  local file="$1" bin="$2" port="$3" upstream_port="$4" certs="$5" content
  # Built in full before anything is written, so a failure never leaves a half-written config behind.
  content="$(
    _phigate_config_head "$port" "$upstream_port" "$certs"
    _phigate_config_roles
    _phigate_config_users "$bin"
    printf 'policy_file: %s\n' "$(_yaml_quote "$PHIGATE_ROOT/scripts/demo-policy.yaml")"
    _phigate_config_masking
    _phigate_config_approvals "$(dirname "$file")"
    _phigate_config_audit "$(dirname "$file")"
    printf 'log: { level: info }\n'
  )"
  install -m 0600 /dev/null "$file"
  printf '%s\n' "$content" >"$file"
}

# A YAML double-quoted scalar (paths may hold spaces, colons or commas).
_yaml_quote() {
  local text="${1//\\/\\\\}"
  printf '"%s"' "${text//\"/\\\"}"
}

_phigate_config_head() {
  local port="$1" upstream_port="$2" certs="$3"
  cat <<YAML
# Written by scripts/demo start; edits are lost at the next start.
listen:
  postgres: 127.0.0.1:$port
workers: 0
tls: { cert_file: $(_yaml_quote "$certs/server.crt"), key_file: $(_yaml_quote "$certs/server.key"), required: false }
limits: { max_message_bytes: 67108864, startup_timeout_ms: 10000, idle_timeout_ms: 0 }
upstream: { host: 127.0.0.1, port: $upstream_port, tls: prefer, ca_file: $(_yaml_quote "$certs/ca.crt") }
YAML
}

# Everyone sees masked PHI except the dba group; the pseudonym key comes from secrets.env. Three patient
# columns are masked whole by column rules, resolved to table OIDs through the phigate_meta role.
_phigate_config_masking() {
  cat <<YAML
masking:
  key_env: PHIGATE_MASKING_KEY
  key_id: demo-1
  default_transform: redact
  transforms: { SSN: partial, PHONE: partial, CREDIT_CARD: partial, EMAIL: pseudonym, PERSON: pseudonym,
                MRN: pseudonym, DATE: safe_harbor_date, ZIP: zip3 }
  unmasked_groups: [dba]
  columns:
    public.patients.ssn: partial
    public.patients.full_name: pseudonym
    public.patients.dob: safe_harbor_date
  derived_columns: mask
  whole_row: refuse
  metadata_role: phigate_meta
YAML
}

# Held statements wait in the state directory's store; approver1 and approver2 review them through the admin
# API (port chosen by the kernel, read back from the ready file) with tokens from secrets.env.
_phigate_config_approvals() {
  local state="$1" person var
  printf 'approvals: { store: %s }\n' "$(_yaml_quote "$state/approvals.db")"
  printf 'admin:\n  listen: 127.0.0.1:0\n  tokens:\n'
  for person in "${PHIGATE_DEMO_APPROVERS[@]}"; do
    var="$(phigate_person_token_var "$person")"
    printf '    - { identity: %s, token_sha256: %s }\n' "$person" \
      "$(printf '%s' "${!var}" | sha256sum | cut -d' ' -f1)"
  done
}

# Every decision goes to a hash-chained audit log in the state directory, with Ed25519 checkpoints signed by
# a key made once per demo (`phigate audit verify --config .demo/phigate.yaml` checks it).
_phigate_config_audit() {
  local state="$1"
  [[ -s "$state/audit-signing.pem" ]] ||
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$state/audit-signing.pem" 2>/dev/null) ||
    phigate_die "openssl could not make the audit signing key"
  cat <<YAML
audit:
  store: $(_yaml_quote "$state/audit.db")
  key_env: PHIGATE_AUDIT_KEY
  key_id: demo-1
  signing_key_file: $(_yaml_quote "$state/audit-signing.pem")
  checkpoint_interval_ms: 10000
YAML
}

_phigate_config_roles() {
  local role
  printf 'roles:\n'
  for role in "${PHIGATE_UPSTREAM_ROLES[@]}"; do
    printf '  %s: { user: %s, password_env: %s }\n' "$role" "$role" "$(pg_role_password_var "$role")"
  done
}

_phigate_config_users() {
  local bin="$1" person var verifier
  printf 'users:\n'
  for person in "${PHIGATE_DEMO_PEOPLE[@]}"; do
    var="$(phigate_person_password_var "$person")"
    verifier="$(phigate_verifier "$bin" "${!var}")"
    printf '  %s: { password: "%s", groups: [%s], role: %s }\n' \
      "$person" "$verifier" "${PHIGATE_DEMO_GROUPS[$person]}" "${PHIGATE_DEMO_ROLE[$person]}"
  done
}

# phigate_running STATE_DIR: true while the phigate recorded in STATE_DIR/phigate.pid is alive.
phigate_running() {
  local state="$1" pid
  pid="$(cat "$state/phigate.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # The pid must still be our gateway (its command line names this state's ready file), not a later process
  # that got the same number.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--ready-file $state/phigate.ready"
}

# phigate_start STATE_DIR BIN: starts `phigate serve` in the background with STATE_DIR/phigate.yaml, passes the
# upstream role passwords through the environment and waits until it is listening.
phigate_start() {
  local state="$1" bin="$2" pid
  if phigate_running "$state"; then
    phigate_info "phigate: already running (pid $(cat "$state/phigate.pid"))"
    return 0
  fi
  rm -f "$state/phigate.ready"
  _phigate_export_role_passwords
  # `check` reports every config problem with file:line:column before anything goes to the background.
  "$bin" check --config "$state/phigate.yaml" >/dev/null || phigate_die "phigate check rejected $state/phigate.yaml"
  phigate_info "phigate: starting (log: $state/phigate.log)"
  nohup "$bin" serve --config "$state/phigate.yaml" --ready-file "$state/phigate.ready" \
    >>"$state/phigate.log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$state/phigate.pid"
  _phigate_wait_ready "$state" "$pid"
}

_phigate_export_role_passwords() {
  local role var
  for role in "${PHIGATE_UPSTREAM_ROLES[@]}"; do
    var="$(pg_role_password_var "$role")"
    export "${var?}"
  done
}

_phigate_wait_ready() {
  local state="$1" pid="$2" i
  for ((i = 0; i < 300; i++)); do
    if [[ -s "$state/phigate.ready" ]]; then
      phigate_info "phigate: ready on port $(phigate_ready_port "$state")"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$state/phigate.log" >&2 || true
      rm -f "$state/phigate.pid"
      phigate_die "phigate exited before it was ready; see $state/phigate.log"
    fi
    sleep 0.1
  done
  phigate_die "phigate did not become ready within 30 s; see $state/phigate.log"
}

# phigate_ready_admin_port STATE_DIR: the admin API port from the ready file.
phigate_ready_admin_port() {
  "$PHIGATE_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin_port"])' \
    "$1/phigate.ready"
}

# The port phigate reports in its ready file ({"postgres_port": N}).
phigate_ready_port() {
  "$PHIGATE_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["postgres_port"])' \
    "$1/phigate.ready"
}

# phigate_stop STATE_DIR: SIGTERM, then SIGKILL after 10 s.
phigate_stop() {
  local state="$1" pid i
  if ! phigate_running "$state"; then
    [[ -f "$state/phigate.pid" ]] && phigate_info "phigate: already stopped"
    rm -f "$state/phigate.pid" "$state/phigate.ready"
    return 0
  fi
  pid="$(cat "$state/phigate.pid")"
  phigate_info "phigate: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    phigate_warn "phigate did not stop within 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/phigate.pid" "$state/phigate.ready"
}
