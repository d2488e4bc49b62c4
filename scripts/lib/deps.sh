# shellcheck shell=bash
# Debian packages needed to build phigate, run the demo and run every test.
# Requires common.sh.

PHIGATE_PACKAGES=(
  cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libhyperscan-dev libre2-dev libpg-query-dev libpqxx-dev libsqlite3-dev libfmt-dev catch2 libssl-dev
  libncurses-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
  postgresql postgresql-contrib pgbouncer
  default-jdk-headless libpostgresql-jdbc-java
  python3 python3-pytest openssl tmux
)

# Prints the packages from PHIGATE_PACKAGES that are not installed, one per line (one dpkg-query for all).
phigate_missing_packages() {
  local -A installed=()
  local pkg status
  while read -r pkg status; do
    [[ "$status" == "install ok installed" ]] && installed[$pkg]=1
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PHIGATE_PACKAGES[@]}" 2>/dev/null || true)
  for pkg in "${PHIGATE_PACKAGES[@]}"; do
    [[ -n "${installed[$pkg]:-}" ]] || printf '%s\n' "$pkg"
  done
}

# Installs whatever is missing. A machine that has everything does no apt work at all.
phigate_ensure_packages() {
  command -v dpkg-query >/dev/null 2>&1 || phigate_die "dpkg-query not found: these scripts expect Debian 12"
  local missing=()
  mapfile -t missing < <(phigate_missing_packages)
  if ((${#missing[@]} == 0)); then
    phigate_info "packages: all ${#PHIGATE_PACKAGES[@]} present"
    return 0
  fi
  phigate_info "packages: installing ${missing[*]}"
  phigate_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  phigate_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q "${missing[@]}"
}
