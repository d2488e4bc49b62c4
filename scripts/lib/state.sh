# shellcheck shell=bash
# A state directory (.demo or .test) keeps what must survive a restart: generated passwords and chosen ports.
# Both files are KEY=VALUE lines with plain values (hex passwords, numbers); state_load reads them without
# evaluating anything.
# Requires common.sh and pg.sh.

# The people of the demo: name → upstream role key and phigate groups (read by gateway.sh).
# shellcheck disable=SC2034
declare -gA PHIGATE_DEMO_ROLE=(
  [analyst]=clinical_reader [engineer]=app_writer [dba]=clinic_owner
  [approver1]=clinical_reader [approver2]=clinical_reader
)
# shellcheck disable=SC2034
declare -gA PHIGATE_DEMO_GROUPS=(
  [analyst]="clinical" [engineer]="engineering" [dba]="dba"
  [approver1]="approvers, dba-approvers, security" [approver2]="approvers, dba-approvers, security"
)
PHIGATE_DEMO_PEOPLE=(analyst engineer dba approver1 approver2)
# People with an admin API token (they review held statements).
PHIGATE_DEMO_APPROVERS=(approver1 approver2)

# DEMO_<NAME>_PASSWORD for a person.
phigate_person_password_var() {
  printf 'DEMO_%s_PASSWORD\n' "${1^^}"
}

# DEMO_<NAME>_TOKEN: the admin API bearer token of an approver.
phigate_person_token_var() {
  printf 'DEMO_%s_TOKEN\n' "${1^^}"
}

# state_init DIR: creates the directory. It stays traversable (0755) because the postgres user must reach the
# cluster below it; the secrets inside are 0600.
state_init() {
  mkdir -p "$1"
  chmod 0755 "$1"
}

# state_ensure_secrets DIR: generates any missing password (every upstream role, every demo person) into
# DIR/secrets.env, then exports them all.
state_ensure_secrets() {
  local file="$1/secrets.env" var
  touch "$file"
  chmod 0600 "$file"
  for var in $(_state_secret_vars); do
    if ! grep -q "^$var=" "$file"; then
      printf '%s=%s\n' "$var" "$(phigate_random_password)" >>"$file"
    fi
  done
  state_load "$file"
}

_state_secret_vars() {
  local role person
  for role in "${PHIGATE_UPSTREAM_ROLES[@]}"; do pg_role_password_var "$role"; done
  for person in "${PHIGATE_DEMO_PEOPLE[@]}"; do phigate_person_password_var "$person"; done
  for person in "${PHIGATE_DEMO_APPROVERS[@]}"; do phigate_person_token_var "$person"; done
  echo PHIGATE_MASKING_KEY
  echo PHIGATE_AUDIT_KEY
}

# state_load FILE: exports every KEY=VALUE line of FILE.
state_load() {
  local key value
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    export "$key=$value"
  done <"$1"
}

# state_set FILE KEY VALUE: sets one KEY=VALUE line in FILE.
state_set() {
  local file="$1" key="$2" value="$3"
  touch "$file"
  sed -i "/^$key=/d" "$file"
  printf '%s=%s\n' "$key" "$value" >>"$file"
}
