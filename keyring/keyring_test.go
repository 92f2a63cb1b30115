package keyring_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"passd/keyring"
)

var day = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

func generate(t *testing.T) string {
	t.Helper()
	text, err := keyring.Generate(day)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func parse(t *testing.T, text string) *keyring.Ring {
	t.Helper()
	r, err := keyring.Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	return r
}

func key(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, keyring.KeySize))
}

func TestSealOpensWithTheSameRingAndPlaceOnly(t *testing.T) {
	t.Parallel()
	r := parse(t, generate(t))
	aad := []byte("passd.patients.last_name.42")
	sealed, err := r.Seal([]byte("Nguyễn-Garçon"), aad)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v1."+r.Current()+".") {
		t.Fatalf("sealed %q does not name its version and key %s", sealed, r.Current())
	}
	if strings.Contains(sealed, "Nguy") {
		t.Fatalf("sealed %q shows the plaintext", sealed)
	}
	got, err := r.Open(sealed, aad)
	if err != nil || string(got) != "Nguyễn-Garçon" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	again, _ := r.Seal([]byte("Nguyễn-Garçon"), aad)
	if again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if id, err := keyring.KeyOf(sealed); err != nil || id != r.Current() {
		t.Fatalf("KeyOf = %q, %v", id, err)
	}

	// Another column, another row: the value does not open.
	for _, other := range []string{"passd.patients.first_name.42", "passd.patients.last_name.43", ""} {
		if _, err := r.Open(sealed, []byte(other)); !errors.Is(err, keyring.ErrOpen) {
			t.Errorf("opened with associated data %q: %v, want ErrOpen", other, err)
		}
	}
	// Any altered byte of the body is caught.
	body := sealed[strings.LastIndex(sealed, ".")+1:]
	raw, _ := base64.RawURLEncoding.DecodeString(body)
	for i := range raw {
		tampered := bytes.Clone(raw)
		tampered[i] ^= 0x01
		s := "v1." + r.Current() + "." + base64.RawURLEncoding.EncodeToString(tampered)
		if _, err := r.Open(s, aad); !errors.Is(err, keyring.ErrOpen) {
			t.Fatalf("byte %d altered: %v, want ErrOpen", i, err)
		}
	}
	// A ring with other keys (even the same key id) does not open it.
	other := parse(t, "lookup="+key(1)+"\n"+r.Current()+"="+key(2))
	if _, err := other.Open(sealed, aad); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("opened with another key of the same id: %v", err)
	}
	stranger := parse(t, generate(t))
	if _, err := stranger.Open(sealed, aad); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("opened by a ring without the key: %v, want ErrUnknownKey", err)
	}
	for _, bad := range []string{"", "Diallo", "v2." + body, "v1.." + body, "v1.k1", "v1." + r.Current() + ".!!", "v1." + r.Current() + ".AAAA"} {
		if _, err := r.Open(bad, aad); !errors.Is(err, keyring.ErrMalformed) {
			t.Errorf("Open(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestRingTextForms(t *testing.T) {
	t.Parallel()
	// Newlines, commas or spaces; comments; the last data key is current
	// unless current= says otherwise.
	r := parse(t, "# a ring\nlookup="+key(1)+"\nold="+key(2)+"\nnew="+key(3)+"\n")
	if r.Current() != "new" || strings.Join(r.KeyIDs(), ",") != "old,new" {
		t.Fatalf("current %s of %v", r.Current(), r.KeyIDs())
	}
	r = parse(t, "lookup="+key(1)+", old="+key(2)+" new="+key(3)+",current=old")
	if r.Current() != "old" {
		t.Fatalf("current= names old, ring says %s", r.Current())
	}
	sealed, _ := r.Seal([]byte("x"), nil)
	if !strings.HasPrefix(sealed, "v1.old.") {
		t.Fatalf("sealed under %q, want old", sealed)
	}

	bad := map[string]string{
		"empty":                "",
		"no lookup":            "k1=" + key(2),
		"no data key":          "lookup=" + key(1),
		"short key":            "lookup=" + key(1) + "\nk1=" + base64.StdEncoding.EncodeToString([]byte("short")),
		"not base64":           "lookup=" + key(1) + "\nk1=%%%%",
		"no value":             "lookup=" + key(1) + "\nk1",
		"bad id":               "lookup=" + key(1) + "\nk.1=" + key(2),
		"duplicate id":         "lookup=" + key(1) + "\nk1=" + key(2) + "\nk1=" + key(3),
		"two lookups":          "lookup=" + key(1) + "\nlookup=" + key(4) + "\nk1=" + key(2),
		"unknown current":      "lookup=" + key(1) + "\nk1=" + key(2) + "\ncurrent=k9",
		"lookup is a data key": "lookup=" + key(1) + "\nk1=" + key(1),
	}
	for name, text := range bad {
		_, err := keyring.Parse(text)
		if err == nil {
			t.Errorf("%s: parsed", name)
			continue
		}
		// An error never prints key material.
		for _, b := range []byte{1, 2, 3, 4} {
			if strings.Contains(err.Error(), key(b)[:16]) {
				t.Errorf("%s: error %q shows key material", name, err)
			}
		}
	}
}

func TestHashIsKeyedAndKeptApartByDomain(t *testing.T) {
	t.Parallel()
	a := parse(t, "lookup="+key(1)+"\nk1="+key(2))
	rotated := parse(t, "lookup="+key(1)+"\nk1="+key(2)+"\nk2="+key(3))
	b := parse(t, "lookup="+key(4)+"\nk1="+key(2))
	nir := "290049935012309"
	h := a.Hash("nir", nir)
	if len(h) != 32 || !bytes.Equal(h, a.Hash("nir", nir)) {
		t.Fatalf("hash %x is not a stable 32-byte HMAC", h)
	}
	if !bytes.Equal(h, rotated.Hash("nir", nir)) {
		t.Fatal("a new data key changed the lookup hash")
	}
	if bytes.Equal(h, b.Hash("nir", nir)) || bytes.Equal(h, a.Hash("name", nir)) || bytes.Equal(h, a.Hash("nir", "190049935012309")) {
		t.Fatal("the hash does not depend on the key, the domain and the value")
	}
}

func TestKeyFilesAreNewOrGrowByOneCurrentKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.key")
	first := generate(t)
	if err := keyring.WriteNewFile(path, first); err != nil {
		t.Fatal(err)
	}
	if err := keyring.WriteNewFile(path, generate(t)); err == nil {
		t.Fatal("WriteNewFile replaced an existing key file")
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	r, err := keyring.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	old := r.Current()
	aad := []byte("a")
	sealedOld, _ := r.Seal([]byte("old"), aad)

	// Another process adds a key; this ring opens what it seals by reading
	// the file again, and seals under it from then on.
	id, err := keyring.AddKeyToFile(path, day.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if id == old {
		t.Fatal("the new key has the old key's id")
	}
	other, err := keyring.Load(path)
	if err != nil || other.Current() != id {
		t.Fatalf("after AddKeyToFile: current %s (%v), want %s", other.Current(), err, id)
	}
	sealedNew, _ := other.Seal([]byte("new"), aad)
	if got, err := r.Open(sealedNew, aad); err != nil || string(got) != "new" {
		t.Fatalf("the first ring opens the new key's value: %q, %v", got, err)
	}
	if r.Current() != id {
		t.Fatalf("after reading the file again the ring seals under %s, want %s", r.Current(), id)
	}
	if got, err := other.Open(sealedOld, aad); err != nil || string(got) != "old" {
		t.Fatalf("the old key stays in the ring: %q, %v", got, err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode after AddKeyToFile %v (%v), want 0600", info.Mode().Perm(), err)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), first[strings.Index(first, "lookup="):]) {
		t.Fatal("AddKeyToFile lost the keys the file held")
	}

	// A file whose lookup key changed is not taken: every lookup hash
	// would stop matching.
	if err := os.WriteFile(path, []byte("lookup="+key(9)+"\nzz="+key(8)), 0o600); err != nil {
		t.Fatal(err)
	}
	stranger := parse(t, "lookup="+key(9)+"\nzz="+key(8))
	sealedZZ, _ := stranger.Seal([]byte("zz"), aad)
	if _, err := r.Open(sealedZZ, aad); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("a ring took a file with another lookup key: %v", err)
	}
}
