package load_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/ingest"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/internal/gen"
	"github.com/pcapload/pcapload/internal/testenv"
	"github.com/pcapload/pcapload/schema"
)

// TestOrderBy_domainRange asks for everything about one domain through
// qname_rev, the sorting key: it finds the rows a suffix match on qname
// finds, and reads a small part of the table to do it.
func TestOrderBy_domainRange(t *testing.T) {
	testenv.RequireCHDB(t)
	dir := t.TempDir()
	capture := writeCapture(t, dir, "a.pcap", gen.Config{Seed: 5, Messages: 100_000, Names: 20000})
	path := filepath.Join(dir, "db")
	loadEmbedded(t, path, []ingest.Input{{Path: capture}}, 0)
	db, err := chdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	domain := strings.TrimSpace(queryText(t, db, "SELECT d FROM dns_messages WHERE qname LIKE '%.%' "+
		"GROUP BY arrayStringConcat(arraySlice(splitByChar('.', qname), -2), '.') AS d "+
		"ORDER BY count() DESC, d LIMIT 1 OFFSET 20"))
	bySuffix := fmt.Sprintf("SELECT count() FROM dns_messages "+
		"WHERE qname = '%[1]s' OR endsWith(qname, '.%[1]s')", domain)
	byKey := fmt.Sprintf("SELECT count() FROM dns_messages "+
		"WHERE qname_rev = '%[1]s' OR startsWith(qname_rev, '%[1]s.')", reverseName(domain))
	want, got := queryText(t, db, bySuffix), queryText(t, db, byKey)
	if got != want || want == "0\n" {
		t.Fatalf("rows of %s by qname_rev = %q, by suffix of qname = %q", domain, got, want)
	}

	// Merged, so that the small parts of the small inserts do not each
	// cost a granule.
	if err := db.Exec(context.Background(), "OPTIMIZE TABLE dns_messages FINAL"); err != nil {
		t.Fatal(err)
	}
	read := queryText(t, db, "SELECT sum(rows) FROM (EXPLAIN ESTIMATE "+byKey+")")
	total := queryText(t, db, "SELECT count() FROM dns_messages")
	r, _ := strconv.Atoi(strings.TrimSpace(read))
	n, _ := strconv.Atoi(strings.TrimSpace(total))
	t.Logf("%s: %s rows, %d of %d read", domain, strings.TrimSpace(got), r, n)
	if r == 0 || r > n/4 {
		t.Errorf("domain query reads %d of %d rows, want at most a quarter", r, n)
	}
}

// TestOrderBy_caseFolded: the sorting key holds a name in lower case
// whatever the case it was asked in (resolvers vary it on purpose), so a
// domain query finds every spelling, while qname keeps the one sent.
func TestOrderBy_caseFolded(t *testing.T) {
	testenv.RequireCHDB(t)
	db, err := chdb.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{schema.DDL("default"),
		"INSERT INTO dns_messages (time, qname) VALUES ('2026-12-01 00:00:00', 'WwW.ExAmple.COM'), " +
			"('2026-12-01 00:00:01', 'www.example.com'), ('2026-12-01 00:00:02', 'EXAMPLE.COM')"} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	got := queryText(t, db, "SELECT count(), uniqExact(qname) FROM dns_messages "+
		"WHERE qname_rev = 'com.example' OR startsWith(qname_rev, 'com.example.')")
	if got != "3\t3\n" {
		t.Errorf("by the key: %q, want the 3 rows and their 3 spellings", got)
	}
}
