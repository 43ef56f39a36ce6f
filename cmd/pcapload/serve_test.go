package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pcapload/pcapload/clickhouse/chtest"
	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/syncbuf"
	"github.com/pcapload/pcapload/schema"
)

const resolverPcap = "../../testdata/resolver.pcap"

// messageRow is what the tests compare of one dns_messages row.
type messageRow struct {
	Frame   uint64
	Time    int64
	QName   string
	QType   uint16
	RCode   uint16
	SrcPort uint16
	Answers uint64
}

// decodedRows decodes path with the loader's own decoder.
func decodedRows(t *testing.T, path string) []messageRow {
	t.Helper()
	var rows []messageRow
	var st ingest.FileStats
	err := ingest.NewDecoder(ingest.Config{}).DecodeFile(ingest.Input{Path: path}, &st, nil, func(r *schema.Row) error {
		m := messageRow{Frame: r.Frame, Time: r.Time, RCode: r.DNS.RCode, SrcPort: r.Net.SrcPort,
			Answers: uint64(len(r.DNS.Answer))}
		if len(r.DNS.Questions) > 0 {
			m.QName, m.QType = string(r.DNS.Questions[0].Name), r.DNS.Questions[0].Type
		}
		rows = append(rows, m)
		return nil
	})
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	// Pairing holds queries back, so rows come out of frame order.
	slices.SortFunc(rows, compareRows)
	return rows
}

// compareRows orders rows by frame and, within a TCP segment that completes
// two messages, by what they ask.
func compareRows(a, b messageRow) int {
	return cmp.Or(cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.QType, b.QType),
		cmp.Compare(a.QName, b.QName), cmp.Compare(a.Answers, b.Answers))
}

// serverRows reads dns_messages back from the server, by frame.
func serverRows(t *testing.T, srv *chtest.Server) []messageRow {
	t.Helper()
	rows, err := srv.Conn(t).Query(context.Background(), `SELECT frame, toUnixTimestamp64Nano(time),
		qname, qtype, rcode, src_port, length(answer_data) FROM dns_messages ORDER BY frame`)
	if err != nil {
		t.Fatalf("query dns_messages: %v", err)
	}
	defer rows.Close()
	var got []messageRow
	for rows.Next() {
		var m messageRow
		if err := rows.Scan(&m.Frame, &m.Time, &m.QName, &m.QType, &m.RCode, &m.SrcPort, &m.Answers); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read rows: %v", err)
	}
	slices.SortFunc(got, compareRows)
	return got
}

// TestServe_load loads a capture through each protocol into a served
// database and reads every row back.
func TestServe_load(t *testing.T) {
	want := decodedRows(t, resolverPcap)
	for _, proto := range []string{"native", "http"} {
		t.Run(proto, func(t *testing.T) {
			srv := chtest.Start(t)
			code, out, errOut := clitest.RunBinary(t, srv.Bin, "load", "--json", "--to", clitest.Destinations(srv)[proto], resolverPcap)
			if code != exitOK {
				t.Fatalf("load exit %d, want 0\n%s%s", code, out, errOut)
			}
			got := serverRows(t, srv)
			if len(got) != len(want) {
				t.Fatalf("server has %d rows, decoder gave %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
			checkQTypes(t, srv, want)
			checkLoadRecord(t, srv, uint64(len(want)))
		})
	}
}

// TestServe_queries: sql and report read a server's database by its
// HTTP URL as they read the embedded one; a native URL, or a database
// named twice, is a usage error.
func TestServe_queries(t *testing.T) {
	srv := chtest.Start(t)
	dest := clitest.Destinations(srv)["http"]
	if code, out, errOut := clitest.RunBinary(t, srv.Bin, "load", "--to", dest, resolverPcap); code != exitOK {
		t.Fatalf("load exit %d\n%s%s", code, out, errOut)
	}
	want := clitest.ServerQuery(t, srv, "SELECT count(), toUInt64(0) FROM dns_messages")
	want = strings.TrimSuffix(want, ",0\n") + "\n"
	code, out, errOut := clitest.RunBinary(t, srv.Bin, "sql", "--to", dest, "--format", "tsv", "SELECT count() AS n FROM dns_messages")
	if code != exitOK || out != "n\n"+want || want == "0\n" {
		t.Errorf("sql --to: exit %d, %q, want n and %q\n%s", code, out, want, errOut)
	}
	code, out, errOut = clitest.RunBinary(t, srv.Bin, "report", "--to", dest)
	if code != exitOK || !regexp.MustCompile(`(?m)^Top names$`).MatchString(out) ||
		!regexp.MustCompile(`loaded\s*│\s*1\s*│`).MatchString(out) {
		t.Errorf("report --to: exit %d, want the sections and 1 file loaded\n%s%s", code, out, errOut)
	}
	if code, _, errOut := clitest.RunBinary(t, srv.Bin, "sql", "--to", dest, "SELECT nothing FROM dns_messages"); code != exitFailure ||
		!strings.Contains(errOut, "nothing") {
		t.Errorf("sql --to with a bad query: exit %d, want 1 and the server's error\n%s", code, errOut)
	}
	for _, args := range [][]string{
		{"sql", "--to", clitest.Destinations(srv)["native"], "SELECT 1"},
		{"report", "--to", dest, "--db", t.TempDir()},
		{"sql", "--to", dest + "?cluster=pcap", "SELECT count() FROM dns_messages"},
	} {
		if code, _, errOut := clitest.RunBinary(t, srv.Bin, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, errOut)
		}
	}
}

// checkQTypes compares the count by qtype, the analyst's first question.
func checkQTypes(t *testing.T, srv *chtest.Server, want []messageRow) {
	t.Helper()
	wantBy := make(map[uint16]uint64)
	for _, m := range want {
		wantBy[m.QType]++
	}
	rows, err := srv.Conn(t).Query(context.Background(), "SELECT qtype, count() FROM dns_messages GROUP BY qtype")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	gotBy := make(map[uint16]uint64)
	for rows.Next() {
		var qt uint16
		var n uint64
		if err := rows.Scan(&qt, &n); err != nil {
			t.Fatal(err)
		}
		gotBy[qt] = n
	}
	if fmt.Sprint(gotBy) != fmt.Sprint(wantBy) {
		t.Errorf("count by qtype = %v, want %v", gotBy, wantBy)
	}
}

func checkLoadRecord(t *testing.T, srv *chtest.Server, messages uint64) {
	t.Helper()
	var path, status string
	var n uint64
	row := srv.Conn(t).QueryRow(context.Background(), "SELECT path, status, messages FROM capture_files WHERE status NOT IN ('loading', 'grouped')")
	if err := row.Scan(&path, &status, &n); err != nil {
		t.Fatalf("read load record: %v", err)
	}
	if path != resolverPcap || status != "loaded" || n != messages {
		t.Errorf("load record = %s %s %d, want %s loaded %d", path, status, n, resolverPcap, messages)
	}
}

// TestServe_stopped loads into a server that was stopped: after its
// retries the file fails, named, and the exit status is 1.
func TestServe_stopped(t *testing.T) {
	srv := chtest.Start(t)
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, srv.Stderr())
	}
	if !strings.Contains(srv.Stderr(), "pcapload: stopped serving") {
		t.Errorf("serve stderr = %q, want the stop said", srv.Stderr())
	}
	for proto, dest := range clitest.Destinations(srv) {
		t.Run(proto, func(t *testing.T) {
			t.Parallel() // each waits out its retries
			code, out, errOut := clitest.RunBinary(t, srv.Bin, "load", "--to", dest, resolverPcap)
			if code != exitFailure {
				t.Fatalf("load exit %d, want 1\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, resolverPcap+": "+dest) {
				t.Errorf("stderr = %q, want the file and the destination named", errOut)
			}
		})
	}
}

// TestLoad_interruptNoAnswer interrupts a load into a server that accepts
// connections and never answers: the load ends at once, its files failed,
// where it waited past every signal; a second signal stops it whatever it
// waits for.
func TestLoad_interruptNoAnswer(t *testing.T) {
	bin := chtest.Binary(t)
	addr := chtest.Silent(t)
	for _, signals := range []int{1, 2} {
		cmd := exec.Command(bin, "load", "--progress", "never", "--to", "http://"+addr+"/default", resolverPcap)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		time.Sleep(time.Second)
		for range signals {
			cmd.Process.Signal(syscall.SIGTERM)
			time.Sleep(100 * time.Millisecond)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%d signals: the load still ran 30 s after\n%s", signals, stderr.String())
		}
		code := cmd.ProcessState.ExitCode()
		if signals == 1 && (code != exitFailure || !strings.Contains(stderr.String(), resolverPcap+": http://")) {
			t.Errorf("interrupted: exit %d, want 1 and the file failed\n%s", code, stderr.String())
		}
	}
}

// TestServe_usage checks the listen addresses serve refuses.
func TestServe_usage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"not loopback", []string{"serve", "--tcp", "0.0.0.0:9000"}},
		{"two hosts", []string{"serve", "--tcp", "127.0.0.1:9000", "--http", "[::1]:8123"}},
		{"no port", []string{"serve", "--http", "127.0.0.1:0"}},
		{"argument", []string{"serve", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, errOut := runCmd(t, nil, tt.args...); code == exitOK {
				t.Errorf("%v: exit 0, want a failure; stderr %q", tt.args, errOut)
			}
		})
	}
}

// TestServe_notCapture loads a folder's capture and README one by one into
// a server: the README is left out before the server hears of it, and
// neither run names it as a load that did not end.
func TestServe_notCapture(t *testing.T) {
	srv := chtest.Start(t)
	dir := t.TempDir()
	data, err := os.ReadFile(resolverPcap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.pcap"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# captures\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		code, out, errOut := clitest.RunBinary(t, srv.Bin, "load", "--group-files", "1", "--to", clitest.Destinations(srv)["http"], dir)
		if code != exitOK {
			t.Fatalf("run %d: load exit %d, want 0\n%s%s", run, code, out, errOut)
		}
		if strings.Contains(errOut, "did not end") {
			t.Errorf("run %d: the README is named as an unfinished load:\n%s", run, errOut)
		}
	}
	var n uint64
	row := srv.Conn(t).QueryRow(context.Background(),
		"SELECT count() FROM capture_files WHERE path = ?", readme)
	if err := row.Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("README: %d load records, want none", n)
	}
}

// TestOnSignals: the first signal cancels the run; the second exits at
// once, as does the grace's end; without either nothing exits.
func TestOnSignals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals []os.Signal
		want    int
	}{
		{"second SIGINT", []os.Signal{os.Interrupt, os.Interrupt}, 130},
		{"second SIGTERM", []os.Signal{os.Interrupt, syscall.SIGTERM}, 143},
		{"grace", []os.Signal{syscall.SIGTERM}, exitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signals := make(chan os.Signal, 2)
			interrupted := make(chan struct{})
			exited := make(chan int, 1)
			var stderr syncbuf.Buffer
			go onSignals(signals, func() { close(interrupted) }, &stderr, 200*time.Millisecond, func(c int) { exited <- c })
			signals <- tc.signals[0]
			<-interrupted
			select {
			case c := <-exited:
				t.Fatalf("exited %d at the first signal", c)
			case <-time.After(50 * time.Millisecond):
			}
			for _, s := range tc.signals[1:] {
				signals <- s
			}
			select {
			case c := <-exited:
				if c != tc.want {
					t.Errorf("exit %d, want %d\n%s", c, tc.want, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no exit\n%s", stderr.String())
			}
		})
	}
}

// TestSQL_silentServer: sql and report give up on a server that accepts
// connections and never answers, where they waited for good.
func TestSQL_silentServer(t *testing.T) {
	bin := chtest.Binary(t)
	dest := "http://" + chtest.Silent(t) + "/default"
	for _, args := range [][]string{{"sql", "--to", dest, "SELECT 1"}, {"report", "--to", dest}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel() // each waits for the answer's timeout
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			if err == nil || ctx.Err() != nil || !strings.Contains(stderr.String(), "no answer to SELECT 1") {
				t.Errorf("%s: %v after %s, stderr %q; want a failure naming the unanswered SELECT 1",
					args[0], err, time.Since(start).Round(time.Second), stderr.String())
			}
		})
	}
}

// TestServe_batchesForServers: a load whose destinations are all servers
// cuts smaller batches (serverBatchRows, serverBatchBytes), as its loading
// marks record; one that also writes Parquet, or given --batch-rows, cuts
// the rows it is told, in batches of serverBatchBytes. The marks name the
// bound of an insert's compressed bytes (besideInsertHeld beside
// Parquet), less what the worker holds, and the encoder and its version
// that decide them.
func TestServe_batchesForServers(t *testing.T) {
	srv := chtest.Start(t)
	caps := clitest.WriteCaptures(t, 1000)
	dests := clitest.Destinations(srv)
	const (
		alone    = "batches of 16384 rows or 8388608 bytes"
		lz4      = ") in LZ4 (github.com/pierrec/lz4/v4 v4."
		arrowIPC = ": Arrow IPC (github.com/apache/arrow-go/v18 v18."
	)
	for _, tt := range []struct {
		name string
		args []string
		want string // the cut's batches
		// the bound of an insert's compressed bytes, the least it may
		// end at, and its compressor
		held, least, with string
	}{
		{"http", []string{"--to", dests["http"] + "_http"}, alone, "29360128", "4194304", lz4},
		{"native", []string{"--to", dests["native"] + "_native"}, alone, "29360128", "4194304", lz4},
		{"zstd", []string{"--to", dests["http"] + "_zstd?compression=zstd"}, alone, "29360128", "4194304",
			") in zstd with a window of 2097152 (github.com/klauspost/compress v1."},
		{"with parquet", []string{"--to", dests["http"] + "_parquet", "--to", "parquet:" + t.TempDir()},
			"batches of 65536 rows or 8388608 bytes", "16777216", "4194304", lz4},
		{"rows given", []string{"--to", dests["http"] + "_given", "--batch-rows", "20000"},
			"batches of 20000 rows or 8388608 bytes", "29360128", "4194304", lz4},
		{"two servers", []string{"--to", dests["http"] + "_two", "--to", dests["native"] + "_two_native"},
			"batches of 16384 rows or 4194304 bytes", "8388608", "2097152", lz4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"load", "--progress", "never", "--group-files", "1"}, tt.args...), caps)
			if code, out, errOut := clitest.RunBinary(t, srv.Bin, args...); code != exitOK {
				t.Fatalf("load: exit %d\n%s%s", code, out, errOut)
			}
			db := tt.args[1][strings.LastIndex(tt.args[1], "/")+1:]
			db, _, _ = strings.Cut(db, "?")
			var cut string
			q := "SELECT any(error) FROM " + db + ".capture_files WHERE status = 'loading'"
			if err := srv.Conn(t).QueryRow(context.Background(), q).Scan(&cut); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(cut, tt.want+",") {
				t.Errorf("loading mark's cut %q, want it to begin %q", cut, tt.want)
			}
			proto := map[bool]string{true: "native", false: "HTTP"}[tt.name == "native"]
			held := " or " + tt.held + " bytes (less what the worker holds past 8388608, " + tt.least + " at least) of "
			if !strings.Contains(cut, held+proto+arrowIPC) || !strings.Contains(cut, tt.with) {
				t.Errorf("loading mark's cut %q, want inserts of %s bytes compressed, and %q", cut, tt.held, tt.with)
			}
		})
	}
}

// TestLoad_oneDatabaseTwice: two destinations that are one server's
// database, through both of its ports or two names of its host, are
// refused before anything is stored. Loaded, every row was stored twice,
// the protocols cutting their inserts otherwise (a hostile run).
func TestLoad_oneDatabaseTwice(t *testing.T) {
	srv := chtest.Start(t)
	_, port, _ := strings.Cut(srv.TCP, ":")
	for _, tt := range []struct{ name, a, b string }{
		{"both ports", "clickhouse://" + srv.TCP + "/twice", "http://" + srv.HTTP + "/twice?compression=zstd"},
		{"two names", "clickhouse://" + srv.TCP + "/twice", "clickhouse://localhost:" + port + "/twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, nil, "load", "--progress", "never", "--to", tt.a, "--to", tt.b, resolverPcap)
			if code != exitUsage || !strings.Contains(errOut, "are one database, the database 'twice' of the server ") {
				t.Errorf("exit %d, want %d and the database named: %q", code, exitUsage, errOut)
			}
		})
	}
	q := "SELECT count(), toUInt64(0) FROM system.databases WHERE name = 'twice'"
	if got := clitest.ServerQuery(t, srv, q); got != "0,0\n" {
		t.Errorf("databases named twice: %q, want none created", got)
	}
}
