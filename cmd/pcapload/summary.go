package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/ingest/packet"
	"github.com/pcapload/pcapload/load"
)

// summary is what a load did, as printed at the end and with --json.
type summary struct {
	Files        int `json:"files"`
	FilesLoaded  int `json:"files_loaded"`
	FilesFailed  int `json:"files_failed"`
	FilesSkipped int `json:"files_skipped"`
	// AlreadyLoaded counts, by destination, the loaded files it already
	// held and was left out of: loaded counts a file that any
	// destination took.
	AlreadyLoaded map[string]uint64 `json:"already_loaded"`
	// FailedIn counts, by destination, the files that failed there. Rows
	// counts none of their rows there; rows a failed file sent
	// before its failure may be stored, and are completed, not added to,
	// by the next run.
	FailedIn map[string]uint64 `json:"failed_in"`
	// Interrupted counts the files a signal stopped. Rows counts none of
	// their rows, but a database keeps their inserts that ended.
	Interrupted int               `json:"files_interrupted"`
	Bytes       int64             `json:"bytes"`
	Packets     uint64            `json:"packets"`
	Reasons     map[string]uint64 `json:"packets_by_reason"`
	Messages    uint64            `json:"dns_messages"`
	Malformed   uint64            `json:"malformed"`
	Snapped     uint64            `json:"snapped"`
	Rows        map[string]uint64 `json:"rows"`
	Reassembly  reassembly        `json:"reassembly"`
	Seconds     float64           `json:"seconds"`
	Rate        float64           `json:"messages_per_second"`
	Errors      []string          `json:"errors"`
	Notes       []string          `json:"notes"`
	PerFile     []fileSummary     `json:"per_file"`

	errPaths     []string                 // the file of each of Errors; "" for a destination's own
	replaced     map[replacedKey][]string // paths by destination and reason (fileSummary.Replaced)
	failedUnsent map[string]uint64        // of FailedIn, the files none of whose rows was sent
	failedStdin  map[string]uint64        // of FailedIn, loads without a hash (standard input)
}

type replacedKey struct{ sink, why string }

type fileSummary struct {
	Path string `json:"path"`
	// Status is loaded, failed, interrupted (a signal stopped it) or
	// skipped, and Skipped says why a file was skipped: already loaded,
	// the same content as another, not a capture, still being written.
	Status      string            `json:"status"`
	Skipped     string            `json:"skipped,omitempty"`
	Sensor      string            `json:"sensor,omitempty"`
	Format      string            `json:"format,omitempty"`
	Compression string            `json:"compression,omitempty"`
	Packets     uint64            `json:"packets"`
	Reasons     map[string]uint64 `json:"packets_by_reason"`
	Messages    uint64            `json:"dns_messages"`
	Malformed   uint64            `json:"malformed"`
	Rows        map[string]uint64 `json:"rows"`
	Reassembly  reassembly        `json:"reassembly"`
	KernelDrops uint64            `json:"kernel_drops"` // from rotate's sidecar: packets never captured
	// UnsupportedLinks names the link types of the packets counted as
	// unsupported_link.
	UnsupportedLinks []string `json:"unsupported_links,omitempty"`
	// Superseded lists, by destination, the earlier loads of a start of
	// this file (a capture loaded while still being written) whose rows
	// it replaced there.
	Superseded map[string][]string `json:"superseded,omitempty"`
	// Replaced says, by destination, why the rows an earlier load left
	// of the file were replaced there though not forced.
	Replaced map[string]string `json:"replaced,omitempty"`
	Error    string            `json:"error,omitempty"`
}

// reassembly is what became of fragmented datagrams, TCP streams and
// query/response pairs in a file.
type reassembly struct {
	Fragments fragmentSummary `json:"ip_fragments"`
	TCP       tcpSummary      `json:"tcp"`
	Pairs     pairSummary     `json:"pairs"`
}

type fragmentSummary struct {
	Reassembled  uint64 `json:"reassembled"`
	Inconsistent uint64 `json:"dropped_inconsistent"`
	Expired      uint64 `json:"never_completed"`
}

type tcpSummary struct {
	Segments   uint64 `json:"segments"`
	Messages   uint64 `json:"messages"`
	Gaps       uint64 `json:"gaps"`
	Resyncs    uint64 `json:"resyncs"`
	Incomplete uint64 `json:"incomplete_messages"`
	// Skipped counts stream bytes dropped where no message boundary was
	// known: a stream begun in an earlier file, past a gap. Messages lost
	// so were said nowhere (a hostile run).
	Skipped uint64 `json:"skipped_bytes"`
}

type pairSummary struct {
	Paired      uint64 `json:"paired"`
	Unanswered  uint64 `json:"unanswered"`
	Unsolicited uint64 `json:"unsolicited"`
	Evicted     uint64 `json:"evicted"` // of the unanswered, those reported early, past the held queries' bound
}

func (r *reassembly) add(o reassembly) {
	r.Fragments.Reassembled += o.Fragments.Reassembled
	r.Fragments.Inconsistent += o.Fragments.Inconsistent
	r.Fragments.Expired += o.Fragments.Expired
	r.TCP.Segments += o.TCP.Segments
	r.TCP.Messages += o.TCP.Messages
	r.TCP.Gaps += o.TCP.Gaps
	r.TCP.Resyncs += o.TCP.Resyncs
	r.TCP.Incomplete += o.TCP.Incomplete
	r.TCP.Skipped += o.TCP.Skipped
	r.Pairs.Paired += o.Pairs.Paired
	r.Pairs.Unanswered += o.Pairs.Unanswered
	r.Pairs.Unsolicited += o.Pairs.Unsolicited
	r.Pairs.Evicted += o.Pairs.Evicted
}

func reassemblyOf(st *ingest.FileStats) reassembly {
	return reassembly{
		Fragments: fragmentSummary{st.Fragments.Reassembled, st.Fragments.Inconsistent, st.Fragments.Expired},
		TCP: tcpSummary{st.TCP.Segments, st.TCP.Messages, st.TCP.Gaps, st.TCP.Resyncs,
			st.TCP.Incomplete, st.TCP.SkippedBytes},
		Pairs: pairSummary{st.Pairs.Paired, st.Pairs.Unanswered, st.Pairs.Unsolicited, st.Pairs.Evicted},
	}
}

func summarize(res *load.Result, skipped []ingest.Skipped, sinks []load.Sink) *summary {
	s := &summary{
		Files:         len(res.Files),
		FilesSkipped:  len(skipped),
		Rows:          make(map[string]uint64),
		AlreadyLoaded: make(map[string]uint64),
		FailedIn:      make(map[string]uint64),
		Errors:        []string{},
		Notes:         []string{},
		PerFile:       []fileSummary{},
		replaced:      make(map[replacedKey][]string),
		failedUnsent:  make(map[string]uint64),
		failedStdin:   make(map[string]uint64),
		Seconds:       res.Duration.Seconds(),
	}
	for _, sk := range sinks {
		s.Rows[sk.Name()] = 0
	}
	for _, sk := range skipped {
		s.Notes = append(s.Notes, fmt.Sprintf("skipped %s: %s", sk.Path, sk.Reason))
	}
	var reasons packet.Counts
	for i := range res.Files {
		s.addFile(&res.Files[i], &reasons)
	}
	for _, sk := range skipped {
		s.PerFile = append(s.PerFile, skippedFile(sk.Path, sk.Reason))
	}
	for _, k := range slices.SortedFunc(maps.Keys(s.replaced), func(a, b replacedKey) int {
		return strings.Compare(a.sink+a.why, b.sink+b.why)
	}) {
		paths := s.replaced[k]
		s.Notes = append(s.Notes, fmt.Sprintf("%s: replaced the rows of %s, as %s: %s", k.sink,
			plural(uint64(len(paths)), "file"), k.why, someOf(paths)))
	}
	for name, paths := range res.Unfinished {
		s.Notes = append(s.Notes, fmt.Sprintf("%s: files whose load began and did not end (rows of them may be "+
			"stored; load them again to complete them), or that another load is loading: %s",
			name, strings.Join(paths, ", ")))
	}
	for _, name := range slices.Sorted(maps.Keys(res.Notes)) {
		s.Notes = append(s.Notes, name+": "+res.Notes[name])
	}
	for _, name := range sortedKeys(s.FailedIn) {
		then := "rows sent before the failure may be stored: load them again to complete them"
		switch {
		case strings.HasPrefix(name, "parquet:"):
			then = "an export writes no file of them: load them again"
		case s.failedUnsent[name] == s.FailedIn[name]:
			then = "it failed as they began, and none of their rows was sent: load them again"
		case s.failedStdin[name] > 0:
			// A new user loaded the capture again by its path, as told,
			// and stored its rows twice.
			then = "rows sent before the failure may be stored; those of standard input stay under file '-' " +
				"with no hash, so loading the same capture again stores them twice unless they are deleted first"
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s: rows count none of the %d files that failed there; %s",
			name, s.FailedIn[name], then))
	}
	if s.Interrupted > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("interrupted: rows count none of the %s stopped; a database "+
			"keeps their inserts that ended (a Parquet export writes nothing of them): load them again to "+
			"complete them", plural(uint64(s.Interrupted), "file")))
	}
	for name, err := range res.CloseErr {
		s.Errors = append(s.Errors, fmt.Sprintf("%s: %v", name, err))
		s.errPaths = append(s.errPaths, "")
	}
	s.Reasons = reasons.Map()
	if s.Seconds > 0 {
		s.Rate = float64(s.Messages) / s.Seconds
	}
	return s
}

// addFile adds one file's outcome to the summary and its packet reasons
// to reasons.
func (s *summary) addFile(f *load.FileResult, reasons *packet.Counts) {
	st := &f.Stats
	if f.Skipped != "" {
		s.Files--
		s.FilesSkipped++
		s.Notes = append(s.Notes, fmt.Sprintf("skipped %s: %s", st.Path, f.Skipped))
		s.PerFile = append(s.PerFile, skippedFile(st.Path, f.Skipped))
		return
	}
	loadedAs := f.LoadedAs()
	for _, name := range f.Loaded {
		as := ""
		if p := loadedAs[name]; p != "" {
			as = " as " + p
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s: already loaded in %s%s", st.Path, name, as))
		s.AlreadyLoaded[name]++
	}
	s.Bytes += st.Bytes
	s.Packets += st.Packets
	reasons.Add(&st.Reasons)
	s.Messages += st.Messages()
	s.Malformed += st.Malformed
	s.Snapped += st.Snapped
	for k, v := range f.Rows {
		s.Rows[k] += v
	}
	var links []string
	for _, l := range st.UnsupportedLinks {
		links = append(links, l.String())
	}
	if n := st.Reasons[packet.LinkUnsupported]; n > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%s: %s on a link type pcapload does not decode (%s)",
			st.Path, plural(n, "packet"), strings.Join(links, ", ")))
	}
	superseded := f.Superseded()
	for _, name := range slices.Sorted(maps.Keys(superseded)) {
		then := "those rows are replaced by this load's"
		if f.Failed() {
			then = "those rows are taken out, and this load failed: load it again"
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s: supersedes in %s its start, loaded earlier while still being written "+
			"(as %s): %s", st.Path, name, strings.Join(superseded[name], ", "), then))
	}
	rows := f.Rows
	if rows == nil {
		rows = map[string]uint64{} // a file that failed before any destination: none
	}
	fs := fileSummary{Path: st.Path, Sensor: st.Sensor, Format: st.Format, Compression: st.Compression,
		Packets: st.Packets, Reasons: st.Reasons.Map(), Messages: st.Messages(),
		Malformed: st.Malformed, Rows: rows, Reassembly: reassemblyOf(st),
		KernelDrops: st.KernelDrops, UnsupportedLinks: links, Superseded: superseded, Replaced: f.Replaced()}
	for name, why := range fs.Replaced {
		k := replacedKey{name, why}
		s.replaced[k] = append(s.replaced[k], st.Path)
	}
	s.Reassembly.add(fs.Reassembly)
	for name, err := range f.SinkErrs {
		s.FailedIn[name]++
		if load.SentNothing(err) {
			s.failedUnsent[name]++
		} else if st.Hash == "" {
			s.failedStdin[name]++
		}
	}
	fs.Status = "loaded"
	if f.Failed() {
		s.FilesFailed++
		fs.Status, fs.Error = "failed", s.fileErrors(f)
	} else {
		s.FilesLoaded++
	}
	if errors.Is(st.Err, ingest.ErrCancelled) {
		s.Interrupted++
		fs.Status = "interrupted"
	}
	s.PerFile = append(s.PerFile, fs)
}

// skippedFile is the per-file summary of a file left out, and why: a
// script reading --json finds every file it named under per_file (a new
// user's found a file already loaded in the notes alone).
func skippedFile(path, why string) fileSummary {
	return fileSummary{Path: path, Status: "skipped", Skipped: why,
		Reasons: map[string]uint64{}, Rows: map[string]uint64{}}
}

// fileErrors appends a file's errors to s.Errors, one line each, and
// returns them joined.
func (s *summary) fileErrors(f *load.FileResult) string {
	var msgs []string
	if f.Stats.Err != nil {
		msgs = append(msgs, f.Stats.Err.Error())
	}
	names := make([]string, 0, len(f.SinkErrs))
	for n := range f.SinkErrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		msgs = append(msgs, fmt.Sprintf("%s: %s: %v", f.Stats.Path, n, f.SinkErrs[n]))
	}
	s.Errors = append(s.Errors, msgs...)
	for range msgs {
		s.errPaths = append(s.errPaths, f.Stats.Path)
	}
	return strings.Join(msgs, "; ")
}

// errorLines are the Errors as printed: one line for the files that
// failed with one error (a server down fails a thousand files alike),
// naming the first of them; --json lists every file's.
func (s *summary) errorLines() []string {
	type line struct {
		text  string
		paths []string // the files that failed so; none for a destination's error
	}
	var lines []*line
	byText := make(map[string]*line) // a file's error without its name
	for i, msg := range s.Errors {
		path := s.errPaths[i]
		rest, ok := strings.CutPrefix(msg, path+": ")
		if path == "" || !ok {
			lines = append(lines, &line{text: msg})
			continue
		}
		l := byText[rest]
		if l == nil {
			l = &line{text: rest}
			byText[rest] = l
			lines = append(lines, l)
		}
		l.paths = append(l.paths, path)
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		switch len(l.paths) {
		case 0:
			out[i] = l.text
		case 1:
			out[i] = l.paths[0] + ": " + l.text
		default:
			out[i] = fmt.Sprintf("%d files (%s): %s", len(l.paths), someOf(l.paths), l.text)
		}
	}
	return out
}

func (s *summary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func (s *summary) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "files\t%d loaded, %d failed", s.FilesLoaded, s.FilesFailed)
	if s.Interrupted > 0 {
		fmt.Fprintf(tw, " (%d interrupted)", s.Interrupted)
	}
	fmt.Fprintf(tw, ", %d skipped", s.FilesSkipped)
	if len(s.AlreadyLoaded) > 0 {
		fmt.Fprintf(tw, "; of them already loaded in %s", formatCounts(s.AlreadyLoaded))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "packets\t%d\t%s\n", s.Packets, formatCounts(s.Reasons))
	fmt.Fprintf(tw, "dns messages\t%d\tmalformed %d, snapped %d\n", s.Messages, s.Malformed, s.Snapped)
	r := &s.Reassembly
	fmt.Fprintf(tw, "reassembly\t\tfragmented datagrams %d (dropped %d, never completed %d); "+
		"tcp messages %d (gaps %d, incomplete %d, bytes skipped %d)\n", r.Fragments.Reassembled, r.Fragments.Inconsistent,
		r.Fragments.Expired, r.TCP.Messages, r.TCP.Gaps, r.TCP.Incomplete, r.TCP.Skipped)
	fmt.Fprintf(tw, "pairs\t\tpaired %d, unanswered queries %d, unsolicited responses %d",
		r.Pairs.Paired, r.Pairs.Unanswered, r.Pairs.Unsolicited)
	if r.Pairs.Evicted > 0 {
		fmt.Fprintf(tw, "; evicted %d (unanswered early, the waiting queries, or all the decoder holds, at their memory bound)",
			r.Pairs.Evicted)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "rows\t\t%s", formatCounts(s.Rows))
	if len(s.FailedIn) > 0 {
		fmt.Fprintf(tw, "; files failed in %s", formatCounts(s.FailedIn))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "time\t%.2fs\t%.0f messages/s\n", s.Seconds, s.Rate)
	tw.Flush()
}

// formatCounts prints counts as "name n, name n" in name order.
func formatCounts(m map[string]uint64) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// plural says n things: "1 packet", "2 packets".
func plural(n uint64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// sensorNotes tells of the files rotate wrote for another sensor than the
// one they were loaded as: the rows say sensor, and a load of rotate's
// files without --sensor stored them as "default" (a new user's run).
func sensorNotes(res *load.Result, sensor string) []string {
	bySensor := make(map[string][]string)
	for i := range res.Files {
		st := &res.Files[i].Stats
		if st.SidecarSensor != "" && st.SidecarSensor != sensor {
			bySensor[st.SidecarSensor] = append(bySensor[st.SidecarSensor], st.Path)
		}
	}
	var notes []string
	for _, other := range slices.Sorted(maps.Keys(bySensor)) {
		paths := bySensor[other]
		notes = append(notes, fmt.Sprintf("%s written by rotate for sensor %q, loaded as sensor %q (--sensor): %s",
			plural(uint64(len(paths)), "file"), other, sensor, someOf(paths)))
	}
	return notes
}

// someOf lists the first three paths, and how many more there are.
func someOf(paths []string) string {
	list := strings.Join(paths[:min(len(paths), 3)], ", ")
	if len(paths) > 3 {
		list += fmt.Sprintf(" and %d more", len(paths)-3)
	}
	return list
}
