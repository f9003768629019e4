package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/parley-negotiation/parley/client/atomicfile"
)

// Profile is how to reach a server as one participant (or as the
// administrator): the address, the token and the transport settings, and
// the negotiation the token belongs to.
type Profile struct {
	Server      string `json:"server"`
	Token       string `json:"token"`
	Negotiation string `json:"negotiation,omitempty"`
	Participant string `json:"participant,omitempty"` // empty for the administrator
	Role        string `json:"role,omitempty"`        // delegation, mediator, observer or admin
	CAFile      string `json:"ca_file,omitempty"`
	CertFile    string `json:"cert_file,omitempty"`
	KeyFile     string `json:"key_file,omitempty"`
	ServerName  string `json:"server_name,omitempty"`
	TLS         bool   `json:"tls,omitempty"`       // TLS even to a loopback server
	Plaintext   bool   `json:"plaintext,omitempty"` // no TLS even to a remote server
	// VerifierKey is the server's checkpoint key, pinned at login; with it
	// every event read is checked against the server's signed checkpoints.
	VerifierKey string `json:"verifier_key,omitempty"`
}

// profileFile is the file holding every profile, and which one is used when
// none is named.
type profileFile struct {
	Current  string              `json:"current,omitempty"`
	Profiles map[string]*Profile `json:"profiles"`
}

// profilesPath returns where profiles live: $PARLEY_CONFIG, or
// parley/profiles.json in the user's configuration folder.
func profilesPath(getenv func(string) string) (string, error) {
	if p := getenv("PARLEY_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", configf("no folder for the profiles (%v): set PARLEY_CONFIG to a file path", err)
	}
	return filepath.Join(dir, "parley", "profiles.json"), nil
}

// loadProfiles reads the profile file; a missing file is an empty one. A
// file that others can read is refused: it holds bearer tokens.
func loadProfiles(path string) (*profileFile, error) {
	f := &profileFile{Profiles: map[string]*Profile{}}
	raw, err := readPrivateFile(path, "profile file", func(perm fs.FileMode) error {
		return configf("profile file %s can be read by others (mode %04o) and it holds tokens: run 'chmod 600 %s', and rotate the tokens if others may have read them", path, perm, path)
	})
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return f, nil
	}
	if err := json.Unmarshal(raw, f); err != nil {
		return nil, configf("profile file %s is not valid: %v", path, err)
	}
	if f.Profiles == nil {
		f.Profiles = map[string]*Profile{}
	}
	return f, nil
}

// save writes the file atomically with mode 0600, in a folder of mode 0700
// if it has to create it.
func (f *profileFile) save(path string) error {
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return configf("profile folder: %v", err)
	}
	if err := atomicfile.Write(path, append(raw, '\n')); err != nil {
		return configf("profile file: %v", err)
	}
	return nil
}

// names returns the profile names in order.
func (f *profileFile) names() []string {
	out := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// pick returns the profile to use: the one named, else the current one,
// else the only one. It returns "" and no error when there is none.
func (f *profileFile) pick(name, path string) (string, *Profile, error) {
	if name != "" {
		p, ok := f.Profiles[name]
		if !ok {
			if len(f.Profiles) == 0 {
				return "", nil, configf("no profile named %q: %s has none; %s", name, path, loginHint)
			}
			return "", nil, configf("no profile named %q in %s (there are: %s)", name, path, strings.Join(f.names(), ", "))
		}
		return name, p, nil
	}
	if p, ok := f.Profiles[f.Current]; ok {
		return f.Current, p, nil
	}
	switch len(f.Profiles) {
	case 0:
		return "", nil, nil
	case 1:
		n := f.names()[0]
		return n, f.Profiles[n], nil
	}
	return "", nil, configf("%d profiles and none chosen: pick one with --profile NAME, PARLEY_PROFILE=NAME or 'parley use NAME' (there are: %s)", len(f.Profiles), strings.Join(f.names(), ", "))
}

// validProfileName keeps names usable on a command line and in a file.
func validProfileName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\n/\\\"'") {
		return usagef("profile name %q: use 1 to 64 characters without spaces, quotes or slashes", name)
	}
	return nil
}

func (p *Profile) String() string {
	who := p.Participant
	if who == "" {
		who = "admin"
	}
	return fmt.Sprintf("%s on %s", who, p.Server)
}

// readPrivateFile reads a file that holds secrets: nil and no error if it is
// missing, and exposed's refusal if others may read it. label names the file
// in the other errors.
func readPrivateFile(path, label string, exposed func(perm fs.FileMode) error) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, configf("%s: %v", label, err)
	}
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, exposed(perm)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, configf("%s: %v", label, err)
	}
	return raw, nil
}
