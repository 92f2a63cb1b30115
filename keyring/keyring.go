package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeySize is the size of every key: AES-256 and HMAC-SHA-256 take 32 bytes.
const KeySize = 32

// sealVersion prefixes every sealed value; a new layout gets a new version.
const sealVersion = "v1"

const nonceSize = 12

// Errors a caller may want to tell apart.
var (
	// ErrUnknownKey: the value was sealed under a key the ring does not hold.
	ErrUnknownKey = errors.New("keyring: sealed under a key this ring does not hold")
	// ErrOpen: the value was altered, moved to another place (associated
	// data), or sealed under a different key with the same id.
	ErrOpen = errors.New("keyring: the sealed value does not authenticate (altered, moved, or wrong key)")
	// ErrMalformed: the text is not a sealed value.
	ErrMalformed = errors.New("keyring: not a sealed value")
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// entries reserved for something else than a data key.
const (
	lookupEntry  = "lookup"
	currentEntry = "current"
)

// state is one parsed ring; a Ring swaps it whole when its file is re-read.
type state struct {
	keys    map[string]cipher.AEAD
	ids     []string // data key ids in the order listed
	current string
	lookup  []byte
}

// Ring is a set of keys. It is safe for concurrent use.
type Ring struct {
	state atomic.Pointer[state]
	// path is the key file a ring was loaded from, re-read when a sealed
	// value names a key the ring does not hold yet (another process rotated
	// the keys); "" for a ring parsed from text.
	path     string
	reloadMu sync.Mutex
}

// Parse reads a ring from its text form.
func Parse(text string) (*Ring, error) {
	st, err := parse(text)
	if err != nil {
		return nil, err
	}
	r := &Ring{}
	r.state.Store(st)
	return r, nil
}

// Load reads a ring from a key file. When the ring later meets a value
// sealed under a key it does not hold, it reads the file again, so a
// server picks up the key `passd rotate-key --new-key` added while it ran.
func Load(path string) (*Ring, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	st, err := parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	r := &Ring{path: path}
	r.state.Store(st)
	return r, nil
}

func parse(text string) (*state, error) {
	st := &state{keys: map[string]cipher.AEAD{}}
	current := ""
	var material [][]byte
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			name, value, ok := strings.Cut(entry, "=")
			if !ok {
				return nil, fmt.Errorf("keyring: entry %q is not name=value", redact(entry))
			}
			if name == currentEntry {
				if current != "" {
					return nil, errors.New("keyring: current is given twice")
				}
				current = value
				continue
			}
			key, err := base64.StdEncoding.DecodeString(value)
			if err != nil || len(key) != KeySize {
				return nil, fmt.Errorf("keyring: key %q must be %d bytes in standard base64", name, KeySize)
			}
			if name == lookupEntry {
				if st.lookup != nil {
					return nil, errors.New("keyring: lookup is given twice")
				}
				st.lookup = key
				continue
			}
			if !keyIDPattern.MatchString(name) {
				return nil, fmt.Errorf("keyring: key id %q must be 1 to 32 of A-Z a-z 0-9 _ -", redact(name))
			}
			if _, dup := st.keys[name]; dup {
				return nil, fmt.Errorf("keyring: key id %q is given twice", name)
			}
			aead, err := newAEAD(key)
			if err != nil {
				return nil, err
			}
			st.keys[name] = aead
			st.ids = append(st.ids, name)
			material = append(material, key)
		}
	}
	if st.lookup == nil {
		return nil, errors.New("keyring: no lookup key (lookup=...)")
	}
	if len(st.ids) == 0 {
		return nil, errors.New("keyring: no data key (id=...)")
	}
	st.current = st.ids[len(st.ids)-1]
	if current != "" {
		if _, ok := st.keys[current]; !ok {
			return nil, fmt.Errorf("keyring: current names %q, which is not a data key of the ring", redact(current))
		}
		st.current = current
	}
	// One key for two purposes would tie the lookup hashes to a data key
	// that rotation is meant to retire.
	for i, key := range material {
		if bytes.Equal(key, st.lookup) {
			return nil, fmt.Errorf("keyring: data key %q is the lookup key; they must differ", st.ids[i])
		}
	}
	return st, nil
}

// redact keeps a malformed entry recognisable in an error without printing
// key material: anything long is cut.
func redact(s string) string {
	if len(s) > 32 {
		return s[:8] + "…"
	}
	return s
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return aead, nil
}

// Current is the id of the key new values are sealed under.
func (r *Ring) Current() string { return r.state.Load().current }

// KeyIDs lists the ring's data key ids in the order they are listed.
func (r *Ring) KeyIDs() []string { return slices.Clone(r.state.Load().ids) }

// Seal encrypts plaintext under the current key, bound to aad.
func (r *Ring) Seal(plaintext, aad []byte) (string, error) { return r.Sealer().Seal(plaintext, aad) }

// Sealer seals under one key: the ring's current key when it was taken,
// even if the ring reads its file again meanwhile. Values that must name
// the same key (the columns of one row) are sealed with one Sealer.
type Sealer struct {
	id   string
	aead cipher.AEAD
}

// Sealer returns a sealer of the current key.
func (r *Ring) Sealer() Sealer {
	st := r.state.Load()
	return Sealer{id: st.current, aead: st.keys[st.current]}
}

// Key is the id of the key the sealer seals under.
func (s Sealer) Key() string { return s.id }

// Seal encrypts plaintext under the sealer's key, bound to aad.
func (s Sealer) Seal(plaintext, aad []byte) (string, error) {
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("keyring: nonce: %w", err)
	}
	sealed := s.aead.Seal(nonce, nonce, plaintext, aad)
	return sealVersion + "." + s.id + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open decrypts a sealed value with the key it names, checking aad.
func (r *Ring) Open(sealed string, aad []byte) ([]byte, error) {
	id, body, err := split(sealed)
	if err != nil {
		return nil, err
	}
	aead, err := r.key(id)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < nonceSize+aead.Overhead() {
		return nil, ErrMalformed
	}
	plain, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// key returns the AEAD of a key id, reading the key file again once if the
// ring does not hold it.
func (r *Ring) key(id string) (cipher.AEAD, error) {
	if aead, ok := r.state.Load().keys[id]; ok {
		return aead, nil
	}
	if r.path == "" {
		return nil, fmt.Errorf("%w (%s)", ErrUnknownKey, id)
	}
	if err := r.reload(); err != nil {
		return nil, fmt.Errorf("%w (%s): %v", ErrUnknownKey, id, err)
	}
	if aead, ok := r.state.Load().keys[id]; ok {
		return aead, nil
	}
	return nil, fmt.Errorf("%w (%s)", ErrUnknownKey, id)
}

// reload re-reads the key file. A file whose lookup key changed is refused:
// every stored lookup hash would stop matching.
func (r *Ring) reload() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	text, err := os.ReadFile(r.path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	st, err := parse(string(text))
	if err != nil {
		return fmt.Errorf("keyring: %s: %w", r.path, err)
	}
	if !hmac.Equal(st.lookup, r.state.Load().lookup) {
		return fmt.Errorf("keyring: %s: the lookup key changed; restart passd with the new ring", r.path)
	}
	r.state.Store(st)
	return nil
}

// KeyOf returns the id of the key a value was sealed under.
func KeyOf(sealed string) (string, error) {
	id, _, err := split(sealed)
	return id, err
}

func split(sealed string) (id, body string, err error) {
	version, rest, ok := strings.Cut(sealed, ".")
	if !ok || version != sealVersion {
		return "", "", ErrMalformed
	}
	id, body, ok = strings.Cut(rest, ".")
	if !ok || !keyIDPattern.MatchString(id) {
		return "", "", ErrMalformed
	}
	return id, body, nil
}

// Hash is the keyed hash (HMAC-SHA-256 under the lookup key) of value in a
// domain ("nir"), so that equal values can be found, and kept unique, by a
// database index without the database ever holding them. The caller
// normalises value first. The domain keeps hashes of different kinds of
// value apart.
func (r *Ring) Hash(domain, value string) []byte {
	mac := hmac.New(sha256.New, r.state.Load().lookup)
	mac.Write([]byte(domain))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return mac.Sum(nil)
}

// Generate returns the text of a new ring: a lookup key and one data key,
// from crypto/rand.
func Generate(now time.Time) (string, error) {
	lookup, err := randomKey()
	if err != nil {
		return "", err
	}
	_, entry, err := NewDataKey(now)
	if err != nil {
		return "", err
	}
	return "# passd keyring: keep it secret and backed up; without it, patient identity cannot be read.\n" +
		lookupEntry + "=" + lookup + "\n" + entry + "\n", nil
}

// NewDataKey returns a fresh data key as a ring entry, "id=base64", its id
// made of the day and random hex so that two keys made the same day differ.
func NewDataKey(now time.Time) (id, entry string, err error) {
	suffix := make([]byte, 3)
	if _, err := rand.Read(suffix); err != nil {
		return "", "", fmt.Errorf("keyring: random: %w", err)
	}
	key, err := randomKey()
	if err != nil {
		return "", "", err
	}
	id = fmt.Sprintf("k%s-%x", now.UTC().Format("20060102"), suffix)
	return id, id + "=" + key, nil
}

func randomKey() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("keyring: random: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// AddKeyToFile appends a fresh data key to the ring in the key file and
// makes it current (any current= line is dropped, so the new last key is
// current). The file is replaced atomically, mode 0600. It returns the new
// key's id.
func AddKeyToFile(path string, now time.Time) (string, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	if _, err := parse(string(text)); err != nil {
		return "", fmt.Errorf("keyring: %s: %w", path, err)
	}
	id, entry, err := NewDataKey(now)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(text), "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), currentEntry+"=") {
			continue
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "# added %s by passd rotate-key; the last data key is current\n%s\n", now.UTC().Format(time.RFC3339), entry)
	if _, err := parse(b.String()); err != nil {
		return "", fmt.Errorf("keyring: %s: %w", path, err)
	}
	if err := writeFileAtomic(path, []byte(b.String())); err != nil {
		return "", err
	}
	return id, nil
}

// WriteNewFile writes text to a new key file, mode 0600; it never
// overwrites an existing file (a lost key loses the data it sealed).
func WriteNewFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	return f.Close()
}

func writeFileAtomic(path string, data []byte) error {
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	if err := WriteNewFile(tmp, string(data)); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}
