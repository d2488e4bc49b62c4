# shellcheck shell=bash
# Shared helpers for the phigate scripts: messages, the repository root, running as root or postgres.

# A failure inside $(...) stops the substitution too, instead of carrying on with a partial result.
shopt -s inherit_errexit

# The repository root, whatever the caller's working directory.
PHIGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PHIGATE_ROOT

# Python used by the helpers: Debian's, where apt installs python3-pytest (a user's pyenv may lack it).
PHIGATE_PYTHON="${PHIGATE_PYTHON:-/usr/bin/python3}"

if [[ -t 2 ]]; then
  _phigate_bold=$'\e[1m' _phigate_red=$'\e[31m' _phigate_yellow=$'\e[33m' _phigate_reset=$'\e[0m'
else
  _phigate_bold='' _phigate_red='' _phigate_yellow='' _phigate_reset=''
fi

phigate_info() {
  printf '%s==>%s %s\n' "$_phigate_bold" "$_phigate_reset" "$*" >&2
}

phigate_warn() {
  printf '%swarning:%s %s\n' "$_phigate_yellow" "$_phigate_reset" "$*" >&2
}

phigate_die() {
  printf '%serror:%s %s\n' "$_phigate_red" "$_phigate_reset" "$*" >&2
  exit 1
}

phigate_is_root() {
  [[ "$(id -u)" -eq 0 ]]
}

# Runs a command as root: directly when we are root, through sudo otherwise.
phigate_as_root() {
  if phigate_is_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    phigate_die "need root for: $* (run as root or install sudo)"
  fi
}

# A random password of 32 hex characters: no quoting trouble in YAML, URLs or shell.
phigate_random_password() {
  openssl rand -hex 16
}

# Waits up to SECONDS for FILE to exist and be non-empty. Returns 1 on timeout.
phigate_wait_for_file() {
  local file="$1" seconds="$2" i
  for ((i = 0; i < seconds * 10; i++)); do
    [[ -s "$file" ]] && return 0
    sleep 0.1
  done
  return 1
}

# Runs a command with its output captured; shows the output only if it fails (openssl, initdb chatter).
phigate_quiet() {
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if ((rc != 0)); then
    printf '%s\n' "$out" >&2
    phigate_warn "failed (exit $rc): $*"
  fi
  return "$rc"
}
