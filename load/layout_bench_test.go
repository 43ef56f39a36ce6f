package load_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// layoutMessages is how many generated messages BenchmarkLayout queries:
// a month of a small resolver's traffic at about one transaction a second.
const layoutMessages = 3_000_000

// layout is one candidate ORDER BY and set of skip indexes for
// dns_messages, and the two analyst questions written for it.
type layout struct {
	name   string
	order  string   // ORDER BY
	extra  []string // columns, indexes and projections added to dns_messages
	domain string   // WHERE for everything about a domain, %[1]s the name, %[2]s reversed
	client string   // WHERE for everything a client did, %s the address
}

var layouts = []layout{
	{name: "qname_key", order: "(qname, qtype, time)",
		domain: "(qname = '%[1]s' OR endsWith(qname, '.%[1]s'))",
		client: "(src_addr = toIPv6('%[1]s') OR dst_addr = toIPv6('%[1]s'))"},
	{name: "reversed_key", order: "(qname_rev, qtype, time)",
		domain: "(qname_rev = '%[2]s' OR startsWith(qname_rev, '%[2]s.'))",
		client: "(src_addr = toIPv6('%[1]s') OR dst_addr = toIPv6('%[1]s'))"},
	{name: "reversed_key_client_bloom", order: "(qname_rev, qtype, time)",
		extra: []string{
			"client IPv6 MATERIALIZED if(qr, dst_addr, src_addr)",
			"INDEX client_idx client TYPE bloom_filter GRANULARITY 1",
		},
		domain: "(qname_rev = '%[2]s' OR startsWith(qname_rev, '%[2]s.'))",
		client: "client = toIPv6('%[1]s')"},
	{name: "reversed_key_client_projection", order: "(qname_rev, qtype, time)",
		extra: []string{
			"client IPv6 MATERIALIZED if(qr, dst_addr, src_addr)",
			"PROJECTION by_client (SELECT * ORDER BY client, time)",
		},
		domain: "(qname_rev = '%[2]s' OR startsWith(qname_rev, '%[2]s.'))",
		client: "client = toIPv6('%[1]s')"},
}

// layoutData is the database BenchmarkLayout queries, and what it asks
// about: a domain, a client, a month and a day.
type layoutData struct {
	once           sync.Once
	db             *chdb.DB
	domain, client string
	month, day     [2]string
	err            error
}

var layoutDB layoutData

// BenchmarkLayout times the two analyst questions, everything about one
// domain over a month and everything one client did in a day, on each
// candidate layout, all holding the same generated rows. It reports the
// rows ClickHouse read (rows-read/op) along with the time.
func BenchmarkLayout(b *testing.B) {
	testenv.RequireCHDB(b)
	db := layoutSetup(b)
	l := &layoutDB
	for _, lay := range layouts {
		qs := map[string]string{
			"domain_month": fmt.Sprintf("SELECT * FROM %s WHERE %s AND time >= '%s' AND time < '%s'",
				lay.name, fmt.Sprintf(lay.domain, l.domain, reverseName(l.domain)), l.month[0], l.month[1]),
			"client_day": fmt.Sprintf("SELECT * FROM %s WHERE %s AND time >= '%s' AND time < '%s'",
				lay.name, fmt.Sprintf(lay.client, l.client), l.day[0], l.day[1]),
		}
		for _, q := range []string{"domain_month", "client_day"} {
			b.Run(lay.name+"/"+q, func(b *testing.B) {
				benchQuery(b, db, qs[q])
				b.ReportMetric(diskBytes(b, db, lay.name)/1e6, "MB-disk")
			})
		}
	}
}

func benchQuery(b *testing.B, db *chdb.DB, q string) {
	ctx := context.Background()
	var rows int
	for b.Loop() {
		out, err := db.Query(ctx, q, "TSV")
		if err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
		rows = strings.Count(string(out), "\n")
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(readRows(b, db, q), "rows-read/op")
}

// diskBytes is the size of table's active parts, projections included.
func diskBytes(b *testing.B, db *chdb.DB, table string) float64 {
	q := "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND table = " + schema.Quote(table)
	out, err := db.Query(context.Background(), q, "TSVRaw")
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// readRows is the engine's estimate of the rows q reads.
func readRows(b *testing.B, db *chdb.DB, q string) float64 {
	out, err := db.Query(context.Background(), "SELECT sum(rows) FROM (EXPLAIN ESTIMATE "+q+")", "TSVRaw")
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// layoutSetup loads the generated month once and copies it into a table
// per layout.
func layoutSetup(b *testing.B) *chdb.DB {
	l := &layoutDB
	l.once.Do(func() { l.err = fillLayouts(l) })
	if l.err != nil {
		b.Fatal(l.err)
	}
	return l.db
}

func fillLayouts(l *layoutData) error {
	dir, err := os.MkdirTemp("", "pcapload-layout-")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "month.pcap")
	if err := writeMonth(path); err != nil {
		return err
	}
	ctx := context.Background()
	emb, err := load.OpenEmbedded(ctx, filepath.Join(dir, "db"), "bench")
	if err != nil {
		return err
	}
	res := load.Run(ctx, []ingest.Input{{Path: path}}, []load.Sink{emb}, load.Options{Workers: 1})
	emb.Close()
	if f := res.Files[0]; f.Failed() {
		return fmt.Errorf("load: %v %v", f.Stats.Err, f.SinkErrs)
	}
	if l.db, err = chdb.Open(filepath.Join(dir, "db")); err != nil {
		return err
	}
	for _, lay := range layouts {
		if err := copyLayout(ctx, l.db, lay); err != nil {
			return err
		}
	}
	return pickSubjects(ctx, l.db, l)
}

// writeMonth generates layoutMessages messages spread over about a month.
func writeMonth(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	cfg := gen.Config{Seed: 7, Messages: layoutMessages, Rate: 0.6, Clients: 3000, Names: 50000}
	if _, err := gen.Write(w, cfg, gen.Pcap, nil); err != nil {
		return err
	}
	return w.Flush()
}

// copyLayout makes a copy of dns_messages with lay's key and additions,
// filled and merged.
func copyLayout(ctx context.Context, db *chdb.DB, lay layout) error {
	ddl := strings.Replace(schema.DDL("default"), "."+schema.Table, "."+lay.name, 1)
	ddl = strings.Replace(ddl, "ORDER BY "+schema.OrderBy, "ORDER BY "+lay.order, 1)
	var extra strings.Builder
	for _, e := range lay.extra {
		extra.WriteString("    , " + e + "\n")
	}
	ddl = strings.Replace(ddl, ")\nENGINE", extra.String()+")\nENGINE", 1)
	for _, q := range []string{
		ddl,
		fmt.Sprintf("INSERT INTO %s SELECT * FROM dns_messages", lay.name),
		fmt.Sprintf("OPTIMIZE TABLE %s FINAL", lay.name),
	} {
		if err := db.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// pickSubjects chooses what the questions ask about: the domain (two last
// labels) with the 100th most messages, the 10th busiest client, the
// month of the data and its busiest day.
func pickSubjects(ctx context.Context, db *chdb.DB, l *layoutData) error {
	qs := []struct {
		q   string
		dst []*string
	}{
		{"SELECT d FROM dns_messages WHERE qname LIKE '%.%' GROUP BY arrayStringConcat(arraySlice(" +
			"splitByChar('.', qname), -2), '.') AS d ORDER BY count() DESC, d LIMIT 1 OFFSET 99", []*string{&l.domain}},
		{"SELECT toString(c) FROM dns_messages GROUP BY if(qr, dst_addr, src_addr) AS c " +
			"ORDER BY count() DESC, c LIMIT 1 OFFSET 9", []*string{&l.client}},
		{"SELECT concat(toString(toStartOfDay(min(time))), '\t', toString(toStartOfDay(max(time)) + INTERVAL 1 DAY)) " +
			"FROM dns_messages", []*string{&l.month[0], &l.month[1]}},
		{"SELECT concat(toString(d), '\t', toString(d + INTERVAL 1 DAY)) FROM dns_messages " +
			"GROUP BY toStartOfDay(time) AS d ORDER BY count() DESC LIMIT 1", []*string{&l.day[0], &l.day[1]}},
	}
	for _, q := range qs {
		out, err := db.Query(ctx, q.q, "TSVRaw")
		if err != nil {
			return fmt.Errorf("%s: %w", q.q, err)
		}
		f := strings.Split(strings.TrimSpace(string(out)), "\t")
		if len(f) != len(q.dst) {
			return fmt.Errorf("%s: unexpected %q", q.q, out)
		}
		for i, d := range q.dst {
			*d = f[i]
		}
	}
	return nil
}

// reverseName spells name's labels in reverse, as the qname_rev column does.
func reverseName(name string) string {
	labels := strings.Split(name, ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}
