package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"passd/audit"
	"passd/claims"
	"passd/db"
	"passd/keyring"
	"passd/migrations"
	"passd/referrals"
)

// errNoDataKey is the refusal of every command that reads or writes
// patient identity when no key is configured.
var errNoDataKey = errors.New("no data key: patient identity is encrypted at rest, so passd needs its keyring. " +
	"Set PASSD_DATA_KEY_FILE to a key file (passd keygen --out FILE makes one; make run keeps one in .data/data.key) " +
	"or PASSD_DATA_KEY to the keyring's text")

// keyring loads the keyring the configuration names.
func (c Config) keyring() (*keyring.Ring, error) {
	switch {
	case c.DataKey != "" && c.DataKeyFile != "":
		return nil, errors.New("both PASSD_DATA_KEY and PASSD_DATA_KEY_FILE are set; set one")
	case c.DataKey != "":
		r, err := keyring.Parse(c.DataKey)
		if err != nil {
			return nil, fmt.Errorf("PASSD_DATA_KEY: %w", err)
		}
		return r, nil
	case c.DataKeyFile != "":
		return keyring.Load(c.DataKeyFile)
	}
	return nil, errNoDataKey
}

// keygenCommand prints a new keyring, or writes it to a new file (0600,
// never over an existing one), or prints one new data key to add to a ring.
func keygenCommand(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	path := fs.String("out", "", "write the new keyring to this file (created 0600; an existing file is kept)")
	dataKey := fs.Bool("data-key", false, "print only one new data key (id=base64), to add to an existing ring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("usage: passd keygen [--out FILE | --data-key]")
	}
	now := time.Now()
	if *dataKey {
		if *path != "" {
			return fmt.Errorf("--data-key prints a key; --out writes a whole ring: give one")
		}
		_, entry, err := keyring.NewDataKey(now)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, entry)
		return err
	}
	text, err := keyring.Generate(now)
	if err != nil {
		return err
	}
	if *path == "" {
		_, err := io.WriteString(out, text)
		return err
	}
	if err := keyring.WriteNewFile(*path, text); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "wrote a new keyring to %s; back it up: without it, patient identity cannot be read\n", *path)
	return err
}

// sealPending encrypts the identity of files opened before identity was
// encrypted. Without a key it only refuses when there are such files.
func sealPending(ctx context.Context, cfg Config, logger *slog.Logger, pool *db.Pool, command string) error {
	ring, err := cfg.keyring()
	if errors.Is(err, errNoDataKey) {
		n, cerr := claims.PendingCount(ctx, pool)
		if cerr != nil {
			return cerr
		}
		if n > 0 {
			return fmt.Errorf("%d patient file(s) wait to be encrypted: %w", n, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	n, err := claims.NewStore(pool, ring, time.Now).SealPending(ctx, audit.Actor{Name: "passd " + command})
	if n > 0 {
		logger.Info("patient identity encrypted", "files", n, "key", ring.Current())
	}
	return err
}

// rotateKeyCommand re-encrypts every file under the ring's current key.
// With --new-key it first adds a fresh data key to the key file and makes
// it current.
func rotateKeyCommand(ctx context.Context, cfg Config, args []string, logger *slog.Logger, out io.Writer) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	cfg.Flags(fs)
	newKey := fs.Bool("new-key", false, "first add a fresh data key to the key file (PASSD_DATA_KEY_FILE) and make it current")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *newKey {
		if cfg.DataKeyFile == "" || cfg.DataKey != "" {
			return errors.New("--new-key adds a key to the file PASSD_DATA_KEY_FILE names; with PASSD_DATA_KEY, " +
				"add a key printed by `passd keygen --data-key` to the ring yourself, then run passd rotate-key")
		}
		id, err := keyring.AddKeyToFile(cfg.DataKeyFile, time.Now())
		if err != nil {
			return err
		}
		logger.Info("added a data key; it is now current", "key", id, "file", cfg.DataKeyFile)
	}
	ring, err := cfg.keyring()
	if err != nil {
		return err
	}
	// As the application's role, which row-level security holds: each
	// convention's files are re-encrypted in their convention.
	raw, err := db.OpenAs(ctx, cfg.DatabaseURL, cfg.sessionRole())
	if err != nil {
		return err
	}
	defer raw.Close()
	if current, err := migrations.Current(ctx, raw); err != nil {
		return err
	} else if !current {
		return errors.New("the database schema is behind this binary; run passd migrate first")
	}
	pools, err := conventionPools(ctx, db.NewPool(raw), "")
	if err != nil {
		return err
	}
	// Each convention's files, one convention after another, under the one
	// ring of the deployment.
	var total claims.Rotation
	for _, pool := range pools {
		rot, err := rotateConvention(ctx, pool, ring, logger)
		if err != nil {
			return fmt.Errorf("convention %d: %w", pool.Bound(), err)
		}
		total.Key = rot.Key
		total.Resealed += rot.Resealed
		total.Remaining += rot.Remaining
	}
	return reportRotation(out, total)
}

// rotateConvention re-encrypts one convention's files and cases.
func rotateConvention(ctx context.Context, pool *db.Pool, ring *keyring.Ring, logger *slog.Logger) (claims.Rotation, error) {
	store := claims.NewStore(pool, ring, time.Now)
	actor := audit.Actor{Name: "passd rotate-key"}
	if _, err := store.SealPending(ctx, actor); err != nil {
		return claims.Rotation{}, err
	}
	rot, err := store.RotateKeys(ctx, actor, func(done int) { logger.Info("re-encrypting", "files", done, "key", ring.Current()) })
	if err != nil {
		return rot, err
	}
	// The convention's cases seal their person's identity with the same ring.
	cases, casesLeft, err := referrals.NewStore(pool, ring, time.Now).RotateKeys(ctx, actor)
	if err != nil {
		return rot, err
	}
	logger.Info("re-encrypted the referrals' and alerts' identities", "cases", cases, "remaining", casesLeft, "key", ring.Current())
	rot.Remaining += casesLeft
	return rot, nil
}

// reportRotation prints what rotate-key did; files left under an older key
// are a failure to act on.
func reportRotation(out io.Writer, rot claims.Rotation) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"key": rot.Key, "reencrypted": rot.Resealed, "remaining": rot.Remaining}); err != nil {
		return err
	}
	if rot.Remaining > 0 {
		return fmt.Errorf("%d files are still under an older key (written meanwhile by a server that does not know the new key "+
			"yet): restart the servers with the new ring, then run passd rotate-key again", rot.Remaining)
	}
	return nil
}
