package load

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/schema"
)

// Conn runs statements on a ClickHouse destination for a Ledger.
type Conn interface {
	// Exec runs a statement that returns nothing.
	Exec(ctx context.Context, query string) error
	// QueryString runs a query of one String column and returns the first
	// row's value, "" when there is none.
	QueryString(ctx context.Context, query string) (string, error)
}

// Ledger keeps the load records (capture_files) of a ClickHouse
// destination, embedded or server, and with them its exactly-once
// protocol:
//
//   - A file is identified by its content hash. Begin asks for the state
//     of the file's latest generation; when it has a loaded record the
//     file is left out (ErrLoaded), unless forced.
//   - Before its first row is inserted, the generation is marked: loading
//     when the file's inserts are its own, grouped when they carry other
//     files' rows too (BeginGroup). Each run of a generation marks it, so
//     that a run killed shows (Unfinished).
//   - Every insert of a file's own rows carries a deduplication token made
//     of the hash, the generation and the insert's sequence number, and
//     batches are cut the same way from the same file, so an insert sent
//     again by a retry or by a rerun after a crash is dropped by the
//     engine (dns_messages keeps schema.DedupWindow tokens). An engine
//     killed inside an insert's commit may keep its token without its
//     rows: the embedded engine's killed loads are replaced (see
//     engineInProcess), and a server that restarted is asked whether it
//     kept every row sent (CheckKept). The records of capture_files carry
//     tokens of the run's (recordToken), so a record lost that way is
//     written again by the next run.
//   - A group's inserts carry a token of the group, which a retry repeats
//     but a rerun cannot: which files a rerun groups depends on what it is
//     given and on what is loaded by then. So a generation marked grouped
//     and not loaded is replaced by the next run, as a loading one is when
//     it is to be grouped: its rows are deleted and it loads afresh.
//   - The loaded record is written last, after every insert; a group's
//     records are one insert, so its files are loaded together or not.
//   - --force starts the next generation: a replacing record, the file's
//     rows deleted, a replaced record, then the load with fresh tokens
//     (the old ones are still in the window and would drop the new rows).
//     A crash before the replaced record is finished by the next run.
type Ledger struct {
	conn     Conn
	database string
	sensor   string
	takeover time.Duration // see SetTakeover
	run      string        // names this run's records (see recordToken)
	skipped  sync.Map      // hashes whose generation Begin found recorded as no capture
	// beforeUncount, when set, runs before the rows of the files of
	// quotedHashes are taken out of the views, unless every one of them
	// ended loaded (its rows counted whole: see uncount); an error stops
	// the replacement (see EmbeddedSink.owe).
	beforeUncount func(ctx context.Context, quotedHashes string) error
	// engineInProcess says the engine runs in the loader's process (the
	// embedded one), so a load killed took the engine down with it. The
	// engine writes an insert's token to its deduplication log, then
	// renames the insert's part into the table (MergeTreeSink::commitPart):
	// a kill in between keeps the token and loses the rows, and the same
	// insert sent again under that token is dropped (seen once in
	// TestLoad_killedAndRerun: 1,500 rows of 24,000 lost). So a file whose
	// last run did not end is replaced, not completed under its tokens.
	engineInProcess bool
}

// NewLedger returns the Ledger of database, stamping sensor on records.
func NewLedger(conn Conn, database, sensor string) *Ledger {
	return &Ledger{conn: conn, database: database, sensor: sensor, takeover: DefaultTakeover, run: rand.Text()}
}

// recordToken is the token of a record of f's generation g with status,
// written by this run: a retry of its insert repeats it, another run's
// record does not. An engine killed inside a record's insert may keep its
// token without the record, so a token that a later run repeats would drop
// that run's record too (a hostile run: a lost loaded record made every
// rerun load the file again and record nothing; a lost loading mark hid
// the kills after it, and a killed load's rows were then completed under
// tokens that dropped some). Only inserts of rows keep tokens across runs.
func (l *Ledger) recordToken(hash string, g uint32, status string) string {
	if hash == "" {
		return ""
	}
	return Token(hash, g, status) + ":" + l.run
}

// DefaultTakeover is how old a mark of a load that did not finish must be
// before a run deletes and reloads the file's rows (see SetTakeover).
const DefaultTakeover = 10 * time.Second

// SetTakeover sets how old, by the server's clock, the newest mark of a
// file's unfinished load must be before a run deletes the file's rows and
// loads it again; a younger one is waited for. A loader killed in the
// middle of an insert may have sent it whole: the server finishes it after
// the loader is gone, and a delete that ran before would leave its rows
// beside the reload's. An insert takes seconds at most.
func (l *Ledger) SetTakeover(d time.Duration) { l.takeover = max(d, 0) }

// fileState is what the load records say of a file's latest generation.
type fileState struct {
	// supersededBy is the hash of the file that superseded this one in
	// its latest generation, if one did; supersederLoaded whether that
	// file is loaded (see withSuperseders).
	supersededBy     string
	supersederLoaded bool

	generation uint32
	statuses   []string      // of the generation's records; none when the file has no record
	markAge    time.Duration // since the generation's newest loading or grouped mark
	cut        string        // the loading mark's (File.CutInto)
	loadedAs   string        // the path of the generation's loaded record, if any
	// marks counts the generation's loading marks, ends its outcomes
	// (loaded, failed, skipped): each run of a generation marks it (see
	// Begin), so that a kill in it shows.
	marks, ends int
}

func (s fileState) has(status string) bool { return slices.Contains(s.statuses, status) }

// cutShort reports whether the generation's replacement was cut short: a
// replacing record, and neither its replaced record nor a mark or record
// written only after it. A load marked after it shows the replacement
// ended even when its replaced record is missing, which an engine killed
// inside that record's insert may lose; finishing it again would delete
// the load's rows, and send them again under tokens that drop them (a
// hostile run: every rerun of the file left it with no row).
func (s fileState) cutShort() bool {
	return s.has(schema.StatusReplacing) && !slices.ContainsFunc(s.statuses, func(status string) bool {
		switch status {
		case schema.StatusReplaced, schema.StatusSuperseded, schema.StatusLoading, schema.StatusGrouped,
			schema.StatusLoaded:
			return true
		}
		return false
	})
}

// maxQueryText bounds the text a Ledger query lists (hashes, names,
// paths): the server parses 256 KiB of a query at most, and 300 files of
// 1 KiB paths, or 4,000 hashes, failed a group whole (a hostile run).
const maxQueryText = 64 << 10

// states reads the latest generation of each file of hashes, in a query a
// thousand files. A file without records is missing from the map.
func (l *Ledger) states(ctx context.Context, hashes []string) (map[string]fileState, error) {
	const chunk = maxQueryText / 68 // quoted hex SHA-256 and a comma
	m := make(map[string]fileState)
	for len(hashes) > 0 {
		n := min(len(hashes), chunk)
		if err := l.statesInto(ctx, hashes[:n], m); err != nil {
			return nil, err
		}
		hashes = hashes[n:]
	}
	return m, nil
}

// statesInto is states of hashes in one query, into m.
func (l *Ledger) statesInto(ctx context.Context, hashes []string, m map[string]fileState) error {
	quoted := make([]string, len(hashes))
	for i, h := range hashes {
		quoted[i] = schema.Quote(h)
	}
	// The cut in hex, as it holds spaces and commas.
	q := fmt.Sprintf("SELECT arrayStringConcat(groupArray(concat(h, ' ', toString(g), ' ', s, ' ', toString(a), ' ', b, ' x', c, ' p', p, ' n', n)), ',') FROM ("+
		"SELECT file_hash AS h, generation AS g, arrayStringConcat(groupUniqArray(status), '|') AS s, "+
		"dateDiff('millisecond', maxIf(loaded_at, status IN (%[1]s, %[2]s)), now64(3, 'UTC')) AS a, "+
		"if(countIf(status = %[3]s) > 0, extract(anyIf(error, status = %[3]s), 'superseded by ([0-9a-f]+)'), '-') AS b, "+
		"hex(anyIf(error, status = %[1]s)) AS c, hex(anyIf(path, status = %[4]s)) AS p, "+
		"concat(toString(countIf(status = %[1]s)), ':', toString(countIf(status IN (%[4]s, %[5]s, %[6]s)))) AS n "+
		"FROM %[7]s.%[8]s WHERE file_hash IN (%[9]s) GROUP BY h, g ORDER BY h, g DESC LIMIT 1 BY h)",
		schema.Quote(schema.StatusLoading), schema.Quote(schema.StatusGrouped), schema.Quote(schema.StatusSuperseded),
		schema.Quote(schema.StatusLoaded), schema.Quote(schema.StatusFailed), schema.Quote(schema.StatusSkipped),
		schema.QuoteIdent(l.database), schema.FilesTable, strings.Join(quoted, ", "))
	out, err := l.conn.QueryString(ctx, q)
	if err != nil {
		return fmt.Errorf("read load state: %w", err)
	}
	out = strings.TrimSpace(out)
	if out == "" {
		return nil
	}
	for item := range strings.SplitSeq(out, ",") {
		// h g s a, then b unless empty (no superseder found), then x and
		// the cut's hex, p and the loaded path's hex, and n and the marks
		// and outcomes counted.
		f := strings.Fields(item)
		if len(f) < 4 || len(f) > 8 {
			return fmt.Errorf("read load state: unexpected %q", item)
		}
		g, err1 := strconv.ParseUint(f[1], 10, 32)
		age, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("read load state: unexpected %q", item)
		}
		st := fileState{generation: uint32(g), statuses: strings.Split(f[2], "|"),
			markAge: time.Duration(age) * time.Millisecond}
		for _, v := range f[4:] {
			switch {
			case strings.HasPrefix(v, "x"):
				cut, err := hex.DecodeString(v[1:])
				if err != nil {
					return fmt.Errorf("read load state: unexpected %q", item)
				}
				st.cut = string(cut)
			case strings.HasPrefix(v, "p"):
				path, err := hex.DecodeString(v[1:])
				if err != nil {
					return fmt.Errorf("read load state: unexpected %q", item)
				}
				st.loadedAs = string(path)
			case strings.HasPrefix(v, "n"):
				m, e, ok := strings.Cut(v[1:], ":")
				marks, err1 := strconv.Atoi(m)
				ends, err2 := strconv.Atoi(e)
				if !ok || err1 != nil || err2 != nil {
					return fmt.Errorf("read load state: unexpected %q", item)
				}
				st.marks, st.ends = marks, ends
			case v != "-":
				st.supersededBy = v
			}
		}
		m[f[0]] = st
	}
	return nil
}

// statesOf is states, with whether the file that superseded each file,
// if any, is loaded.
func (l *Ledger) statesOf(ctx context.Context, hashes []string) (map[string]fileState, error) {
	sts, err := l.states(ctx, hashes)
	if err != nil {
		return nil, err
	}
	var by []string
	for _, st := range sts {
		if st.supersededBy != "" {
			by = append(by, st.supersededBy)
		}
	}
	if len(by) == 0 {
		return sts, nil
	}
	bySts, err := l.states(ctx, by)
	if err != nil {
		return nil, err
	}
	for h, st := range sts {
		if st.supersededBy != "" {
			st.supersederLoaded = bySts[st.supersededBy].has(schema.StatusLoaded)
			sts[h] = st
		}
	}
	return sts, nil
}

// plan decides from f's state the generation its rows are loaded in, and
// whether the file's rows are replaced first; ErrLoaded when the file is
// left out. grouped is whether the rows go into a group's inserts.
func (l *Ledger) plan(st fileState, found bool, f File, grouped bool) (uint32, bool, error) {
	force := f.Force
	switch {
	case found && st.has(schema.StatusSuperseded) && !force && st.supersederLoaded:
		// Its rows are the first ones of the file that superseded it.
		// (Not loaded, as when that file's load failed, it loads again.)
		return 0, false, ErrLoaded
	case found && st.cutShort():
		// A replacement cut short is finished in its own generation,
		// forced, grouped or not: no row of it was inserted yet, and its
		// rows may be out of the views already, under its tokens.
		return st.generation, true, nil
	case force && found:
		return st.generation + 1, true, nil
	case force:
		// No record: a first load by a version that wrote no loading mark
		// may have left rows.
		return 1, true, nil
	case !found:
		return 0, false, nil
	case st.has(schema.StatusLoaded):
		return 0, false, ErrLoaded
	case st.has(schema.StatusSkipped):
		// Not a capture, so no rows: the same bytes are not one now.
		return st.generation, false, nil
	case st.has(schema.StatusGrouped):
		// TODO(ledger): a file named that is no capture fails in its
		// group and is replaced on every later run, which it has no rows
		// for; telling a failure the file's bytes decide (not a capture)
		// from one an interruption made, in its record, would let it be
		// loaded again in its generation. Counting failures of no packet
		// against marks stored rows twice (a hostile run).
		return st.generation + 1, true, nil
	case grouped && !(st.has(schema.StatusReplaced) && len(st.statuses) == 2):
		// Rows inserted with the file's own tokens: a group's tokens
		// would not drop them.
		return st.generation + 1, true, nil
	case !grouped && st.has(schema.StatusLoading) && st.cut != f.cut:
		// An earlier load cut the rows into other inserts, or filled
		// them otherwise (sizes, sensor, path, ports, version): their
		// tokens would drop rows that differ from the ones sent again,
		// so they are replaced, as a group's are.
		return st.generation + 1, true, nil
	case !grouped && l.engineInProcess && st.marks > st.ends:
		// Killed with the engine: its tokens may name inserts it lost.
		return st.generation + 1, true, nil
	}
	return st.generation, false, nil
}

// waitTakeover waits until the marks of every unfinished load among sts,
// whose files replace takes over, are l.takeover old (see SetTakeover). A
// load that wrote its outcome (failed) ended: it is not waited for.
func (l *Ledger) waitTakeover(ctx context.Context, files []File, sts []fileState) (time.Duration, error) {
	var wait time.Duration
	var paths []string
	for i, st := range sts {
		marked := st.has(schema.StatusLoading) || st.has(schema.StatusGrouped)
		ended := st.has(schema.StatusFailed) || st.has(schema.StatusLoaded) || st.has(schema.StatusSkipped)
		// More marks than outcomes: a run since the last outcome may be
		// loading still, or its last insert landing (see Begin).
		if (marked && !ended || st.marks > st.ends) && l.takeover > st.markAge {
			wait = max(wait, l.takeover-st.markAge)
			paths = append(paths, files[i].Path)
		}
	}
	if wait <= 0 {
		return 0, nil
	}
	// Said as it begins: a --takeover-after of minutes was a silent wait.
	if files[0].Waiting != nil {
		files[0].Waiting(paths, wait)
	}
	select {
	case <-time.After(wait):
		return wait, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// replaceReason says why f's rows of an earlier load, in state st, are
// replaced though not forced; grouped when f goes into a group now.
func replaceReason(st fileState, f File, grouped bool, waited time.Duration) string {
	var why string
	// Said of one file or of many (the summary lists the files by reason).
	switch {
	case st.cutShort():
		why = "an earlier replacement did not finish"
	case st.has(schema.StatusGrouped) && st.has(schema.StatusFailed):
		// Its rows went into a group's inserts; the group's tokens are
		// not its own.
		why = "an earlier load in a group failed"
	case st.has(schema.StatusGrouped):
		why = "an earlier load in a group did not finish"
	case grouped:
		why = "an earlier load one file at a time did not finish, and a group's inserts do not match its"
	case st.cut == f.cut && st.has(schema.StatusLoading) && st.marks > st.ends:
		why = "an earlier load was killed, and the embedded engine with it: it may have kept an insert's " +
			"token without its rows"
	case st.cut != f.cut:
		why = "an earlier load did not finish, and cut the rows into other inserts or filled them " +
			"otherwise (batch or insert sizes, sensor, path, ports, pcapload version)"
	default:
		why = "an earlier load did not finish"
	}
	if waited > 0 {
		why += fmt.Sprintf("; this load first waited %.1f s for that load's mark to be --takeover-after old",
			waited.Seconds())
	}
	return why
}

// noteReplaced tells f's FileResult why its rows were replaced.
func noteReplaced(f File, why string) {
	if f.outcome != nil && !f.Force {
		f.outcome.replaced = why
	}
}

// noteLoaded tells f's result the path its loaded record names, when
// plan left it out for that record under another name (a file renamed or
// moved since).
func noteLoaded(f File, st fileState, err error) {
	if f.outcome != nil && errors.Is(err, ErrLoaded) && st.has(schema.StatusLoaded) && st.loadedAs != f.Path {
		f.outcome.loadedAs = st.loadedAs
	}
}

// sensorOf is the sensor f's rows and records are stored under.
func (l *Ledger) sensorOf(f File) string { return cmp.Or(f.Sensor, l.sensor) }

// Begin decides how f is loaded on its own: it returns the generation
// whose tokens the inserts carry, or ErrLoaded. A forced file, or one
// whose replacement a crash cut short, has its rows replaced first.
func (l *Ledger) Begin(ctx context.Context, f File) (uint32, error) {
	if f.Hash == "" {
		return 0, nil
	}
	sts, err := l.statesOf(ctx, []string{f.Hash})
	if err != nil {
		return 0, err
	}
	st, found := sts[f.Hash]
	g, replace, err := l.plan(st, found, f, false)
	if err != nil {
		noteLoaded(f, st, err)
		return 0, err
	}
	// Found too: a first load of the whole file that failed or was
	// interrupted left its cut copy's rows beside (a hostile run).
	if err := l.supersede(ctx, []File{f}); err != nil {
		return 0, err
	}
	files, gens := []File{f}, []uint32{g}
	if replace {
		// Forced too: a killed load's last insert may still land after
		// the delete (a hostile run: --force just after a SIGKILL stored
		// 225,000 rows of 150,000). Only unfinished marks are waited for.
		waited, err := l.waitTakeover(ctx, files, []fileState{st})
		if err != nil {
			return 0, err
		}
		if err := l.replace(ctx, files, gens, endedLoaded([]fileState{st})); err != nil {
			return 0, err
		}
		noteReplaced(f, replaceReason(st, f, false, waited))
	}
	switch {
	case !st.has(schema.StatusLoading) || replace:
		if err := l.mark(ctx, files, gens, schema.StatusLoading, l.recordToken(f.Hash, g, schema.StatusLoading)); err != nil {
			return 0, err
		}
	case st.has(schema.StatusSkipped):
		// Not a capture, found so again: no rows, no run to mark, and
		// no record to write again (see Skip).
		l.skipped.Store(f.Hash, true)
	default:
		// Run again in its generation (after a failure, or a kill), the
		// load is marked again, each run, so that a kill in this one
		// shows (see unfinished). The token is the run's: a retry of
		// this mark is dropped, the next run's is not.
		if err := l.mark(ctx, files, gens, schema.StatusLoading, l.recordToken(f.Hash, g, schema.StatusLoading)); err != nil {
			return 0, err
		}
	}
	return g, nil
}

// Group is the files of a BeginGroup that are to be loaded, and the
// generation of each.
type Group struct {
	Files       []File
	Generations []uint32
	// Token names the group's inserts: insert n carries Token:n.
	Token string

	notCapture []bool // the file is recorded as no capture: neither marked nor recorded again
}

// BeginGroup decides how files, each with a hash, are loaded together:
// loaded[i] reports the files left out (ErrLoaded), the others are in the
// group, their rows replaced first where needed, and marked grouped. It
// reads and writes the records of all of them at once: a query and up to
// four statements, where Begin takes two or more for each file.
func (l *Ledger) BeginGroup(ctx context.Context, files []File) (*Group, []bool, error) {
	hashes := make([]string, len(files))
	for i, f := range files {
		hashes[i] = f.Hash
	}
	sts, err := l.statesOf(ctx, hashes)
	if err != nil {
		return nil, nil, err
	}
	var loading []File
	for _, f := range files {
		st, found := sts[f.Hash]
		if _, _, err := l.plan(st, found, f, true); err == nil {
			loading = append(loading, f)
		}
	}
	if err := l.supersede(ctx, loading); err != nil {
		return nil, nil, err
	}
	grp := &Group{}
	loaded := make([]bool, len(files))
	var replace []File
	var replaceGens []uint32
	var replaceSts []fileState
	for i, f := range files {
		st, found := sts[f.Hash]
		g, r, err := l.plan(st, found, f, true)
		if errors.Is(err, ErrLoaded) {
			noteLoaded(f, st, err)
			loaded[i] = true
			continue
		}
		grp.Files, grp.Generations = append(grp.Files, f), append(grp.Generations, g)
		grp.notCapture = append(grp.notCapture, !f.Force && st.has(schema.StatusSkipped))
		if r {
			replace, replaceGens = append(replace, f), append(replaceGens, g)
			replaceSts = append(replaceSts, st)
		}
	}
	if len(grp.Files) == 0 {
		return grp, loaded, nil
	}
	if len(replace) > 0 {
		waited, err := l.waitTakeover(ctx, replace, replaceSts)
		if err != nil {
			return nil, nil, err
		}
		if err := l.replace(ctx, replace, replaceGens, endedLoaded(replaceSts)); err != nil {
			return nil, nil, err
		}
		for i, f := range replace {
			noteReplaced(f, replaceReason(replaceSts[i], f, true, waited))
		}
	}
	h := sha256.New()
	for i, f := range grp.Files {
		fmt.Fprintf(h, "%s:%d\n", f.Hash, grp.Generations[i])
	}
	grp.Token = fmt.Sprintf("pcapload:group:%x", h.Sum(nil)[:16])
	// A file recorded as no capture has no rows to mark: marked and
	// recorded again on every run, a README among the captures would add
	// two records a run.
	var marked []File
	var markedGens []uint32
	for i, f := range grp.Files {
		if !grp.notCapture[i] {
			marked, markedGens = append(marked, f), append(markedGens, grp.Generations[i])
		}
	}
	if len(marked) > 0 {
		if err := l.mark(ctx, marked, markedGens, schema.StatusGrouped, grp.Token+":"+schema.StatusGrouped+":"+l.run); err != nil {
			return nil, nil, err
		}
	}
	return grp, loaded, nil
}

// supersedeCandidates is how many earlier loads of a base name from
// another path supersede checks for each name, the most recent first,
// among those that may be a start of a file being loaded: by the same
// sensor, smaller, not replaced since. It bounds the bytes hashed when
// such a name comes back every day (dns.pcap in a folder a day). Loads of
// the file's own path are all checked (maxCandidates at most): a folder
// per sensor box (s1/eth0.pcap, s2/eth0.pcap, ...) has one a box.
const supersedeCandidates = 3

// maxCandidates bounds the earlier loads of a name read at all.
const maxCandidates = 256

// markOnlyMin is the least size of an earlier load known only by its
// mark (killed before it ended) that supersede considers: smaller, it
// held a file header and a few packets at most, and every capture of a
// tool starts with the same header.
const markOnlyMin = 1024

// supersede takes out the rows of earlier loads that files, new to the
// destination, grew from: a capture loaded while it was still being
// written or copied (cut short: failed; ending at a packet: loaded; or
// killed), and given again whole. Its whole content is a start of the new
// file, so the new file's rows hold all of its rows; without this the two
// loads' rows stood side by side, each message twice.
//
// Earlier loads are found by base name among the loads by the same sensor
// of a packet or more and smaller than the file, and proven to be the
// file's start by the hash of as many of its pinned bytes. Each is
// replaced in its next generation as --force would (out of the views,
// deleted), its last record superseded, naming the file that superseded
// it, before the new file is marked; a crash in the middle is finished by
// the next run, which finds the same start again. A superseded load given
// again is left out (see plan): its rows are the new file's first ones.
func (l *Ledger) supersede(ctx context.Context, files []File) error {
	// In queries of maxQueryText of names and paths, a name's files
	// together.
	byName := make(map[string][]File)
	var names []string
	for _, f := range files {
		// Of any sensor: a capture copied before its rotate sidecar was
		// loaded as "default" first, then whole as its sensor, and both
		// stayed (a hostile run). The hash of the file's start decides.
		name := filepath.Base(f.Path)
		if _, ok := byName[name]; !ok {
			names = append(names, name)
		}
		byName[name] = append(byName[name], f)
	}
	var some []File
	size := 0
	for _, name := range names {
		n := 2 * len(name)
		for _, f := range byName[name] {
			n += len(f.Hash) + len(f.Path) + 32
		}
		if size+n > maxQueryText && len(some) > 0 {
			if err := l.supersedeSome(ctx, some); err != nil {
				return err
			}
			some, size = nil, 0
		}
		some, size = append(some, byName[name]...), size+n
	}
	if len(some) == 0 {
		return nil
	}
	return l.supersedeSome(ctx, some)
}

// supersedeSome is supersede of files in one query.
func (l *Ledger) supersedeSome(ctx context.Context, files []File) error {
	// Files by base name: a group may hold several of one name.
	var names, quotedNames, quotedHashes, quotedPaths, maxSizes []string
	byName := make(map[string][]int) // indices into from
	var from []ingest.Input
	var owners []File
	for _, f := range files {
		in := f.input()
		if f.Hash == "" || in.File == nil && !regular(in.Path, &in.Size) {
			continue
		}
		// Of any sensor: a capture copied before its rotate sidecar was
		// loaded as "default" first, then whole as its sensor, and both
		// stayed (a hostile run). The hash of the file's start decides.
		name := filepath.Base(f.Path)
		if _, ok := byName[name]; !ok {
			names, quotedNames = append(names, name), append(quotedNames, schema.Quote(name))
		}
		byName[name] = append(byName[name], len(from))
		from, owners = append(from, in), append(owners, f)
		quotedHashes, quotedPaths = append(quotedHashes, schema.Quote(f.Hash)), append(quotedPaths, schema.Quote(f.Path))
	}
	if len(from) == 0 {
		return nil
	}
	for _, name := range names {
		var m int64
		for _, k := range byName[name] {
			m = max(m, from[k].Size)
		}
		maxSizes = append(maxSizes, strconv.FormatInt(m, 10))
	}
	// splitByChar, not basename: that also splits at a backslash, which
	// a name on Linux may hold.
	ended := schema.Quote(schema.StatusLoaded) + ", " + schema.Quote(schema.StatusFailed)
	marked := schema.Quote(schema.StatusLoading) + ", " + schema.Quote(schema.StatusGrouped)
	q := fmt.Sprintf("SELECT arrayStringConcat(groupArray(concat(h, ' ', toString(b), ' ', toString(i), ' ', hex(p))), ',') FROM ("+
		"SELECT file_hash AS h, indexOf([%[3]s], splitByChar('/', path)[-1]) AS i, "+
		"maxIf(bytes, status IN (%[4]s, %[5]s)) AS b, argMax(path, loaded_at) AS p, max(loaded_at) AS t, "+
		"countIf(status IN (%[4]s)) AS n, maxIf(packets, status IN (%[4]s)) AS k, "+
		"argMax(status, (generation, loaded_at)) AS last "+
		"FROM %[1]s.%[2]s WHERE splitByChar('/', path)[-1] IN (%[3]s) AND file_hash NOT IN (%[7]s) "+
		"GROUP BY h, i HAVING b > 0 AND b < arrayElement([%[8]s], i) AND last NOT IN (%[9]s, %[10]s) "+
		"AND (n > 0 AND k > 0 OR n = 0 AND b >= %[11]d) ORDER BY p IN (%[13]s) DESC, t DESC LIMIT %[12]d BY i)",
		schema.QuoteIdent(l.database), schema.FilesTable, strings.Join(quotedNames, ", "), ended, marked,
		"", strings.Join(quotedHashes, ", "), strings.Join(maxSizes, ", "),
		schema.Quote(schema.StatusReplaced), schema.Quote(schema.StatusSuperseded), markOnlyMin, maxCandidates,
		strings.Join(quotedPaths, ", "))
	out, err := l.conn.QueryString(ctx, q)
	if err != nil {
		return fmt.Errorf("read earlier loads: %w", err)
	}
	var old []File
	tried := make(map[int]int) // loads of another path checked, by name
	for item := range strings.SplitSeq(strings.TrimSpace(out), ",") {
		if item == "" {
			continue
		}
		fs := strings.Fields(item)
		if len(fs) != 4 {
			return fmt.Errorf("read earlier loads: unexpected %q", item)
		}
		size, err1 := strconv.ParseInt(fs[1], 10, 64)
		i, err2 := strconv.Atoi(fs[2])
		path, err3 := hex.DecodeString(fs[3])
		if err1 != nil || err2 != nil || err3 != nil || i < 1 || i > len(names) {
			return fmt.Errorf("read earlier loads: unexpected %q", item)
		}
		// A load of the file's own path is checked against that file; one
		// of another path, against every file of the name, up to
		// supersedeCandidates a name.
		samePath := slices.ContainsFunc(owners, func(f File) bool { return f.Path == string(path) })
		if !samePath {
			if tried[i] == supersedeCandidates {
				continue
			}
			tried[i]++
		}
		for _, k := range byName[names[i-1]] {
			if size >= from[k].Size || samePath && owners[k].Path != string(path) {
				continue
			}
			h, ok, err := ingest.HashPrefix(from[k], size)
			if err != nil || !ok || h != fs[0] {
				// Not its start, or unreadable now: the file's own
				// load fails on it if it stays so.
				continue
			}
			f := owners[k]
			old = append(old, File{Path: string(path), Hash: h, Checkpoint: f.Checkpoint, Waiting: f.Waiting,
				supersededBy: f.Hash, outcome: f.outcome})
			break
		}
	}
	if len(old) == 0 {
		return nil
	}
	hashes := make([]string, len(old))
	for i, f := range old {
		hashes[i] = f.Hash
	}
	sts, err := l.states(ctx, hashes)
	if err != nil {
		return err
	}
	var replace []File
	var gens []uint32
	var takenOver []File
	var takenOverSts []fileState
	for _, f := range old {
		st := sts[f.Hash]
		if st.cutShort() {
			// Cut short: finished in its own generation.
			replace, gens = append(replace, f), append(gens, st.generation)
			continue
		}
		replace, gens = append(replace, f), append(gens, st.generation+1)
		takenOver, takenOverSts = append(takenOver, f), append(takenOverSts, st)
	}
	if _, err := l.waitTakeover(ctx, takenOver, takenOverSts); err != nil {
		return err
	}
	// One by one, not in one replacement: the views' uncount token is of
	// the files replaced together, and a rerun after a crash between the
	// uncount and the delete, given the files in other groups, would take
	// them out of the views twice. Supersedes are few.
	for i, f := range replace {
		if err := l.replaceAs(ctx, []File{f}, gens[i:i+1], schema.StatusSuperseded, false); err != nil {
			return err
		}
		if f.outcome != nil {
			f.outcome.superseded = append(f.outcome.superseded, f.Path)
		}
	}
	return nil
}

// regular reports whether path is a regular file, setting *size to its
// length when it is.
func regular(path string, size *int64) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	*size = fi.Size()
	return true
}

// replace deletes the rows of files and records each generation gens[i]
// as replaced. Nothing of those generations is inserted before the
// replaced records, so running it again after a crash deletes no row it
// should keep. loaded says that the generation replaced of every file
// ended loaded (see uncount).
func (l *Ledger) replace(ctx context.Context, files []File, gens []uint32, loaded bool) error {
	return l.replaceAs(ctx, files, gens, schema.StatusReplaced, loaded)
}

// endedLoaded reports whether every generation of sts ended loaded.
func endedLoaded(sts []fileState) bool {
	return !slices.ContainsFunc(sts, func(st fileState) bool { return !st.has(schema.StatusLoaded) })
}

// replaceAs is replace with final as the last record's status: replaced,
// or superseded (see supersede).
func (l *Ledger) replaceAs(ctx context.Context, files []File, gens []uint32, final string, loaded bool) error {
	token := func(status string) string {
		if len(files) > 1 {
			return ""
		}
		return l.recordToken(files[0].Hash, gens[0], status)
	}
	if err := l.mark(ctx, files, gens, schema.StatusReplacing, token(schema.StatusReplacing)); err != nil {
		return err
	}
	files[0].Reached("replace", 0)

	if err := l.uncount(ctx, files, gens, loaded); err != nil {
		return err
	}
	files[0].Reached("uncounted", 0)

	// A lightweight delete masks the rows at once. Measured on the
	// embedded engine, deleting 1M rows of a merged 2M-row part: 32 ms,
	// against 1.9 s for ALTER TABLE ... DELETE with mutations_sync = 2,
	// which rewrites the part; queries afterwards cost the same.
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = schema.Quote(f.Hash)
	}
	q := fmt.Sprintf("DELETE FROM %s.%s WHERE file_hash IN (%s)",
		schema.QuoteIdent(l.database), schema.Table, strings.Join(quoted, ", "))
	if err := l.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("delete rows of replaced file: %w", err)
	}
	return l.mark(ctx, files, gens, final, token(final))
}

// uncount takes the rows of files, about to be deleted, out of the views:
// it inserts into their tables the aggregates of those rows with negated
// counts, so that the reloads' rows are counted once (first and last seen
// stay: a reload brings the same rows, the same times). One insert a
// table for all the files: the rows are found by a scan of dns_messages,
// and a scan a file made --force of 300 small files take 20 s instead of
// 2 (a new user's run).
//
// Each insert carries a token of the files and their generations, so a
// replacement run again after a crash, which finds the rows not yet
// deleted, takes them out once. The counts are UInt64: the negation wraps,
// and the sums the queries take, and the engine's merges, wrap back.
//
// loaded says that every file's generation replaced ended loaded: its
// inserts all ended, so the views count its rows as dns_messages holds
// them, and taking those out leaves them exact. A load killed inside an
// insert may have left its rows counted in part; the run that found it
// unfinished recorded a correction owed (EmbeddedSink), so beforeUncount
// need not run for the loads that ended since.
//
// TODO(views): a rerun that replaces another set of files than the
// crashed run did, after a crash between these inserts and the delete,
// takes the files of both out twice. The embedded engine's sink corrects
// that after the run (EmbeddedSink.CheckViews); on a server, a record per
// file of the uncount, written with it, would fix it.
func (l *Ledger) uncount(ctx context.Context, files []File, gens []uint32, loaded bool) error {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = schema.Quote(f.Hash)
	}
	h := sha256.New()
	for i, f := range files {
		fmt.Fprintf(h, "%s:%d\n", f.Hash, gens[i])
	}
	set := fmt.Sprintf("%x", h.Sum(nil)[:16])
	if l.beforeUncount != nil && !loaded {
		if err := l.beforeUncount(ctx, strings.Join(quoted, ", ")); err != nil {
			return err
		}
	}
	for _, v := range schema.UncountViewsSQL(l.database, strings.Join(quoted, ", ")) {
		token := "pcapload:uncount:" + set + ":" + v.Table
		if err := l.conn.Exec(ctx, fmt.Sprintf(v.SQL, schema.Quote(token))); err != nil {
			return fmt.Errorf("take replaced files out of %s: %w", v.Table, err)
		}
	}
	return nil
}

// mark writes, in one insert deduplicated by token, a record of each file
// with only a status.
func (l *Ledger) mark(ctx context.Context, files []File, gens []uint32, status, token string) error {
	recs := make([]*schema.FileRecord, len(files))
	for i, f := range files {
		// No time: the server's, by which marks are aged.
		// With the file's size, so that a load killed before its outcome
		// can be superseded (see supersede).
		recs[i] = &schema.FileRecord{Hash: f.Hash, Generation: gens[i], Path: f.Path, Sensor: l.sensorOf(f), Status: status}
		if status == schema.StatusLoading {
			// Where its load cuts the file (see schema.FilesDDL's error).
			recs[i].Error = f.cut
		}
		if f.in.File != nil && (status == schema.StatusLoading || status == schema.StatusGrouped) {
			recs[i].Bytes = uint64(f.in.Size)
		}
		if f.supersededBy != "" {
			recs[i].Error = "superseded by " + f.supersededBy + ", which it is the start of"
		}
	}
	if err := l.conn.Exec(ctx, schema.InsertRecordsSQL(l.database, token, recs)); err != nil {
		return fmt.Errorf("write %s record: %w", status, err)
	}
	return nil
}

// CheckKept makes sure that a server kept every row sent for files, whose
// generations are gens, when it started since their first mark: a server
// killed inside an insert's commit may have written the insert's token to
// its deduplication log and not renamed the part in (MergeTreeSink::
// commitPart), and the same insert sent again, by a retry or a rerun, is
// then dropped. sent is the rows the inserts of this run held, every one
// of the generation's, as a rerun sends them all again. Nothing is
// counted when the server was up all along: one query of capture_files.
//
// When rows are missing, a file of its own inserts is replaced in its next
// generation (its rows deleted), so that its next load sends them afresh;
// a group is replaced by the next run as any failed group is. Either way
// the error says so.
//
// A load without a hash (standard input) has no rows of its own to count:
// it fails when the server started since it began, which began says.
//
// TODO(ledger): rows past a --retention TTL may be gone by a merge before
// they are counted, which reads as rows missing: the file fails once, and
// its next load, marked after the restart, is not counted. Counting the
// rows by their times against the TTL would tell the two apart.
func (l *Ledger) CheckKept(ctx context.Context, files []File, gens []uint32, sent int64, began time.Time) error {
	if len(files) == 1 && files[0].Hash == "" {
		out, err := l.conn.QueryString(ctx, "SELECT toString(uptime())")
		if err != nil {
			return fmt.Errorf("check the rows kept: %w", err)
		}
		up, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			return fmt.Errorf("check the rows kept: unexpected uptime %q", out)
		}
		// In whole seconds: a restart within a second before the load
		// began counts too.
		if time.Duration(up)*time.Second >= time.Since(began) {
			return nil
		}
		return errors.New("the server restarted during the load: it may have kept an insert's deduplication token " +
			"without its rows, so rows may be missing, and a load without a hash (standard input) can be neither " +
			"counted nor replaced; the rows it kept stay under file '-'")
	}
	var keys, hashes []string
	for i, f := range files {
		keys = append(keys, fmt.Sprintf("(%s, %d)", schema.Quote(f.Hash), gens[i]))
		hashes = append(hashes, schema.Quote(f.Hash))
	}
	db := schema.QuoteIdent(l.database)
	// Both times the server's: uptime() in whole seconds, so a restart
	// within a second after the mark is counted too.
	q := fmt.Sprintf("SELECT toString(dateDiff('millisecond', min(loaded_at), now64(3, 'UTC')) > uptime() * 1000) "+
		"FROM %s.%s WHERE (file_hash, generation) IN (%s) AND status IN (%s, %s)",
		db, schema.FilesTable, strings.Join(keys, ", "), schema.Quote(schema.StatusLoading), schema.Quote(schema.StatusGrouped))
	restarted, err := l.conn.QueryString(ctx, q)
	if err != nil {
		return fmt.Errorf("check the rows kept: %w", err)
	}
	if strings.TrimSpace(restarted) != "1" {
		return nil
	}
	out, err := l.conn.QueryString(ctx, fmt.Sprintf("SELECT toString(count()) FROM %s.%s WHERE file_hash IN (%s)",
		db, schema.Table, strings.Join(hashes, ", ")))
	if err != nil {
		return fmt.Errorf("check the rows kept: %w", err)
	}
	kept, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return fmt.Errorf("check the rows kept: unexpected %q", out)
	}
	if kept == sent {
		return nil
	}
	what := "the group is loaded afresh by the next run"
	if len(files) == 1 {
		if err := l.replace(ctx, files, []uint32{gens[0] + 1}, false); err != nil {
			return fmt.Errorf("the server kept %d of the %d rows sent, and replacing them failed: %w", kept, sent, err)
		}
		what = "its rows are deleted, and the next run loads it afresh"
	}
	return fmt.Errorf("the server restarted during the load and kept %d of the %d rows sent: it kept an insert's "+
		"deduplication token without its rows; %s (the views may count the lost rows: run pcapload schema "+
		"rebuild-views once it is loaded)", kept, sent, what)
}

// Commit writes the file's load record, after its last insert.
func (l *Ledger) Commit(ctx context.Context, f File, g uint32, st *ingest.FileStats) error {
	f.Reached("record", 0)
	rec := FileRecord(st, l.sensorOf(f))
	rec.Generation = g
	if err := l.conn.Exec(ctx, rec.InsertSQL(l.database, l.recordToken(f.Hash, g, rec.Status))); err != nil {
		return fmt.Errorf("write load record: %w", err)
	}
	f.Reached("recorded", 0)
	if errors.Is(st.Err, ingest.ErrUnread) {
		return l.takeOut(ctx, []File{f}, []uint32{g})
	}
	return nil
}

// takeOut replaces away the rows of files, each loaded in generation
// gens[i], whose bytes hashed could not all be read (ingest.ErrUnread):
// cut while they loaded, or a read failed. Their rows are not those of
// their hash, and a rerun would not cut its inserts the same way: the
// last one, short, shares its token with the rerun's whole one, which the
// engine then dropped (a new user lost 34,000 rows so), or held other
// rows. Replaced in the next generation, the file loads afresh when it
// comes back whole, under new tokens, and a file that stays cut has
// another hash and leaves none of these rows behind.
func (l *Ledger) takeOut(ctx context.Context, files []File, gens []uint32) error {
	next := make([]uint32, len(gens))
	for i, g := range gens {
		next[i] = g + 1
	}
	if err := l.replace(ctx, files, next, false); err != nil {
		return fmt.Errorf("take out the rows of a file cut while it loaded: %w", err)
	}
	return nil
}

// Skip records f, begun on its own in generation g, as not a capture,
// unless Begin found it recorded so: a folder's README would add a record
// a run otherwise. The record's token is the run's, as every record's: one
// an engine lost, its token kept, is written again by the next run.
func (l *Ledger) Skip(ctx context.Context, f File, g uint32) error {
	if f.Hash == "" {
		return nil
	}
	if _, ok := l.skipped.Load(f.Hash); ok {
		return nil
	}
	rec := l.skippedRecord(f, g)
	if err := l.conn.Exec(ctx, rec.InsertSQL(l.database, l.recordToken(f.Hash, g, rec.Status))); err != nil {
		return fmt.Errorf("write load record: %w", err)
	}
	return nil
}

func (l *Ledger) skippedRecord(f File, g uint32) *schema.FileRecord {
	return &schema.FileRecord{Hash: f.Hash, Generation: g, Path: f.Path, Sensor: l.sensorOf(f),
		Status: schema.StatusSkipped, Error: "not a capture file", LoadedAt: time.Now()}
}

// Unfinished lists, by path, up to 100 files whose latest generation's
// load began and did not end, or was killed and has not been sent whole
// since (see unfinished): a load that crashed left some of their rows,
// maybe without their counts in the views, or one is loading them now. A
// run that is given them again completes them; one that is not, because
// they were moved away or changed, can only say so.
func (l *Ledger) Unfinished(ctx context.Context) ([]string, error) {
	db := schema.QuoteIdent(l.database)
	// The candidates, in SQL: no loaded or skipped record, and a mark
	// with no failure, or more loading marks than failures (a run
	// killed); every failed file's records, read on each run, would grow
	// with the runs. A superseded generation is loaded again in itself
	// when the file that superseded it is not loaded (plan), so its later
	// marks count too (a hostile run). Their records go to unfinished for
	// the order, the path in hex (it may hold any byte), all on one line
	// (the HTTP interface's answer was read to its first, a hostile run).
	q := fmt.Sprintf("SELECT arrayStringConcat(groupArray(r), ',') FROM ("+
		"SELECT concat(hex(any(path)), ' ', arrayStringConcat(groupArray(concat(toString(toUnixTimestamp64Milli(loaded_at)), "+
		"':', status, ':', toString(endsWith(error, %[9]s)))), ' ')) AS r FROM %[1]s.%[2]s WHERE (file_hash, generation) IN "+
		"(SELECT file_hash, max(generation) FROM %[1]s.%[2]s GROUP BY file_hash) GROUP BY file_hash "+
		"HAVING countIf(status IN (%[5]s, %[7]s)) = 0 AND "+
		"(countIf(status IN (%[3]s, %[4]s, %[8]s)) > 0 AND countIf(status = %[6]s) = 0 "+
		"OR countIf(status = %[3]s) > countIf(status = %[6]s)) ORDER BY any(path))",
		db, schema.FilesTable, schema.Quote(schema.StatusLoading), schema.Quote(schema.StatusGrouped),
		schema.Quote(schema.StatusLoaded), schema.Quote(schema.StatusFailed), schema.Quote(schema.StatusSkipped),
		schema.Quote(schema.StatusReplacing), schema.Quote(": "+ingest.ErrCancelled.Error()))
	out, err := l.conn.QueryString(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list unfinished loads: %w", err)
	}
	if out = strings.TrimSpace(out); out == "" {
		return nil, nil
	}
	var paths []string
	for item := range strings.SplitSeq(out, ",") {
		f := strings.Fields(item)
		if len(f) < 2 {
			return nil, fmt.Errorf("list unfinished loads: unexpected %q", item)
		}
		p, err := hex.DecodeString(f[0])
		if err != nil {
			return nil, fmt.Errorf("list unfinished loads: unexpected %q", item)
		}
		recs := make([]genRecord, len(f)-1)
		for i, r := range f[1:] {
			ms, rest, ok1 := strings.Cut(r, ":")
			status, cancelled, ok2 := strings.Cut(rest, ":")
			t, err := strconv.ParseInt(ms, 10, 64)
			if !ok1 || !ok2 || err != nil {
				return nil, fmt.Errorf("list unfinished loads: unexpected %q", r)
			}
			recs[i] = genRecord{ms: t, status: status, cancelled: cancelled == "1"}
		}
		if unfinished(recs) && len(paths) < 100 {
			paths = append(paths, string(p))
		}
	}
	return paths, nil
}

// genRecord is one load record of a generation, as unfinished reads it.
type genRecord struct {
	ms        int64 // loaded_at, in milliseconds
	status    string
	cancelled bool // a failure by an interrupt (ingest.ErrCancelled)
}

// unfinished reports whether the records of a generation leave its load
// unfinished. Every run of a generation marks it (Begin), so a mark that
// follows another with no outcome between is a run killed: one inside an
// insert may have left rows the views do not count. Only a run that sent
// every insert again fills that gap, the views counting what they lack:
// one that ended loaded, or failed for the file's bytes, whose rerun fails
// at the same place. A run interrupted may have stopped before the insert
// cut, so its failure leaves the gap. Until filled, no correction of the
// views may run: it would count those rows, and the rerun, sending the
// insert again, count them a second time (a hostile run). A replacement
// begun is unfinished until it ends, replaced or superseded: a file cut
// while it loaded ends so, and the path may never hold its bytes again (a
// hostile run).
//
// TODO(clock): on a server, marks carry the server's time and outcomes
// the loader's (FileRecord); clocks skewed by more than the time between
// two runs of a file misorder them. Outcomes taking the server's time,
// loaded_at's default, would fix it.
func unfinished(recs []genRecord) bool {
	// In time, and in one millisecond, in the order a run writes them.
	rank := func(status string) int {
		switch status {
		case schema.StatusReplacing:
			return 0
		case schema.StatusReplaced, schema.StatusSuperseded:
			return 1
		case schema.StatusLoading, schema.StatusGrouped:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(recs, func(a, b genRecord) int {
		return cmp.Or(cmp.Compare(a.ms, b.ms), cmp.Compare(rank(a.status), rank(b.status)))
	})
	var replacing, open, killed bool
	for _, r := range recs {
		switch r.status {
		case schema.StatusReplacing:
			replacing = true
		case schema.StatusReplaced, schema.StatusSuperseded:
			replacing = false
		case schema.StatusLoading, schema.StatusGrouped:
			replacing, killed, open = false, killed || open, true
		case schema.StatusLoaded, schema.StatusSkipped:
			open, killed = false, false
		case schema.StatusFailed:
			open, killed = false, killed && r.cancelled
		}
	}
	return replacing || open || killed
}

// CommitGroup writes the load records of a group's files in one insert,
// after the group's last insert: stats[i] is the accounting of g.Files[i],
// nil for a file found not to be a capture, recorded as skipped.
func (l *Ledger) CommitGroup(ctx context.Context, g *Group, stats []*ingest.FileStats) error {
	var recs []*schema.FileRecord
	for i, st := range stats {
		if st == nil {
			if g.notCapture[i] {
				continue
			}
			recs = append(recs, l.skippedRecord(g.Files[i], g.Generations[i]))
			continue
		}
		rec := FileRecord(st, l.sensorOf(g.Files[i]))
		rec.Generation = g.Generations[i]
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil
	}
	g.Files[0].Reached("record", 0)
	if err := l.conn.Exec(ctx, schema.InsertRecordsSQL(l.database, g.Token+":records:"+l.run, recs)); err != nil {
		return fmt.Errorf("write load records: %w", err)
	}
	g.Files[0].Reached("recorded", 0)
	var unread []File
	var gens []uint32
	for i, st := range stats {
		if st != nil && errors.Is(st.Err, ingest.ErrUnread) {
			unread, gens = append(unread, g.Files[i]), append(gens, g.Generations[i])
		}
	}
	if len(unread) > 0 {
		return l.takeOut(ctx, unread, gens)
	}
	return nil
}

// TokenPrefix is what the tokens of a file's own inserts begin with;
// InsertToken(TokenPrefix(hash, g), n) is Token(hash, g, n). Standard
// input, which has no hash, gets a prefix of its own each load: its
// inserts went without a token, and the engine, deduplicating them by
// their bytes, dropped a stream loaded a second time, which the summary
// and the load records said was stored twice (a new user's run). A retry
// within the load still repeats its tokens.
func TokenPrefix(hash string, generation uint32) string {
	if hash == "" {
		return "pcapload:stdin:" + rand.Text()
	}
	return fmt.Sprintf("pcapload:%s:%d", hash, generation)
}

// InsertToken is the token of insert n of a file or group whose tokens
// begin with prefix; empty, for no token, when prefix is.
func InsertToken(prefix string, n int) string {
	if prefix == "" {
		return ""
	}
	return prefix + ":" + strconv.Itoa(n)
}

// Token is the deduplication token of a file's insert: seq is the
// insert's sequence number, or a record's status. It is empty for a file
// without a hash (standard input), which is then inserted without one.
func Token(hash string, generation uint32, seq any) string {
	if hash == "" {
		return ""
	}
	return fmt.Sprintf("pcapload:%s:%d:%v", hash, generation, seq)
}

// FileRecord turns a file's accounting into its load record.
func FileRecord(st *ingest.FileStats, sensor string) *schema.FileRecord {
	rec := &schema.FileRecord{
		Hash: st.Hash, Path: st.Path, Sensor: sensor, Format: st.Format, Compression: st.Compression,
		Bytes: uint64(st.Bytes), Packets: st.Packets, Messages: st.Messages(),
		Malformed: st.Malformed, Snapped: st.Snapped, Reasons: st.Reasons.Map(),
		First: st.First, Last: st.Last, Status: schema.StatusLoaded, LoadedAt: time.Now(),
	}
	if st.Err != nil {
		rec.Status, rec.Error = schema.StatusFailed, st.Err.Error()
	}
	return rec
}
