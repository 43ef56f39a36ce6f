package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
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
	"github.com/pcapload/pcapload/internal/clitest"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/ulikunitz/xz"
)

// runCmd runs the command line in-process and returns its exit code and
// output.
func runCmd(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, bytes.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func loadJSON(t *testing.T, out string) summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, out)
	}
	return s
}

func checkAccounting(t *testing.T, s summary) {
	t.Helper()
	var sum uint64
	for _, n := range s.Reasons {
		sum += n
	}
	if sum != s.Packets {
		t.Errorf("packets by reason sum to %d, want %d", sum, s.Packets)
	}
}

// TestRun_bare runs pcapload with no argument: the usage, on stderr, and
// exit 2.
func TestRun_bare(t *testing.T) {
	code, stdout, stderr := runCmd(t, nil)
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "pcapload load") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, stdout, stderr)
	}
}

func TestRun_Usage(t *testing.T) {
	tests := [][]string{
		{"load"},
		{"load", "--to", "ftp://x", "../../testdata/resolver.pcap"},
		{"load", "--no-such-flag", "x"},
		{"load", "--ports", "53,abc", "../../testdata/resolver.pcap"},
		{"load", "--to", "db:", "../../testdata/resolver.pcap"},
		{"load", "-", "-"},
		{"load", "--to", "parquet:x", "--to", "parquet:x", "../../testdata/resolver.pcap"},
		{"load", "--progress", "sometimes", "../../testdata/resolver.pcap"},
		{"sql", "SELECT 1", "--format", "tsv"},
		{"version", "extra"},
		{"sql", "--format", "xml", "SELECT 1"},
		{"schema", "drop"},
		{"load", "../../testdata/resolver.pcap", "--to", "null"},
		{"frobnicate"},
		{"load", "../../testdata/resolver.pcap", "-json"},
		{"load", "../../testdata/resolver.pcap", "-x"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runCmd(t, nil, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, stderr)
			}
			if !strings.HasPrefix(stderr, "pcapload: ") {
				t.Errorf("stderr %q does not say what is wrong", stderr)
			}
			if args[0] == "load" && len(args) > 2 && strings.HasSuffix(args[1], ".pcap") && !strings.Contains(stderr, "flags go before them") {
				t.Errorf("stderr %q does not say that flags go before the inputs", stderr)
			}
			if args[0] == "sql" && args[1] == "SELECT 1" && !strings.Contains(stderr, "flags go before it") {
				t.Errorf("stderr %q does not say that flags go before the query", stderr)
			}
		})
	}
}

// captureDir copies the generated captures of testdata/ into a folder
// beside a README, as a user's capture folder looks.
func captureDir(t *testing.T) string {
	dir := t.TempDir()
	paths, _ := filepath.Glob("../../testdata/resolver*")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# captures\n"), 0o644)
	return dir
}

func TestRun_LoadParquet(t *testing.T) {
	out := t.TempDir()
	in := captureDir(t)
	code, stdout, stderr := runCmd(t, nil, "load", "--json", "--to", "parquet:"+out, in)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	s := loadJSON(t, stdout)
	checkAccounting(t, s)
	if s.FilesLoaded != 3 || s.FilesSkipped != 1 || s.Messages != 4000 || s.Rows["parquet:"+out] != 4000 {
		t.Errorf("summary %+v, want 3 files loaded, README skipped, 4000 messages and rows", s)
	}
	if !strings.Contains(stderr, "skipped "+filepath.Join(in, "README.md")+": not a capture file") {
		t.Errorf("stderr %q does not say the README was skipped", stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "date=*", "sensor=default", "*.parquet"))
	if len(files) != 3 {
		t.Errorf("parquet files %v, want one per capture", files)
	}
}

// TestRun_BrokenFiles: a broken file fails alone, with one line naming it
// and the byte offset; the other files load and the exit status is 1.
func TestRun_BrokenFiles(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile("../../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	notCapture := filepath.Join(dir, "notes.txt")
	part := filepath.Join(dir, "open.pcap.part")
	os.WriteFile(cut, whole[:5000], 0o644)
	os.WriteFile(notCapture, []byte("not a capture\n"), 0o644)
	os.WriteFile(part, whole, 0o644)

	missing := filepath.Join(dir, "missing\n.pcap")
	code, stdout, stderr := runCmd(t, nil, "load", "--json", "--to", "parquet:"+filepath.Join(dir, "out"),
		cut, notCapture, "../../testdata/resolver.pcap", part, missing)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, stderr)
	}
	s := loadJSON(t, stdout)
	checkAccounting(t, s)
	if s.FilesLoaded != 1 || s.FilesFailed != 3 || s.FilesSkipped != 1 {
		t.Errorf("files loaded %d failed %d skipped %d, want 1 3 1", s.FilesLoaded, s.FilesFailed, s.FilesSkipped)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	wantLines := map[string]string{cut: "offset ", notCapture: "offset 0", part: "skipped",
		oneLine(missing): "no such file"}
	for path, want := range wantLines {
		found := false
		for _, l := range lines {
			if strings.Contains(l, path) && strings.Contains(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no stderr line names %s with %q:\n%s", path, want, stderr)
		}
	}
	if !strings.Contains(stdout, `"rows": {}`) {
		t.Errorf("the missing file's rows are not an empty object:\n%s", stdout)
	}
	// The cut file's packets before the cut still load.
	for _, f := range s.PerFile {
		if f.Path == cut && (f.Messages == 0 || f.Error == "") {
			t.Errorf("cut file: %d messages, error %q; want its first messages and an error", f.Messages, f.Error)
		}
	}
}

// TestRun_XzDictionary: an xz file whose block header declares a 4 GiB
// dictionary (xz -t accepts it) fails alone, at once, with one line naming
// it, where the decoder allocated the 4 GiB and filled them as it read.
func TestRun_XzDictionary(t *testing.T) {
	plain, err := os.ReadFile("../../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	w, err := xz.NewWriter(&z)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The block header after the 12-byte stream header: size, flags (one
	// filter, no sizes), LZMA2's ID, its properties size and the
	// dictionary size code, then padding and a CRC32 of the header.
	b := z.Bytes()
	h := b[12 : 12+(int(b[12])+1)*4]
	if !bytes.Equal(h[1:4], []byte{0x00, 0x21, 0x01}) {
		t.Fatalf("block header % x, not LZMA2 alone without sizes", h)
	}
	h[4] = 40 // 4 GiB - 1
	binary.LittleEndian.PutUint32(h[len(h)-4:], crc32.ChecksumIEEE(h[:len(h)-4]))
	path := filepath.Join(t.TempDir(), "hostile.pcap.xz")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	code, _, stderr := runCmd(t, nil, "load", "--to", "null", path, "../../testdata/resolver.pcap")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitFailure, stderr)
	}
	want := "pcapload: " + path + ": offset 0: read file magic: decompress xz: corrupt: " +
		"block header at compressed byte 12: LZMA2 dictionary of 4096 MiB, over the 64 MiB allowed\n"
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v", elapsed)
	}
}

func TestRun_Stdin(t *testing.T) {
	data, err := os.ReadFile("../../testdata/resolver-vlan.pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, data, "load", "--json", "--to", "parquet:"+t.TempDir(), "-")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if s := loadJSON(t, stdout); s.Messages != 1000 {
		t.Errorf("%d messages from stdin, want 1000", s.Messages)
	}
	code, _, stderr = runCmd(t, []byte("not a capture\n"), "load", "--to", "null", "-")
	if code != exitFailure || !strings.HasPrefix(stderr, "pcapload: standard input: offset 0: ") {
		t.Errorf("garbage on stdin: exit %d, stderr %q; want the error to name standard input", code, stderr)
	}
}

// TestRun_EmbeddedAndSQL loads into the embedded database and queries it
// back with the sql command.
func TestRun_EmbeddedAndSQL(t *testing.T) {
	testenv.RequireCHDB(t)
	db := filepath.Join(t.TempDir(), "db")
	code, _, stderr := runCmd(t, nil, "load", "--db", db, "--sensor", "t1", "../../testdata/resolver.pcap")
	if code != exitOK {
		t.Fatalf("load: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runCmd(t, nil, "sql", "--db", db, "--format", "csv",
		"SELECT count(), uniqExact(sensor), any(sensor) FROM dns_messages")
	if code != exitOK {
		t.Fatalf("sql: exit %d, stderr %q", code, stderr)
	}
	if want := "\"count()\",\"uniqExact(sensor)\",\"any(sensor)\"\n1000,1,\"t1\"\n"; stdout != want {
		t.Errorf("sql printed %q, want %q", stdout, want)
	}
	// Loaded again with --force: the report's Files lists the file once,
	// its latest generation.
	if code, _, stderr := runCmd(t, nil, "load", "--db", db, "--force", "../../testdata/resolver.pcap"); code != exitOK {
		t.Fatalf("load --force: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ = runCmd(t, nil, "report", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "Top names") || !strings.Contains(stdout, "NOERROR") {
		t.Errorf("report: exit %d, output %q", code, stdout)
	}
	if n := strings.Count(stdout, "resolver.pcap"); n != 1 {
		t.Errorf("report names resolver.pcap %d times, want once:\n%s", n, stdout)
	}
	if code, _, stderr := runCmd(t, nil, "sql", "--db", db, "SELECT nonsense("); code != exitFailure || stderr == "" {
		t.Errorf("bad SQL: exit %d, stderr %q", code, stderr)
	}
}

// slowReader hands out data in small pieces with pauses, like a capture
// arriving over a slow pipe.
type slowReader struct{ data []byte }

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(20 * time.Millisecond)
	n := copy(p[:min(len(p), 4096)], s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestRun_Progress(t *testing.T) {
	data, err := os.ReadFile("../../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	args := []string{"load", "--progress", "always", "--to", "parquet:" + t.TempDir(), "-"}
	if code := run(context.Background(), args, &slowReader{data: data}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), " packets, ") {
		t.Errorf("no progress bar on stderr: %q", errOut.String())
	}
	if strings.Contains(out.String(), "packets, ") {
		t.Errorf("progress went to stdout: %q", out.String())
	}
}

// TestRun_unsupportedLink checks that packets on a link type the decoder
// does not read are counted and the note names the link type.
func TestRun_unsupportedLink(t *testing.T) {
	// None of the files: per_file is an empty list, not null.
	code, stdout, _ := runCmd(t, nil, "load", "--json", "--to", "null", "--shard", "1/2", "../../testdata/resolver.pcap")
	if code != exitOK || !strings.Contains(stdout, `"per_file": []`) {
		t.Errorf("no file in the shard: exit %d, per_file not an empty list:\n%s", code, stdout)
	}

	// A little-endian pcap header with link type 105 (802.11), then one
	// 24-byte record.
	b := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 105, 0, 0, 0}
	b = append(b, 1, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0, 0, 24, 0, 0, 0)
	b = append(b, make([]byte, 24)...)
	path := filepath.Join(t.TempDir(), "wifi.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, nil, "load", "--json", "--to", "null", path)
	if code != 0 {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	s := loadJSON(t, stdout)
	checkAccounting(t, s)
	if s.Reasons["unsupported_link"] != 1 || len(s.PerFile) != 1 ||
		!slices.Equal(s.PerFile[0].UnsupportedLinks, []string{"LINKTYPE_IEEE802_11"}) {
		t.Errorf("reasons %v, files %+v; want one unsupported_link packet on LINKTYPE_IEEE802_11", s.Reasons, s.PerFile)
	}
	if n := strings.Join(s.Notes, "\n"); !strings.Contains(n, "wifi.pcap: 1 packet on a link type pcapload does not decode (LINKTYPE_IEEE802_11)") {
		t.Errorf("notes do not name the link type: %q", n)
	}
}

// TestLoad_unreadableFolder walks a folder holding a folder its user
// cannot read: that folder fails alone, named, and the capture beside it
// loads. The load runs as nobody, since root reads any folder.
func TestLoad_unreadableFolder(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root, to run the loader as nobody")
		}
		t.Skip("needs root, to run the loader as nobody")
	}
	bin := chtest.Binary(t)
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	capture, err := os.ReadFile("../../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile("../../testdata/resolver-vlan.pcap.gz")
	if err != nil {
		t.Fatal(err)
	}
	exe, archive, sub := filepath.Join(base, "pcapload"), filepath.Join(base, "archive"), filepath.Join(base, "archive", "sub")
	prog, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(archive, "ok")
	for _, step := range []error{os.WriteFile(exe, prog, 0o755), os.MkdirAll(sub, 0o755), os.MkdirAll(ok, 0o755),
		os.WriteFile(filepath.Join(archive, "a.pcap"), capture, 0o644),
		os.WriteFile(filepath.Join(ok, "c.pcap"), other, 0o644),
		os.WriteFile(filepath.Join(sub, "b.pcap"), capture, 0o644), os.Chmod(sub, 0)} {
		if step != nil {
			t.Fatal(step)
		}
	}
	// The folder walked, and a pattern over its folders: Glob passed
	// over the one it could not read without a word.
	for input, loaded := range map[string]int{archive: 2, filepath.Join(archive, "*", "*.pcap"): 1} {
		cmd := exec.Command(exe, "load", "--json", "--to", "null", input)
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(stderr.String(), sub+": permission denied") {
			t.Fatalf("%s: exit %d, want %d with a line naming %s\n%s", input, code, exitFailure, sub, stderr.String())
		}
		if s := loadJSON(t, stdout.String()); s.FilesLoaded != loaded || s.FilesFailed != 1 {
			t.Errorf("%s: files loaded %d, failed %d; want the captures loaded (%d) and the folder failed",
				input, s.FilesLoaded, s.FilesFailed, loaded)
		}
	}
}

// TestLoad_namedPipeAndLinks loads a capture from a named pipe, beside a
// dangling link and a link loop: the pipe is read once, without a hash,
// as standard input is, and the two links fail alone.
func TestLoad_namedPipeAndLinks(t *testing.T) {
	bin := chtest.Binary(t)
	dir := t.TempDir()
	capture, err := os.ReadFile("../../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	pipe, dangling, loop := filepath.Join(dir, "live.pcap"), filepath.Join(dir, "gone.pcap"), filepath.Join(dir, "loop.pcap")
	for _, step := range []error{syscall.Mkfifo(pipe, 0o600), os.Symlink(filepath.Join(dir, "nothing"), dangling),
		os.Symlink(loop, loop)} {
		if step != nil {
			t.Fatal(step)
		}
	}
	go func() {
		// Opening blocks until the loader opens the other end.
		if f, err := os.OpenFile(pipe, os.O_WRONLY, 0); err == nil {
			f.Write(capture)
			f.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "load", "--json", "--to", "null", pipe, dangling, loop)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitFailure || ctx.Err() != nil {
		t.Fatalf("exit %d (%v), want %d: the links fail, the pipe loads\n%s", code, ctx.Err(), exitFailure, stderr.String())
	}
	s := loadJSON(t, stdout.String())
	if s.FilesLoaded != 1 || s.FilesFailed != 2 || s.Messages == 0 {
		t.Errorf("files loaded %d, failed %d, messages %d; want the pipe's messages and the links failed",
			s.FilesLoaded, s.FilesFailed, s.Messages)
	}
	for _, p := range []string{dangling, loop} {
		if !strings.Contains(stderr.String(), p) {
			t.Errorf("no error line names %s:\n%s", p, stderr.String())
		}
	}
}

// TestReport_empty reports on a database that holds no row yet: every
// section says it has none, rather than a bare title.
func TestReport_empty(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	db := filepath.Join(t.TempDir(), "db")
	if code, _, stderr := clitest.RunBinary(t, bin, "schema", "apply", "--db", db); code != exitOK {
		t.Fatalf("schema apply: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := clitest.RunBinary(t, bin, "report", "--db", db)
	if code != exitOK || strings.Count(stdout, "(none)") != strings.Count(stdout, "\n\n") || !strings.Contains(stdout, "Top names\n(none)") {
		t.Errorf("report: exit %d, output %q, stderr %q; want every section to say (none)", code, stdout, stderr)
	}
}

// TestRun_dashDash loads a file named like a flag, after --.
func TestRun_dashDash(t *testing.T) {
	capture, err := os.ReadFile("../../testdata/resolver.pcap")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("--workers", capture, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, nil, "load", "--json", "--to", "null", "--", "--workers")
	if s := loadJSON(t, stdout); code != exitOK || s.FilesLoaded != 1 {
		t.Errorf("exit %d, %d files loaded; want the file --workers loaded\n%s", code, s.FilesLoaded, stderr)
	}
}

// TestLoad_nothingToLoad loads a folder whose one capture is still being
// written: nothing to load is said, and is no failure, as a nightly load
// of a sensor's folder may find it so.
func TestLoad_nothingToLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dns.pcap.part"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, nil, "load", "--json", "--progress", "never", "--to", "null", dir)
	if code != exitOK || !strings.Contains(errOut, "nothing to load in "+dir) {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing to load said", code, errOut)
	}
	if sum := loadJSON(t, out); sum.Files != 0 || sum.FilesSkipped != 1 {
		t.Errorf("files %d, skipped %d; want none, one", sum.Files, sum.FilesSkipped)
	}
}

// TestLoad_emptyAndMissing: an empty file and a missing one each fail in
// a line that names the file first, as every other failure does.
func TestLoad_emptyAndMissing(t *testing.T) {
	dir := t.TempDir()
	empty, missing := filepath.Join(dir, "empty.pcap"), filepath.Join(dir, "missing.pcap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, nil, "load", "--progress", "never", "--to", "null", empty, missing)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	for _, want := range []string{
		"pcapload: " + empty + ": offset 0: read file magic: empty: not a capture file\n",
		"pcapload: " + missing + ": no such file or directory\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
}

// TestReport_latestFiles: the report counts every file by its outcome and
// lists the latest 20, so that an archive's thousands do not bury the rest.
func TestReport_latestFiles(t *testing.T) {
	testenv.RequireCHDB(t)
	caps := clitest.WriteArchive(t, 25, 10)
	db := filepath.Join(t.TempDir(), "db")
	if code, _, stderr := runCmd(t, nil, "load", "--progress", "never", "--db", db, caps); code != exitOK {
		t.Fatalf("load: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ := runCmd(t, nil, "report", "--db", db)
	if code != exitOK {
		t.Fatalf("report: exit %d", code)
	}
	if !regexp.MustCompile(`│ loaded │ +25 │`).MatchString(stdout) {
		t.Errorf("report does not count 25 files loaded:\n%s", stdout)
	}
	if n := strings.Count(stdout, ".pcap "); n != 20 {
		t.Errorf("report lists %d files, want the latest 20:\n%s", n, stdout)
	}
}

// TestReport_superseded: a capture loaded cut short, then whole, counts as
// one loaded file and one superseded in the report, which shows every
// file's latest state.
func TestReport_superseded(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "dns.pcap")
	if _, err := gen.WriteFile(path, gen.Config{Seed: 9, Messages: 2000}, gen.Pcap); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, whole[:len(whole)/2+3], 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "db")
	if code, _, _ := runCmd(t, nil, "load", "--progress", "never", "--db", db, path); code != exitFailure {
		t.Fatalf("load of the cut capture: exit %d, want %d", code, exitFailure)
	}
	if err := os.WriteFile(path, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, nil, "load", "--progress", "never", "--db", db, path); code != exitOK {
		t.Fatalf("load of the whole capture: exit %d, stderr %q", code, stderr)
	}
	_, stdout, _ := runCmd(t, nil, "report", "--db", db)
	for _, want := range []string{`│ loaded +│ +1 │`, `│ superseded │ +1 │`} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("report lacks %s:\n%s", want, stdout)
		}
	}
}

// TestLoad_timeCountsOpening: the summary's time of a load into a new
// embedded database counts the engine's start, which takes most of the
// process's time for a small capture (it was left out: a third of it).
func TestLoad_timeCountsOpening(t *testing.T) {
	testenv.RequireCHDB(t)
	bin := chtest.Binary(t)
	db := filepath.Join(t.TempDir(), "db")
	began := time.Now()
	code, stdout, stderr := clitest.RunBinary(t, bin, "load", "--json", "--progress", "never", "--db", db,
		"../../testdata/resolver.pcap")
	wall := time.Since(began).Seconds()
	if code != exitOK {
		t.Fatalf("load: exit %d\n%s", code, stderr)
	}
	var s struct {
		Seconds float64 `json:"seconds"`
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if s.Seconds < 0.6*wall || s.Seconds > wall {
		t.Errorf("the summary says %.3f s of a %.3f s process; want most of it", s.Seconds, wall)
	}
}
