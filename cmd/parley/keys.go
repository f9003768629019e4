package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	"github.com/parley-negotiation/parley/client/atomicfile"
)

// A member's signing key lives beside the profiles, in keys/PROFILE.ed25519
// (mode 0600), or in the file $PARLEY_SIGNING_KEY_FILE names. The file holds
// the 32-byte Ed25519 seed in hex on its first line. Beside it,
// PROFILE.ed25519.ids lists the id of every key this machine generated for
// the profile, so that 'parley verify' can tell a key registered in the
// member's name by somebody else.

// keyPath returns where the signing key of the profile in use lives.
func (a *app) keyPath(profile string) (string, error) {
	if f := a.Getenv("PARLEY_SIGNING_KEY_FILE"); f != "" {
		return f, nil
	}
	if profile == "" {
		return "", configf("no profile to keep a signing key beside: log in with a profile, or set PARLEY_SIGNING_KEY_FILE to the key's file")
	}
	path, err := profilesPath(a.Getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "keys", profile+".ed25519"), nil
}

// loadKey reads a signing key; a missing file gives nil and no error.
func loadKey(path string) (ed25519.PrivateKey, error) {
	raw, err := readPrivateFile(path, "signing key", func(perm fs.FileMode) error {
		return configf("signing key %s can be read by others (mode %04o): run 'chmod 600 %s', and rotate the key ('parley key rotate') if others may have read it", path, perm, path)
	})
	if raw == nil || err != nil {
		return nil, err
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	seed, err := hex.DecodeString(strings.TrimSpace(line))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, configf("signing key %s is not a %d-byte Ed25519 seed in hex", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// saveKey writes a signing key with mode 0600, and notes its id as one this
// machine holds.
func saveKey(path string, key ed25519.PrivateKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return configf("key folder: %v", err)
	}
	if err := atomicfile.Write(path, []byte(hex.EncodeToString(key.Seed())+"\n")); err != nil {
		return configf("signing key: %v", err)
	}
	ids, err := knownKeyIDs(path)
	if err != nil {
		return err
	}
	id := (&client.Signer{Key: key}).KeyID()
	for _, known := range ids {
		if known == id {
			return nil
		}
	}
	return atomicfile.Write(path+".ids", []byte(strings.Join(append(ids, id), "\n")+"\n"))
}

// knownKeyIDs lists the ids of the keys this machine generated for a key
// file.
func knownKeyIDs(path string) ([]string, error) {
	raw, err := os.ReadFile(path + ".ids")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, configf("key ids: %v", err)
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func newKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	return key, err
}

// signer returns the signer of the profile in use, or nil if it has no key.
func (a *app) signer(profile string) (*client.Signer, error) {
	path, err := a.keyPath(profile)
	if err != nil {
		if a.Getenv("PARLEY_SIGNING_KEY_FILE") == "" && profile == "" {
			return nil, nil // no profile, no key: nothing is signed
		}
		return nil, err
	}
	key, err := loadKey(path)
	if err != nil || key == nil {
		return nil, err
	}
	return &client.Signer{Key: key}, nil
}

type keyInfo struct {
	KeyID    string `json:"keyId"`
	File     string `json:"file"`
	Sequence int64  `json:"sequence,omitempty,string"`
	Action   string `json:"action"`
}

// withOwnKey returns what a command acting with this profile's own signing
// key needs: the client, the key file's path and the negotiation. Without a
// key it refuses with missing, a format given the path.
func (a *app) withOwnKey(ctx context.Context, missing string) (cl *client.Client, path, negotiation string, err error) {
	if cl, err = a.client(); err != nil {
		return nil, "", "", err
	}
	if path, err = a.keyPath(a.connName); err != nil {
		return nil, "", "", err
	}
	if a.signerInUse == nil {
		return nil, "", "", configf(missing, path)
	}
	if negotiation, err = a.negotiationName(ctx); err != nil {
		return nil, "", "", err
	}
	return cl, path, negotiation, nil
}

func (a *app) keyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Generate, register, rotate or revoke your signing key",
		Long: `Your signing key makes your votes, sign-offs and acceptances yours: each carries your
Ed25519 signature over what you consent to and the checkpoint of the log you verified, which the
server cannot forge. The private key stays on this machine, in keys/PROFILE.ed25519 beside the
profiles (mode 0600), or in the file $PARLEY_SIGNING_KEY_FILE names. Once the key exists, vote,
sign-off and accept sign by default; register it first with 'parley key register'.

Compare your key id with the other delegations out of band: the log shows the key registered in
your name, and 'parley verify' fails if it is not one this machine generated.`,
	}
	show := func(info keyInfo) error {
		if a.json() {
			return printJSON(a.Stdout, info)
		}
		fmt.Fprintf(a.Stdout, "%s key %s\n  file %s\n", info.Action, info.KeyID, info.File)
		if info.Sequence > 0 {
			fmt.Fprintf(a.Stdout, "  event %d of the log\n", info.Sequence)
		}
		return nil
	}
	var force bool
	generate := &cobra.Command{
		Use:   "generate",
		Short: "Make a new signing key on this machine (it is not registered yet)",
		Args:  cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, _ []string) error {
			name, _, err := a.settings()
			if err != nil {
				return err
			}
			path, err := a.keyPath(name)
			if err != nil {
				return err
			}
			if old, err := loadKey(path); err != nil {
				return err
			} else if old != nil && !force {
				return configf("%s holds a key already: 'parley key rotate' replaces a registered key; --force overwrites the file", path)
			}
			key, err := newKey()
			if err != nil {
				return err
			}
			if err := saveKey(path, key); err != nil {
				return err
			}
			return show(keyInfo{KeyID: (&client.Signer{Key: key}).KeyID(), File: path, Action: "generated"})
		}),
	}
	generate.Flags().BoolVar(&force, "force", false, "overwrite an existing key file")
	register := &cobra.Command{
		Use:   "register",
		Short: "Register your signing key in the negotiation, with its proof of possession",
		Args:  cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, _ []string) error {
			cl, path, n, err := a.withOwnKey(ctx, "no signing key in %s: run 'parley key generate' first")
			if err != nil {
				return err
			}
			k, err := cl.RegisterKey(a.mutationContext(ctx, ""), n, nil)
			if err != nil {
				return err
			}
			return show(keyInfo{KeyID: k.GetKeyId(), File: path, Sequence: k.GetSequence(), Action: "registered"})
		}),
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Replace your registered key by a new one, signed by both",
		Args:  cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, _ []string) error {
			cl, path, n, err := a.withOwnKey(ctx, "no signing key in %s to rotate: run 'parley key generate' and 'parley key register'")
			if err != nil {
				return err
			}
			old := a.signerInUse
			key, err := newKey()
			if err != nil {
				return err
			}
			// The new key is on disk before it is registered, so that a
			// crash cannot leave a registered key nobody holds.
			if err := saveKey(path+".new", key); err != nil {
				return err
			}
			oldKey := &client.Signer{Key: old.Key}
			old.Key = key // the client's signer: its member is known already
			k, err := cl.RegisterKey(a.mutationContext(ctx, ""), n, oldKey)
			if err != nil {
				old.Key = oldKey.Key
				return err
			}
			if err := saveKey(path, key); err != nil {
				return err
			}
			os.Remove(path + ".new")
			os.Remove(path + ".new.ids")
			return show(keyInfo{KeyID: k.GetKeyId(), File: path, Sequence: k.GetSequence(), Action: "rotated to"})
		}),
	}
	var participant, member, keyID string
	revoke := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke your registered key (the administrator: --participant, --member, --key-id)",
		Args:  cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			n, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			if participant != "" {
				if keyID == "" {
					return usagef("--participant needs --key-id, the key to revoke")
				}
				if err := cl.RevokeKeyOf(a.mutationContext(ctx, ""), n, participant, member, keyID); err != nil {
					return err
				}
				return show(keyInfo{KeyID: keyID, Action: "revoked"})
			}
			path, err := a.keyPath(a.connName)
			if err != nil {
				return err
			}
			if a.signerInUse == nil {
				return configf("no signing key in %s to revoke", path)
			}
			if err := cl.RevokeKey(a.mutationContext(ctx, ""), n); err != nil {
				return err
			}
			// The key signs nothing any more: put it aside.
			if err := os.Rename(path, path+".revoked"); err != nil {
				return configf("signing key: %v", err)
			}
			return show(keyInfo{KeyID: a.signerInUse.KeyID(), File: path + ".revoked", Action: "revoked"})
		}),
	}
	revoke.Flags().StringVar(&participant, "participant", "", "the administrator: the participant whose member's key to revoke")
	revoke.Flags().StringVar(&member, "member", "", "the administrator: the member (default: the participant's default member)")
	revoke.Flags().StringVar(&keyID, "key-id", "", "the administrator: the key id to revoke")
	cmd.AddCommand(generate, register, rotate, revoke)
	return cmd
}
