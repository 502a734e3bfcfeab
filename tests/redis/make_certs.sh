#!/usr/bin/env bash
# Makes the certificates of the rediss:// tests in DIR with the openssl CLI
# (EC P-256 keys: fast to make), for scripts/test, the redis TLS tests and
# bench/redis-tls.sh:
#   ca.crt ca.key               the test CA
#   server.crt server.key       for localhost, 127.0.0.1 and ::1, by the CA
#   client.crt client.key       a client certificate (clientAuth), by the CA
#   other-ca.crt other-ca.key   an unrelated CA
#   other-client.crt .key       a client certificate by the unrelated CA
#   other-name.crt .key         a server certificate for other.example only, by the CA
#   expired.crt expired.key     for 127.0.0.1 and localhost, by the CA, expired
#                               yesterday (openssl x509 -days -1)
# Usage: make_certs.sh DIR
set -euo pipefail
dir=${1:?usage: make_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# ca NAME CN
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# leaf NAME CN ISSUER DAYS EXTENSIONS...
leaf() {
  local name=$1 cn=$2 issuer=$3 days=$4
  shift 4
  key "$name"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  printf '%s\n' "$@" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$issuer.crt" -CAkey "$issuer.key" -CAcreateserial \
    -out "$name.crt" -days "$days" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

ca ca "taskctl test CA"
ca other-ca "taskctl unrelated test CA"
server_ext=("basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth")
client_ext=("basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth")
leaf server localhost ca 3650 "${server_ext[@]}" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client "taskctl test client" ca 3650 "${client_ext[@]}"
leaf other-client "taskctl unrelated client" other-ca 3650 "${client_ext[@]}"
leaf other-name other.example ca 3650 "${server_ext[@]}" "subjectAltName=DNS:other.example"
leaf expired localhost ca -1 "${server_ext[@]}" "subjectAltName=DNS:localhost,IP:127.0.0.1"
rm -f ./*.srl
chmod 600 ./*.key
