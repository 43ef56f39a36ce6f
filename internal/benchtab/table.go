package benchtab

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Table is what Run measured.
type Table struct {
	Command   string // the command line that ran the bench
	Cores     int
	CPU       string // the processor's model name
	OS        string // GOOS/GOARCH
	Version   string // what `pcapload version` printed
	Tshark    string // what `tshark --version` printed first; empty without tshark
	TsharkMax int    // the largest capture tshark ran on, in packets
	Runs      int    // runs of each stage; the rows hold their medians
	Rows      []Row
}

// Row is one stage on one input: the medians of its runs, each figure
// taken on its own.
type Row struct {
	Input    string // the input's name
	Packets  uint64
	Messages uint64
	Bytes    int64  // size of the input on disk
	Stage    string // tshark, null, parquet, db, server or db+parquet
	Runs     int    // runs measured; 0 when the stage did not run

	Wall float64 // seconds
	CPU  float64 // the child's CPU seconds
	RSS  float64 // the child's peak resident memory, MiB

	// ServerCPU and ServerRSS are the server's over the load, in the
	// server stage.
	ServerCPU, ServerRSS float64

	Out float64 // bytes of Parquet written, in the parquet and db+parquet stages

	// VsTshark is the stage's messages/s over tshark's on the same input;
	// 0 when tshark did not run on it.
	VsTshark float64

	// VsPlainWall and VsPlainCPU compare a compressed input with its plain
	// copy, in the same stage: its wall and CPU time over the plain one's,
	// the median of each run's over the plain run's beside it when they
	// alternated (setPaired), else of the medians.
	VsPlainWall, VsPlainCPU float64

	plain string // the plain input's name, for a compressed copy
}

// Rate returns the messages loaded per second of wall time.
func (r *Row) Rate() float64 { return ratio(float64(r.Messages), r.Wall) }

// TotalCPU returns the CPU seconds of the loader and, in the server stage,
// the server.
func (r *Row) TotalCPU() float64 { return r.CPU + r.ServerCPU }

// CPURate returns the messages loaded per CPU-second, the server's
// included.
func (r *Row) CPURate() float64 { return ratio(float64(r.Messages), r.TotalCPU()) }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// set fills the row with the medians of samples.
func (r *Row) set(samples []sample) {
	r.Runs = len(samples)
	pick := func(f func(*sample) float64) float64 {
		xs := make([]float64, len(samples))
		for i := range samples {
			xs[i] = f(&samples[i])
		}
		return median(xs)
	}
	r.Wall = pick(func(s *sample) float64 { return s.Wall })
	r.CPU = pick(func(s *sample) float64 { return s.CPU })
	r.RSS = pick(func(s *sample) float64 { return s.RSS })
	r.ServerCPU = pick(func(s *sample) float64 { return s.ServerCPU })
	r.ServerRSS = pick(func(s *sample) float64 { return s.ServerRSS })
	r.Out = pick(func(s *sample) float64 { return s.Out })
}

// setPaired sets r from samples, and its comparison with the plain copy
// from plain, run i of each made one right after the other: the median of
// the runs' ratios rather than the ratio of the medians, which takes in
// the machine's drift between runs (in one make bench, a zstd copy's 1.35,
// 1.14 and 1.18 times the plain file's Parquet time gave 1.30).
func (r *Row) setPaired(samples, plain []sample) {
	r.set(samples)
	var walls, cpus []float64
	for i := range min(len(samples), len(plain)) {
		s, p := &samples[i], &plain[i]
		walls = append(walls, ratio(s.Wall, p.Wall))
		cpus = append(cpus, ratio(s.CPU+s.ServerCPU, p.CPU+p.ServerCPU))
	}
	r.VsPlainWall, r.VsPlainCPU = median(walls), median(cpus)
}

// median returns the middle value of xs, the mean of the middle two for
// an even count, 0 for none. It does not reorder xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 0 {
		return (s[m-1] + s[m]) / 2
	}
	return s[m]
}

// compare sets each row's comparisons with tshark and with the plain copy.
func (t *Table) compare() {
	find := func(input, stage string) *Row {
		for i := range t.Rows {
			if r := &t.Rows[i]; r.Input == input && r.Stage == stage && r.Runs > 0 {
				return r
			}
		}
		return nil
	}
	for i := range t.Rows {
		r := &t.Rows[i]
		if ts := find(r.Input, "tshark"); ts != nil && r.Runs > 0 {
			r.VsTshark = ratio(r.Rate(), ts.Rate())
		}
		if p := find(r.plain, r.Stage); r.plain != "" && p != nil && r.VsPlainWall == 0 {
			r.VsPlainWall, r.VsPlainCPU = ratio(r.Wall, p.Wall), ratio(r.TotalCPU(), p.TotalCPU())
		}
	}
}

// WriteMarkdown prints the table with a header saying how it was made and
// notes saying how to read it.
func (t *Table) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## pcapload end to end\n\n")
	fmt.Fprintf(&b, "- command: `%s`\n", t.Command)
	fmt.Fprintf(&b, "- machine: %d cores, %s, %s\n", t.Cores, orUnknown(t.CPU), t.OS)
	fmt.Fprintf(&b, "- pcapload: %s; tshark: %s\n", t.Version, orUnknown(t.Tshark))
	if t.Runs == 1 {
		b.WriteString("- figures: one run each\n\n")
	} else {
		fmt.Fprintf(&b, "- figures: medians of %d runs (fewer where the notes say), "+
			"each figure on its own\n\n", t.Runs)
	}
	b.WriteString("| input | packets | messages | stage | wall s | msgs/s | CPU s | msgs/CPU-s " +
		"| peak MiB | × tshark | notes |\n")
	b.WriteString("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for i := range t.Rows {
		t.Rows[i].writeMarkdown(&b, t)
	}
	b.WriteString("\n")
	t.writeNotes(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Row) writeMarkdown(b *strings.Builder, t *Table) {
	fmt.Fprintf(b, "| %s | %s | %s | %s ", r.Input, count(r.Packets), count(r.Messages), r.Stage)
	if r.Runs == 0 {
		fmt.Fprintf(b, "| - | - | - | - | - | - | not run: over %s packets |\n",
			count(uint64(t.TsharkMax)))
		return
	}
	fmt.Fprintf(b, "| %.2f | %s | %.2f | %s | %.0f | %s | %s |\n", r.Wall, count(uint64(r.Rate())),
		r.TotalCPU(), count(uint64(r.CPURate())), r.RSS, times(r.VsTshark), r.notes(t.Runs))
}

// notes says what the columns do not.
func (r *Row) notes(runs int) string {
	var n []string
	if r.Runs < runs {
		n = append(n, fmt.Sprintf("runs: %d", r.Runs))
	}
	if r.Stage == string(Server) {
		n = append(n, fmt.Sprintf("loader %.2f CPU-s; server %.2f CPU-s, %.0f MiB peak",
			r.CPU, r.ServerCPU, r.ServerRSS))
	}
	if r.Out > 0 {
		n = append(n, fmt.Sprintf("output %.1f MB, %.0f bytes a message", r.Out/1e6, ratio(r.Out, float64(r.Messages))))
	}
	if r.VsPlainWall > 0 {
		n = append(n, fmt.Sprintf("%.2f× the plain file's wall time, %.2f× its CPU",
			r.VsPlainWall, r.VsPlainCPU))
	}
	return strings.Join(n, "; ")
}

func (t *Table) writeNotes(b *strings.Builder) {
	b.WriteString("- msgs/s: DNS messages generated, and checked loaded by every run, over " +
		"the wall time from the child's start to its exit. CPU s: the child's user and " +
		"system time; for server, the loader's plus the server's over the load (from " +
		"/proc). peak MiB: the child's peak resident memory; for server the loader's, " +
		"the server's is in the notes. output (parquet, db+parquet): the Parquet files' bytes.\n")
	b.WriteString("- stages: null decodes only (no Arrow batches, nothing stored); parquet, " +
		"db (the embedded engine), server (pcapload serve on loopback, over HTTP) " +
		"and db+parquet (the embedded engine and a Parquet export at once, as make " +
		"run loads) load into fresh destinations each run. A zstd copy goes through null and " +
		"parquet only: what the input costs does not depend on the destination. Each of its " +
		"runs follows the plain file's, and its times over the plain file's are the median " +
		"of the runs' ratios.\n")
	if t.Tshark == "" {
		b.WriteString("- × tshark: tshark was not found, so there is no yardstick; " +
			"`make tools` installs it.\n")
		return
	}
	fmt.Fprintf(b, "- × tshark: the stage's msgs/s over tshark's on the same file in the "+
		"same run (`tshark -n -r FILE -Y dns -T fields` with %d DNS fields, output "+
		"discarded). tshark runs only on plain files of at most %s packets: it exports "+
		"about 40,000 messages/s and needs over 1 GB of memory at 2,000,000 packets; "+
		"larger files show -.\n", len(tsharkFields), count(uint64(t.TsharkMax)))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// times prints a ratio as "41.2×", or "-" for none.
func times(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f×", x)
}

// count prints n with thousands separated by commas.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
