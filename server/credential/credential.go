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
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
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
	return HashEqual(Hash(presented), expectedHash)
}

// HashEqual compares the hash of a presented token with the hash of the
// expected one in constant time: for a caller that needs the hash anyway.
func HashEqual(presentedHash, expectedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(presentedHash), []byte(expectedHash)) == 1
}

// MinTokenBits is the least strength of a token an operator chooses (the
// administrator's): what guessing it would take.
const MinTokenBits = 128

// Bits estimates the strength of a token as the most its length and
// alphabet can hold: 4 bits a character of hex, 6 of base64, about 6.5 of
// any printable text. A token of random characters holds that much; a
// chosen word holds far less, which no count can see.
func Bits(token string) float64 {
	hex, b64 := true, true
	for _, r := range token {
		isHex := '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'
		isB64 := isHex || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || strings.ContainsRune("+/-_=", r)
		hex, b64 = hex && isHex, b64 && isB64
	}
	perChar := math.Log2(95)
	switch {
	case hex:
		perChar = 4
	case b64:
		perChar = 6
	}
	return float64(utf8.RuneCountInString(token)) * perChar
}

// CheckStrength refuses a token shorter than MinTokenBits.
func CheckStrength(token string) error {
	if bits := Bits(token); bits < MinTokenBits {
		return fmt.Errorf("the token is too short: %d characters hold at most %.0f bits, and at least %d are needed "+
			"(32 hex digits, 22 characters of base64; 'openssl rand -hex 32' makes one)", utf8.RuneCountInString(token), bits, MinTokenBits)
	}
	return nil
}

// Load reads a token from a file, as LoadOrCreate does, without creating
// it: a missing file is an error that wraps fs.ErrNotExist.
func Load(path string) (string, error) {
	token, _, err := LoadOrCreateSecret(path, "token file", func() (string, error) {
		return "", fmt.Errorf("token file %s: %w", path, fs.ErrNotExist)
	})
	return token, err
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
