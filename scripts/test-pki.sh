#!/usr/bin/env bash
# Generates (or reuses) the emulator's test PKI: a CA and a server
# certificate for 127.0.0.1 and localhost, ECDSA P-256, plus an unrelated
# CA and server certificate for verification-failure tests. TEST ONLY: the
# keys are written in the clear and marked so in every file.
#
#   scripts/test-pki.sh [DIR]        (default: target/test-pki)
#
# Then: lastline-emulator --tls-cert DIR/server.pem --tls-key DIR/server.key
# and pin DIR/ca.pem (or DIR/ca.der in firmware).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/test-pki}"
if [[ -f "$dir/ca.pem" && -f "$dir/server.pem" && -f "$dir/server.key" && -f "$dir/wrong-server.pem" ]]; then
    echo "test PKI: reusing $dir"
else
    cargo run -q -p lastline-emulator -- --write-test-pki "$dir"
fi
# An independent check of the chain and its names.
if command -v openssl >/dev/null; then
    openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null
    openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1'
    openssl x509 -in "$dir/server.pem" -noout -text | grep -q 'ecdsa-with-SHA256'
    if openssl verify -CAfile "$dir/ca.pem" "$dir/wrong-server.pem" >/dev/null 2>&1; then
        echo "test PKI: the untrusted certificate verified against the CA" >&2
        exit 1
    fi
    echo "test PKI: $dir verified by openssl"
fi
