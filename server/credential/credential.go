// Package credential makes and checks bearer tokens: random tokens, their
// hashes, and the administrator's token file.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Prefix starts every token Parley makes, so that a leaked token is easy to
// recognize in logs and scanners.
const Prefix = "prl_"

// NewToken returns a new token of 256 random bits and its hash.
func NewToken() (token, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err)) // crypto/rand does not fail on supported systems
	}
	token = Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, Hash(token)
}

// Hash returns the lowercase hex SHA-256 of a token: what the server stores.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal compares a presented token with the hash of the expected one in
// constant time.
func Equal(presented, expectedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(Hash(presented)), []byte(expectedHash)) == 1
}

// LoadOrCreate reads a token from a file, or, if the file does not exist,
// creates it with a new token and mode 0600. It refuses a file that others
// can read, and an empty one.
func LoadOrCreate(path string) (token string, created bool, err error) {
	return LoadOrCreateSecret(path, "token file", func() (string, error) {
		token, _ := NewToken()
		return token, nil
	})
}

// LoadOrCreateSecret reads a one-line secret from a file, or, if the file
// does not exist, creates it with the secret generate returns: with mode
// 0600, only if still absent, and synced before it is used. It refuses a
// file that others can read, and an empty one. what names the file in
// errors.
func LoadOrCreateSecret(path, what string, generate func() (string, error)) (secret string, created bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret, err := generate()
		if err != nil {
			return "", false, fmt.Errorf("make %s: %w", what, err)
		}
		return secret, true, createSecret(path, what, secret)
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", what, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", false, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", false, fmt.Errorf("%s %s has mode %v: others can read it; chmod 600 it", what, path, info.Mode().Perm())
	}
	secret = strings.TrimSpace(string(raw))
	if secret == "" {
		return "", false, fmt.Errorf("%s %s is empty", what, path)
	}
	return secret, false, nil
}

func createSecret(path, what, secret string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", what, err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
