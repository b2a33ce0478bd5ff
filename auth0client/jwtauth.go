package auth0client

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// Private key JWT client authentication (Auth0's private_key_jwt): instead
// of a shared secret, atoctl signs a short-lived assertion with the
// application's private key and Auth0 checks it against the public key
// registered for the application. go-auth0 builds and signs the assertion
// (iss=sub=client id, aud=https://{domain}/, a UUID jti, 2 minutes of
// lifetime); this file reads and checks the key before anything is sent,
// so a bad key file fails at start-up with a message that names the file
// and never shows its content.

// DefaultSigningAlg is the client assertion algorithm when none is set: the
// one Auth0 offers first for application credentials.
const DefaultSigningAlg = "RS256"

// minRSABits is the smallest RSA key Auth0 accepts for a credential.
const minRSABits = 2048

// signingAlgs are the assertion algorithms atoctl accepts: the RSA ones
// Auth0 and go-auth0 both support (atoctl reads RSA keys only).
var signingAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// parseSigningAlg checks an algorithm name (case-insensitive) and returns
// its canonical spelling; empty means DefaultSigningAlg.
func parseSigningAlg(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return DefaultSigningAlg, nil
	}
	for _, a := range signingAlgs {
		if s == a {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: client assertion signing algorithm %q is not supported: use one of %s",
		ErrConfig, Clean(s), strings.Join(signingAlgs, ", "))
}

// parseSigningKey reads an unencrypted RSA private key from PEM (PKCS #1
// "RSA PRIVATE KEY" or PKCS #8 "PRIVATE KEY") and returns it re-encoded as
// PKCS #8 PEM, the form go-auth0 is handed. source names where the key came
// from for error text ("client key file /path"); errors never quote the
// data, and x509's own error text is dropped in case a future version
// echoes input.
func parseSigningKey(data []byte, source string) (Secret, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return Secret{}, fmt.Errorf("%w: %s holds no PEM private key (want an unencrypted RSA key in PEM form)", ErrNoCredentials, source)
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return Secret{}, fmt.Errorf("%w: %s is encrypted: atoctl needs the unencrypted key (openssl pkey -in KEY -out PLAIN)", ErrNoCredentials, source)
		case "EC PRIVATE KEY":
			return Secret{}, fmt.Errorf("%w: %s is an EC key: atoctl signs client assertions with RSA keys only", ErrNoCredentials, source)
		case "RSA PRIVATE KEY", "PRIVATE KEY":
			if _, ok := block.Headers["Proc-Type"]; ok {
				return Secret{}, fmt.Errorf("%w: %s is encrypted: atoctl needs the unencrypted key (openssl pkey -in KEY -out PLAIN)", ErrNoCredentials, source)
			}
			return rsaKeyPEM(block, source)
		}
		// Certificates, public keys, parameters: look further.
	}
}

func rsaKeyPEM(block *pem.Block, source string) (Secret, error) {
	var key *rsa.PrivateKey
	if block.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return Secret{}, fmt.Errorf("%w: %s: not a valid PKCS #1 RSA private key", ErrNoCredentials, source)
		}
		key = k
	} else {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return Secret{}, fmt.Errorf("%w: %s: not a valid PKCS #8 private key", ErrNoCredentials, source)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return Secret{}, fmt.Errorf("%w: %s is a %T key: atoctl signs client assertions with RSA keys only", ErrNoCredentials, source, k)
		}
		key = rk
	}
	if err := key.Validate(); err != nil {
		return Secret{}, fmt.Errorf("%w: %s: RSA private key fails its consistency check", ErrNoCredentials, source)
	}
	if bits := key.N.BitLen(); bits < minRSABits {
		return Secret{}, fmt.Errorf("%w: %s: RSA key of %d bits is too short: Auth0 needs at least %d", ErrNoCredentials, source, bits, minRSABits)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Secret{}, fmt.Errorf("%w: %s: cannot re-encode the RSA key", ErrNoCredentials, source)
	}
	return NewSecret(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))), nil
}
