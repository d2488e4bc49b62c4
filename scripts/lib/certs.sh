# shellcheck shell=bash
# A throwaway certificate authority and a localhost server certificate for the demo and the tests.
# Requires common.sh.

# phigate_make_certs DIR: writes ca.crt/ca.key and server.crt/server.key (SAN DNS:localhost, IP:127.0.0.1)
# into DIR. Files that already exist are kept, so clients that trust ca.crt keep working across runs.
phigate_make_certs() {
  local dir="$1"
  mkdir -p "$dir"
  chmod 0755 "$dir"
  if [[ ! -s "$dir/ca.crt" || ! -s "$dir/ca.key" ]]; then
    phigate_info "certs: creating a throwaway CA in $dir"
    _phigate_make_ca "$dir"
    rm -f "$dir/server.crt" "$dir/server.key"
  fi
  if [[ ! -s "$dir/server.crt" || ! -s "$dir/server.key" ]]; then
    phigate_info "certs: creating the localhost server certificate in $dir"
    _phigate_make_server_cert "$dir"
  fi
}

_phigate_make_ca() {
  local dir="$1"
  (
    umask 077
    phigate_quiet openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=phigate throwaway CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$dir/ca.key" -out "$dir/ca.crt"
  )
  chmod 0644 "$dir/ca.crt"
}

_phigate_make_server_cert() {
  local dir="$1" ext
  ext="$(mktemp)"
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$ext"
  (
    umask 077
    phigate_quiet openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
      -keyout "$dir/server.key" -out "$dir/server.csr"
    phigate_quiet openssl x509 -req -sha256 -days 825 -in "$dir/server.csr" \
      -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
      -extfile "$ext" -out "$dir/server.crt"
  )
  rm -f "$ext" "$dir/server.csr" "$dir/ca.srl"
  chmod 0600 "$dir/server.key"
  chmod 0644 "$dir/server.crt"
}
