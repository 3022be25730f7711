package statestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

// FileName is the usual name of the state file inside [DefaultDir] (or the
// folder given with --data).
const FileName = "state.db"

// FormatVersion is the format of the files this package writes. Open
// refuses a file with a higher version ([ErrNewerFormat]); a later release
// that raises it migrates older files in Open.
const FormatVersion = 1

// Defaults for a zero [Options].
const (
	DefaultLockTimeout = time.Second
	DefaultRetention   = 30 * 24 * time.Hour
	// DefaultHandledLimit and DefaultHandledAge bound the event ids kept
	// as handled: the last 100,000, and none older than 24 hours,
	// whichever is fewer. An engine that retries an event later than
	// that, or after 100,000 newer ids, may have it handled again.
	DefaultHandledLimit = 100_000
	DefaultHandledAge   = 24 * time.Hour
)

// Errors that callers tell apart with errors.Is. Each returned error also
// names the file (and the integration) and says what to do.
var (
	// ErrLocked: another process (or another Open in this one) holds the file.
	ErrLocked = errors.New("the file is in use by another afstudio")
	// ErrCorrupt: the file is not a bbolt database, not a state store, or
	// damaged. Move it aside ([MoveAside]) and start with empty state.
	ErrCorrupt = errors.New("not a readable state store")
	// ErrNewerFormat: the file was written by a newer afstudio.
	ErrNewerFormat = errors.New("written by a newer afstudio")
	// ErrNotFound: no record is stored for the integration.
	ErrNotFound = errors.New("no stored state")
)

// Bucket and key names of the file format (version 1):
//
//	meta/format                    decimal FormatVersion
//	integrations/<name>/state      JSON
//	integrations/<name>/hash       module content hash
//	integrations/<name>/generation decimal generation of the version that
//	                               produced state; absent means 0
//	integrations/<name>/saved      RFC 3339 time, UTC
//	integrations/<name>/enabled    "true" or "false"; absent means true
//	integrations/<name>/removed    RFC 3339 time, UTC; absent if not removed
//	handled/<seq>                  8-byte big-endian sequence -> 8-byte
//	                               big-endian Unix nanoseconds, then the
//	                               event id
//
// The handled bucket (event ids, see [Handled]) is optional: a file
// without it has none, and an afstudio that does not know it ignores it,
// so it did not need a new format version. Nor did the generation key:
// a file without it reads as generation 0 (unknown), and an afstudio that
// does not know it ignores it.
const (
	metaBucket         = "meta"
	integrationsBucket = "integrations"
	formatKey          = "format"
	stateKey           = "state"
	hashKey            = "hash"
	generationKey      = "generation"
	savedKey           = "saved"
	enabledKey         = "enabled"
	removedKey         = "removed"
	handledBucket      = "handled"
)

// Options tune [Open]. The zero value is the default.
type Options struct {
	// LockTimeout is how long Open waits for the file lock held by another
	// process before it fails with ErrLocked. Zero means
	// DefaultLockTimeout (long enough for a restarting host to let go).
	LockTimeout time.Duration
	// Retention is how long the record of a removed integration is kept
	// (so that re-adding it restores its state) before Open purges it.
	// Zero means DefaultRetention (30 days).
	Retention time.Duration
	// HandledLimit and HandledAge bound the event ids kept (see
	// [Handled]): each save of ids deletes the oldest past the last
	// HandledLimit and those older than HandledAge, and LoadHandled
	// leaves out those older than HandledAge. Zero means
	// DefaultHandledLimit and DefaultHandledAge.
	HandledLimit int
	// HandledAge is the age bound of the ids kept (see HandledLimit).
	HandledAge time.Duration
}

func (o Options) withDefaults() Options {
	if o.HandledLimit <= 0 {
		o.HandledLimit = DefaultHandledLimit
	}
	if o.HandledAge <= 0 {
		o.HandledAge = DefaultHandledAge
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	return o
}

// Record is what is stored for one integration.
type Record struct {
	// Name is the integration's name; it names its bucket.
	Name string
	// State is the integration's state as JSON, produced by the host.
	// Nil when nothing was saved yet (a record made by SetEnabled).
	State json.RawMessage
	// ModuleHash is the content hash of the module that produced State, so
	// that the host can tell on start that the module changed while the
	// app was closed and run its migrate.
	ModuleHash string
	// Generation is the generation of the version that produced State
	// (1 after its first load, one more per reload), so that the host
	// restores it with the state after a restart. Zero means unknown: a
	// record saved by an afstudio that did not store it, or one without
	// state. Save stores it with State; a zero Generation keeps the one
	// stored (an import of states from an export, which has none).
	Generation int
	// SavedAt is when State was saved (set by Save, in UTC).
	SavedAt time.Time
	// Enabled is the integration's switch; true unless SetEnabled turned it
	// off. Save ignores it.
	Enabled bool
	// RemovedAt is when the integration was removed (MarkRemoved), zero
	// while it is present. Save ignores it.
	RemovedAt time.Time
}

// Handled is the id of an event the host handled, and when: a [Writer]
// saves the ids of events handled since its last flush in the same
// transaction as the states those events produced (Writer.EndEvent), so
// that after a crash an id is on disk if and only if its states are.
type Handled struct {
	// ID is the event's id, as the engine gave it.
	ID string
	// At is when the event was handled.
	At time.Time
}

// Store is an open state file. Its methods are safe for concurrent use;
// readers never wait for a writer (bbolt), writers are serialized.
type Store struct {
	db   *bbolt.DB
	path string
	opts Options
}

// Open opens the state file at path, creating it (and its folder) if
// needed, checks its format version and purges the records of integrations
// removed more than Options.Retention ago.
//
// It fails with ErrLocked when another process holds the file, with
// ErrCorrupt when the file is not a readable state store and with
// ErrNewerFormat when a newer afstudio wrote it; the error names the file
// and says what to do.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state store %s: create its folder: %w", path, err)
	}
	if err := checkSize(path); err != nil {
		return nil, err
	}
	var (
		db   *bbolt.DB
		file *os.File // to release the lock if bbolt panics
	)
	err := guard(path, func() (err error) {
		db, err = bbolt.Open(path, 0o600, &bbolt.Options{
			Timeout: opts.LockTimeout,
			OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag, mode)
				file = f
				return f, err
			},
		})
		return err
	})
	if err != nil {
		if db == nil && file != nil {
			_ = file.Close() // bbolt panicked and left it open
		}
		if errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		return nil, openError(path, err)
	}
	s := &Store{db: db, path: path, opts: opts}
	if err := guard(path, func() error { return s.prepare(time.Now()) }); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openError explains an error of bbolt.Open.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		holder := ""
		if pid := lockHolder(path); pid == os.Getpid() {
			holder = fmt.Sprintf(" (this process, pid %d)", pid)
		} else if pid > 0 {
			holder = fmt.Sprintf(" (pid %d)", pid)
		}
		return fmt.Errorf("state store %s: %w%s; stop that afstudio or give this one another --data folder", path, ErrLocked, holder)
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, bbolt.ErrVersionMismatch), errors.Is(err, bbolt.ErrChecksum):
		return fmt.Errorf("state store %s: %w: the file is not a bbolt database or is damaged; move it aside to start with empty state: %w", path, ErrCorrupt, err)
	}
	return fmt.Errorf("state store %s: open: %w", path, err)
}

// prepare checks (or, for a new file, writes) the format version, purges
// expired records and reads every record once, in one transaction.
func (s *Store) prepare(now time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte(metaBucket))
		if meta == nil {
			foreign := tx.ForEach(func([]byte, *bbolt.Bucket) error { return ErrCorrupt }) != nil
			if foreign {
				return fmt.Errorf("state store %s: %w: it is a bbolt database of another program (no %q bucket); move it aside or choose another --data folder", s.path, ErrCorrupt, metaBucket)
			}
			if err := s.create(tx); err != nil {
				return err
			}
			meta = tx.Bucket([]byte(metaBucket))
		}
		raw := meta.Get([]byte(formatKey))
		version, err := strconv.Atoi(string(raw))
		if err != nil || version < 1 {
			return fmt.Errorf("state store %s: %w: bad format version %q; move it aside to start with empty state", s.path, ErrCorrupt, raw)
		}
		if version > FormatVersion {
			return fmt.Errorf("state store %s: %w: its format version is %d and this afstudio reads version %d at most; use a newer afstudio, or move the file aside to start with empty state", s.path, ErrNewerFormat, version, FormatVersion)
		}
		ints := tx.Bucket([]byte(integrationsBucket))
		if ints == nil {
			return fmt.Errorf("state store %s: %w: no %q bucket; move it aside to start with empty state", s.path, ErrCorrupt, integrationsBucket)
		}
		err = s.purgeExpired(ints, now)
		if err == nil {
			err = checkRecords(ints)
		}
		if err == nil {
			err = checkHandled(tx.Bucket([]byte(handledBucket)))
		}
		if err != nil {
			return fmt.Errorf("state store %s: %w; move the file aside to start with empty state", s.path, err)
		}
		return nil
	})
}

// checkRecords reads every record, so that damage shows now (as ErrCorrupt)
// rather than in a later Load.
func checkRecords(ints *bbolt.Bucket) error {
	return ints.ForEachBucket(func(name []byte) error {
		b := ints.Bucket(name)
		if v := b.Get([]byte(stateKey)); v != nil && !json.Valid(v) {
			return fmt.Errorf("integration %q: %w: its state is not valid JSON", name, ErrCorrupt)
		}
		var rec Record
		return decode(string(name), b, &rec)
	})
}

// checkHandled reads every handled event id (b may be nil: none).
func checkHandled(b *bbolt.Bucket) error {
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if len(k) != 8 || len(v) < 8 {
			return fmt.Errorf("%w: a handled event id of a bad size", ErrCorrupt)
		}
		return nil
	})
}

func (s *Store) create(tx *bbolt.Tx) error {
	meta, err := tx.CreateBucket([]byte(metaBucket))
	if err == nil {
		err = meta.Put([]byte(formatKey), []byte(strconv.Itoa(FormatVersion)))
	}
	if err == nil {
		_, err = tx.CreateBucket([]byte(integrationsBucket))
	}
	if err != nil {
		return fmt.Errorf("state store %s: initialize: %w", s.path, err)
	}
	return nil
}

// purgeExpired deletes the records of integrations removed before
// now - Retention.
func (s *Store) purgeExpired(ints *bbolt.Bucket, now time.Time) error {
	cutoff := now.Add(-s.opts.Retention)
	var expired [][]byte
	err := ints.ForEachBucket(func(name []byte) error {
		raw := ints.Bucket(name).Get([]byte(removedKey))
		if raw == nil {
			return nil
		}
		at, err := time.Parse(time.RFC3339Nano, string(raw))
		if err != nil {
			return fmt.Errorf("integration %q: %w: bad removal time %q", name, ErrCorrupt, raw)
		}
		if at.Before(cutoff) {
			expired = append(expired, bytes.Clone(name))
		}
		return nil
	})
	for _, name := range expired {
		if err == nil {
			err = ints.DeleteBucket(name)
		}
	}
	return err
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Close closes the file and lets another process open it.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("state store %s: close: %w", s.path, err)
	}
	return nil
}

// Load returns the record of the integration name. When ok is false nothing
// is stored for it and the record is the default one: Name set, Enabled
// true, no State.
func (s *Store) Load(name string) (rec Record, ok bool, err error) {
	rec = Record{Name: name, Enabled: true}
	err = s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(integrationsBucket)).Bucket([]byte(name))
		if b == nil {
			return nil
		}
		ok = true
		return decode(name, b, &rec)
	})
	if err != nil {
		return rec, ok, fmt.Errorf("state store %s: load: %w", s.path, err)
	}
	return rec, ok, nil
}

// LoadAll returns every stored record, sorted by name, including those of
// removed integrations (RemovedAt set).
func (s *Store) LoadAll() ([]Record, error) {
	var recs []Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		ints := tx.Bucket([]byte(integrationsBucket))
		return ints.ForEachBucket(func(name []byte) error {
			rec := Record{Name: string(name), Enabled: true}
			if err := decode(rec.Name, ints.Bucket(name), &rec); err != nil {
				return err
			}
			recs = append(recs, rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state store %s: load: %w", s.path, err)
	}
	return recs, nil
}

// decode reads an integration's bucket into rec, copying the bytes out of
// the transaction.
func decode(name string, b *bbolt.Bucket, rec *Record) error {
	if v := b.Get([]byte(stateKey)); v != nil {
		rec.State = bytes.Clone(v)
	}
	rec.ModuleHash = string(b.Get([]byte(hashKey)))
	if v := b.Get([]byte(generationKey)); v != nil {
		g, err := strconv.Atoi(string(v))
		if err != nil || g < 0 {
			return fmt.Errorf("integration %q: %w: bad generation %q", name, ErrCorrupt, v)
		}
		rec.Generation = g
	}
	for _, t := range []struct {
		key string
		dst *time.Time
	}{{savedKey, &rec.SavedAt}, {removedKey, &rec.RemovedAt}} {
		v := b.Get([]byte(t.key))
		if v == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return fmt.Errorf("integration %q: %w: bad %s time %q", name, ErrCorrupt, t.key, v)
		}
		*t.dst = at
	}
	if v := b.Get([]byte(enabledKey)); v != nil {
		rec.Enabled = string(v) != "false"
	}
	return nil
}

// validate checks a record before it is saved.
func validate(rec *Record) error {
	if rec.Name == "" {
		return errors.New("a record without an integration name")
	}
	if !json.Valid(rec.State) {
		return fmt.Errorf("integration %q: the state is not valid JSON (%d bytes)", rec.Name, len(rec.State))
	}
	if rec.Generation < 0 {
		return fmt.Errorf("integration %q: a negative generation (%d)", rec.Name, rec.Generation)
	}
	return nil
}

// Save writes the State, ModuleHash and Generation of every record,
// stamped with the current time, in one transaction: all of them are on
// disk when it returns nil, none of them when it fails. A zero Generation
// keeps the generation stored, if any. The enabled switch and removal
// time stored for each integration are kept (a new record is enabled).
// Every State must be valid JSON. Save does not keep the records.
//
// ctx can cancel the batch until it commits.
func (s *Store) Save(ctx context.Context, records ...Record) error {
	for i := range records {
		if err := validate(&records[i]); err != nil {
			return fmt.Errorf("state store %s: save: %w; nothing of this batch was written", s.path, err)
		}
	}
	if err := s.save(ctx, records, nil); err != nil {
		return fmt.Errorf("state store %s: save %d records: %w", s.path, len(records), err)
	}
	return nil
}

// save is Save without the validation (the Writer validates first) and
// without the context in its error; it also appends the handled event
// ids, in the same transaction (see saveHandled).
func (s *Store) save(ctx context.Context, records []Record, handled []Handled) error {
	if len(records) == 0 && len(handled) == 0 {
		return nil
	}
	now := time.Now()
	saved := []byte(now.UTC().Format(time.RFC3339Nano))
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := s.saveHandled(tx, handled, now); err != nil {
			return err
		}
		ints := tx.Bucket([]byte(integrationsBucket))
		for i := range records {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := &records[i]
			b, err := ints.CreateBucketIfNotExists([]byte(r.Name))
			if err == nil {
				err = b.Put([]byte(stateKey), r.State)
			}
			if err == nil {
				err = b.Put([]byte(hashKey), []byte(r.ModuleHash))
			}
			if err == nil && r.Generation > 0 {
				err = b.Put([]byte(generationKey), strconv.AppendInt(nil, int64(r.Generation), 10))
			}
			if err == nil {
				err = b.Put([]byte(savedKey), saved)
			}
			if err != nil {
				return fmt.Errorf("integration %q: %w", r.Name, err)
			}
		}
		return nil
	})
}

// saveHandled appends the handled event ids to their bucket, then
// deletes the oldest past Options.HandledLimit and those older than
// Options.HandledAge. The sequence numbers are consecutive, so the count
// is the difference between the last and the first.
func (s *Store) saveHandled(tx *bbolt.Tx, handled []Handled, now time.Time) error {
	if len(handled) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists([]byte(handledBucket))
	if err != nil {
		return fmt.Errorf("handled event ids: %w", err)
	}
	for _, h := range handled {
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("handled event ids: %w", err)
		}
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(h.ID)), uint64(h.At.UnixNano()))
		if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), append(v, h.ID...)); err != nil {
			return fmt.Errorf("handled event id %q: %w", h.ID, err)
		}
	}
	last := b.Sequence()
	cutoff := now.Add(-s.opts.HandledAge).UnixNano()
	var expired [][]byte // collected first: a cursor that deletes as it goes skips keys
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 || len(v) < 8 {
			return fmt.Errorf("handled event ids: %w: a bad entry", ErrCorrupt)
		}
		old := last-binary.BigEndian.Uint64(k) >= uint64(s.opts.HandledLimit)
		if !old && int64(binary.BigEndian.Uint64(v)) >= cutoff {
			break
		}
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("handled event ids: %w", err)
		}
	}
	return nil
}

// LoadHandled returns the handled event ids kept (see [Handled]), oldest
// first, without those older than Options.HandledAge.
func (s *Store) LoadHandled() ([]Handled, error) {
	var out []Handled
	cutoff := time.Now().Add(-s.opts.HandledAge).UnixNano()
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(handledBucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) < 8 {
				return fmt.Errorf("%w: a bad handled event id", ErrCorrupt)
			}
			if at := int64(binary.BigEndian.Uint64(v)); at >= cutoff {
				out = append(out, Handled{ID: string(v[8:]), At: time.Unix(0, at)})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state store %s: load handled event ids: %w", s.path, err)
	}
	return out, nil
}

// SetEnabled turns the integration's switch on or off; the switch is kept
// across restarts. It creates the record (without state) if there is none.
func (s *Store) SetEnabled(name string, enabled bool) error {
	err := s.update(name, func(ints *bbolt.Bucket) error {
		b, err := ints.CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return err
		}
		return b.Put([]byte(enabledKey), strconv.AppendBool(nil, enabled))
	})
	if err != nil {
		return fmt.Errorf("state store %s: switch %q: %w", s.path, name, err)
	}
	return nil
}

// MarkRemoved records that the integration was removed at the given time:
// its record is kept for Options.Retention after that, then purged by Open.
// An integration with no record has nothing to keep; that is not an error.
func (s *Store) MarkRemoved(name string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("state store %s: mark %q removed: no removal time given", s.path, name)
	}
	err := s.update(name, func(ints *bbolt.Bucket) error {
		b := ints.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return b.Put([]byte(removedKey), []byte(at.UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return fmt.Errorf("state store %s: mark %q removed: %w", s.path, name, err)
	}
	return nil
}

// MarkAdded records that the integration is present (again): a removal
// time is cleared, so its record is no longer purged. It writes only when
// the integration was marked removed, so the host can call it for every
// integration on start.
func (s *Store) MarkAdded(name string) error {
	removed := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(integrationsBucket)).Bucket([]byte(name))
		removed = b != nil && b.Get([]byte(removedKey)) != nil
		return nil
	})
	if err == nil && removed {
		err = s.update(name, func(ints *bbolt.Bucket) error {
			if b := ints.Bucket([]byte(name)); b != nil {
				return b.Delete([]byte(removedKey))
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("state store %s: mark %q added: %w", s.path, name, err)
	}
	return nil
}

// Purge removes the integration's record now. It fails with ErrNotFound
// when there is none.
func (s *Store) Purge(name string) error {
	err := s.update(name, func(ints *bbolt.Bucket) error {
		return ints.DeleteBucket([]byte(name))
	})
	if errors.Is(err, bbolt.ErrBucketNotFound) {
		return fmt.Errorf("state store %s: purge %q: %w for this integration (check the name with the list of stored states)", s.path, name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("state store %s: purge %q: %w", s.path, name, err)
	}
	return nil
}

// update runs fn on the integrations bucket in a write transaction.
func (s *Store) update(name string, fn func(ints *bbolt.Bucket) error) error {
	if name == "" {
		return errors.New("no integration name given")
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		return fn(tx.Bucket([]byte(integrationsBucket)))
	})
}

// MoveAside renames the file at path (a corrupt state store) to
// path.corrupt-<time>, so that the host can report it once and start with
// a new, empty file. It returns the new name.
func MoveAside(path string, now time.Time) (string, error) {
	aside := path + ".corrupt-" + now.UTC().Format("20060102T150405.000Z")
	if _, err := os.Lstat(aside); err == nil {
		return "", fmt.Errorf("state store %s: move aside: %s already exists; try again", path, aside)
	}
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("state store %s: move aside: %w", path, err)
	}
	return aside, nil
}
