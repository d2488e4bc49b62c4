# shellcheck shell=bash
# A private PostgreSQL 15 cluster for the demo and the tests: TCP on 127.0.0.1 only (SCRAM, TLS offered), a unix
# socket for the superuser, nothing shared with a system cluster. Requires common.sh and certs.sh.
#
# Layout of a cluster directory DIR:
#   DIR/data           the data directory (owned by postgres)
#   DIR/run            the unix socket directory
#   DIR/postgres.log   the server log
# PostgreSQL refuses to run as root, so as root every server command runs as the postgres user. When postgres
# cannot reach DIR (a checkout under a private home directory) or the socket path would be too long, the
# cluster lives under /tmp instead and DIR/location names it.

PHIGATE_PG_BIN="${PHIGATE_PG_BIN:-/usr/lib/postgresql/15/bin}"

# Longest unix socket path the kernel accepts is 107 bytes; keep room for ".s.PGSQL.NNNNN".
_PG_MAX_SOCKET_DIR_CHARS=90

# pg_free_port [EXCLUDED_PORT...]: prints a TCP port on 127.0.0.1 that nothing listens on. With
# PHIGATE_PORT_RANGE=LOW-HIGH it picks from that range, otherwise the kernel chooses (bind to port 0).
# shellcheck disable=SC2120 # the excluded ports come from callers in other files
pg_free_port() {
  "$PHIGATE_PYTHON" - "${PHIGATE_PORT_RANGE:-}" "$@" <<'PY'
import socket, sys

port_range, excluded = sys.argv[1], {int(p) for p in sys.argv[2:]}

def is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
        return s.getsockname()[1]

if port_range:
    low, high = (int(p) for p in port_range.split("-"))
    candidates = range(low, high + 1)
else:
    candidates = [0] * 20
for candidate in candidates:
    port = is_free(candidate)
    if port is not None and port not in excluded:
        print(port)
        sys.exit(0)
sys.exit("no free TCP port on 127.0.0.1" + (f" in {port_range}" if port_range else ""))
PY
}

# pg_port_is_free PORT: true when nothing listens on 127.0.0.1:PORT.
pg_port_is_free() {
  # shellcheck disable=SC2119 # no excluded ports here
  PHIGATE_PORT_RANGE="$1-$1" pg_free_port >/dev/null 2>&1
}

# Runs a command as the owner of the cluster files: postgres when we are root, ourselves otherwise.
_pg_as_owner() {
  if phigate_is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Prints the directory that really holds the cluster for DIR (DIR itself, or a /tmp stand-in).
pg_home() {
  local dir="$1" fallback
  if [[ -s "$dir/location" ]]; then
    cat "$dir/location"
    return 0
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if _pg_dir_usable "$dir"; then
    printf '%s\n' "$dir"
    return 0
  fi
  fallback="/tmp/phigate-pg-$(printf '%s' "$dir" | sha256sum | cut -c1-12)"
  mkdir -p "$fallback"
  printf '%s\n' "$fallback" >"$dir/location"
  printf '%s\n' "$fallback"
}

_pg_dir_usable() {
  local dir="$1"
  ((${#dir} + 4 <= _PG_MAX_SOCKET_DIR_CHARS)) || return 1
  if phigate_is_root; then
    runuser -u postgres -- test -x "$dir"
  fi
}

pg_data_dir() {
  printf '%s/data\n' "$(pg_home "$1")"
}

pg_socket_dir() {
  printf '%s/run\n' "$(pg_home "$1")"
}

pg_cluster_running() {
  local data
  data="$(pg_data_dir "$1")"
  [[ -f "$data/PG_VERSION" ]] || return 1
  _pg_as_owner "$PHIGATE_PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1
}

# pg_cluster_start DIR PORT [CERT_DIR]: creates the cluster on first use and starts it on 127.0.0.1:PORT.
# CERT_DIR holds server.crt/server.key (made with phigate_make_certs; default DIR/certs). A running cluster
# is left alone.
pg_cluster_start() {
  local dir="$1" port="$2" certs="${3:-$1/certs}" home
  home="$(pg_home "$dir")"
  if pg_cluster_running "$dir"; then
    phigate_info "postgres: already running in $home (port $(_pg_running_port "$dir"))"
    return 0
  fi
  phigate_make_certs "$certs"
  mkdir -p "$home/run"
  phigate_is_root && chown postgres:postgres "$home" "$home/run"
  [[ -f "$home/data/PG_VERSION" ]] || _pg_initdb "$home"
  _pg_write_config "$home" "$port" "$certs"
  phigate_info "postgres: starting on 127.0.0.1:$port (log: $home/postgres.log)"
  if ! _pg_as_owner "$PHIGATE_PG_BIN/pg_ctl" start -D "$home/data" -l "$home/postgres.log" -w -t 60 \
    >/dev/null; then
    tail -n 20 "$home/postgres.log" >&2 || true
    phigate_die "postgres did not start; see $home/postgres.log"
  fi
}

_pg_running_port() {
  sed -n 4p "$(pg_data_dir "$1")/postmaster.pid" 2>/dev/null || true
}

_pg_initdb() {
  local home="$1"
  phigate_info "postgres: creating a cluster in $home/data"
  phigate_quiet _pg_as_owner "$PHIGATE_PG_BIN/initdb" -D "$home/data" -U postgres --encoding=UTF8 \
    --no-locale --auth-local=trust --auth-host=scram-sha-256 --no-instructions --no-sync
  printf "\ninclude_if_exists = 'phigate.conf'\n" | _pg_as_owner tee -a "$home/data/postgresql.conf" >/dev/null
}

# Rewritten at every start, so a new port or new certificates take effect.
_pg_write_config() {
  local home="$1" port="$2" certs="$3" data="$1/data"
  cat >"$data/phigate.conf" <<CONF
# Written by scripts/lib/pg.sh at every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$home/run'
max_connections = 200
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
synchronous_commit = off
CONF
  cat >"$data/pg_hba.conf" <<'HBA'
# Written by scripts/lib/pg.sh: the superuser through the unix socket only, everyone else over TCP with SCRAM.
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       postgres                trust
host    all       all       127.0.0.1/32  scram-sha-256
HBA
  install -m 0644 "$certs/server.crt" "$data/server.crt"
  install -m 0600 "$certs/server.key" "$data/server.key"
  if phigate_is_root; then
    chown postgres:postgres "$data/phigate.conf" "$data/pg_hba.conf" "$data/server.crt" "$data/server.key"
  fi
}

# pg_cluster_stop DIR: stops the cluster if it runs (fast shutdown: open sessions are ended).
pg_cluster_stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  if pg_cluster_running "$dir"; then
    phigate_info "postgres: stopping ($(pg_home "$dir"))"
    _pg_as_owner "$PHIGATE_PG_BIN/pg_ctl" stop -D "$(pg_data_dir "$dir")" -m fast -w -t 60 >/dev/null
  fi
}

# pg_cluster_destroy DIR: stops the cluster and removes it (and its /tmp stand-in, if any).
pg_cluster_destroy() {
  local dir="$1" home
  [[ -d "$dir" ]] || return 0
  pg_cluster_stop "$dir"
  home="$(pg_home "$dir")"
  [[ "$home" != "$(cd "$dir" && pwd)" ]] && rm -rf "$home"
  rm -rf "$dir"
}

# pg_psql_super DIR PORT [psql args...]: psql as the postgres superuser through the unix socket.
pg_psql_super() {
  local dir="$1" port="$2"
  shift 2
  "$PHIGATE_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_socket_dir "$dir")" -p "$port" -U postgres "$@"
}

# The upstream roles and the environment variables holding their passwords (the same names the gateway
# reads through password_env).
PHIGATE_UPSTREAM_ROLES=(clinical_reader app_writer clinic_owner phigate_meta)

# PHIGATE_ROLE_<ROLE> for a role name.
pg_role_password_var() {
  printf 'PHIGATE_ROLE_%s\n' "${1^^}"
}

# pg_load_clinic DIR PORT [PATIENTS]: creates the clinic database, its roles (passwords from the
# PHIGATE_ROLE_<ROLE> variables) and PATIENTS generated patients (default 10000). Safe to run again: roles get
# their current passwords, existing data is kept.
pg_load_clinic() {
  local dir="$1" port="$2" patients="${3:-10000}" vars role var rc=0
  [[ "$patients" =~ ^[0-9]+$ ]] || phigate_die "pg_load_clinic: PATIENTS must be a number, got '$patients'"
  vars="$(mktemp)"
  chmod 0600 "$vars"
  printf '\\set patients %s\n' "$patients" >"$vars"
  for role in "${PHIGATE_UPSTREAM_ROLES[@]}"; do
    var="$(pg_role_password_var "$role")"
    [[ -n "${!var:-}" ]] || { rm -f "$vars"; phigate_die "pg_load_clinic: $var is not set"; }
    printf "\\\\set %s_password '%s'\n" "$role" "${!var}" >>"$vars"
  done
  phigate_info "clinic: loading roles and data (patients: $patients)"
  # Passwords go through a private file rather than argv, where any local user could read them.
  pg_psql_super "$dir" "$port" -d postgres -f "$vars" -f "$PHIGATE_ROOT/scripts/sql/clinic.sql" || rc=$?
  rm -f "$vars"
  return "$rc"
}
