package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pcapload/pcapload/clickhouse"
	"github.com/pcapload/pcapload/internal/chdb"
	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// formats maps the --format names to ClickHouse output formats.
var formats = map[string]string{
	"pretty": "PrettyCompactMonoBlock",
	"csv":    "CSVWithNames",
	"tsv":    "TSVWithNames",
	"json":   "JSONEachRow",
}

func (e *env) sql(ctx context.Context, args []string) error {
	fs := e.flagSet("sql", "[--db PATH | --to URL] [--format F] QUERY|-")
	src := sourceFlags(fs)
	format := fs.String("format", "pretty", "output: pretty, csv, tsv or json (one object a line)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	chFormat, ok := formats[*format]
	if !ok {
		return usagef("sql: --format %q: want pretty, csv, tsv or json", *format)
	}
	if fs.NArg() > 1 && strings.HasPrefix(fs.Arg(1), "-") {
		return usagef("sql: %s after the query: flags go before it", fs.Arg(1))
	}
	if fs.NArg() != 1 {
		return usagef("sql: want one query (quote it), got %d arguments", fs.NArg())
	}
	query := fs.Arg(0)
	if query == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return fmt.Errorf("read query: %w", err)
		}
		query = string(b)
	}
	if strings.TrimSpace(query) == "" {
		return usagef("sql: no query given")
	}
	d, err := src.open(fs, "sql")
	if err != nil {
		return err
	}
	defer d.close()
	return d.queryTo(ctx, query, chFormat, e.stdout)
}

// source is what sql and report query: the embedded database a load
// created, or a server by its URL.
type source struct {
	dbPath, url *string
	db          *chdb.DB
	database    string // the database queried: the URL's, or the embedded one's default
	cluster     bool   // the URL names a cluster: its Distributed tables hold every shard's rows
}

func sourceFlags(fs *flag.FlagSet) *source {
	return &source{
		dbPath: fs.String("db", "./pcapload.db", "data directory of the embedded database"),
		url: fs.String("to", "", "query a server instead, over HTTP: http(s)://[USER[:PASS]@]HOST:PORT/DB\n"+
			"(with ?cluster=NAME, report reads the cluster's Distributed tables)"),
	}
}

// openSource parses the arguments of cmd, which takes a database and no
// other argument, and opens the database.
func (e *env) openSource(cmd string, args []string) (*source, error) {
	fs := e.flagSet(cmd, "[--db PATH | --to URL]")
	src := sourceFlags(fs)
	if err := e.parse(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("%s: unexpected argument %q", cmd, fs.Arg(0))
	}
	return src.open(fs, cmd)
}

// open opens the embedded database, unless the flags name a server.
func (s *source) open(fs *flag.FlagSet, cmd string) (*source, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *s.url != "" {
		if set["db"] {
			return nil, usagef("%s: --db and --to name two databases: give one", cmd)
		}
		t, err := clickhouse.Parse(*s.url)
		if err != nil {
			return nil, usagef("%s: --to %s: %v", cmd, *s.url, err)
		}
		if t.Protocol != clickhouse.HTTP {
			return nil, usagef("%s: --to %s: queries go to a server's HTTP interface: give its http:// or https:// URL", cmd, t)
		}
		if t.Cluster != "" && cmd == "schema rebuild-views" {
			return nil, usagef("%s: --to %s: views are each shard's: run it on each shard's URL, without ?cluster=", cmd, t)
		}
		if t.Cluster != "" && cmd != "report" {
			// Accepted and ignored, it read one shard's rows (a hostile run).
			return nil, usagef("%s: --to %s: a statement names a cluster's tables itself (dns_messages%s, "+
				"capture_files%s), or goes to each shard; ?cluster= is report's", cmd, t,
				clickhouse.DistributedSuffix, clickhouse.DistributedSuffix)
		}
		s.cluster, s.database = t.Cluster != "", t.Database
		return s, nil
	}
	d, err := openExisting(*s.dbPath)
	if err != nil {
		return nil, err
	}
	s.db, s.database = d, "default"
	return s, nil
}

func (s *source) query(ctx context.Context, q, format string) ([]byte, error) {
	var out bytes.Buffer
	err := s.queryTo(ctx, q, format, &out)
	return out.Bytes(), err
}

// queryTo writes the answer to q to w; a server's as it comes, not held
// whole (a 1 GB answer took 2 GB).
func (s *source) queryTo(ctx context.Context, q, format string, w io.Writer) error {
	if s.db != nil {
		out, err := s.db.Query(ctx, q, format)
		if err == nil {
			_, err = w.Write(out)
		}
		return err
	}
	return clickhouse.Query(ctx, *s.url, q, format, w)
}

func (s *source) close() {
	if s.db != nil {
		s.db.Close()
	}
}

// openExisting opens an embedded database that a load created, so that a
// mistyped --db is an error rather than a new empty database.
func openExisting(path string) (*chdb.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database: %w (load some captures into it first)", err)
	}
	return chdb.Open(path)
}

func (e *env) schema(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("schema: want print, apply or rebuild-views")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, schemaUsage)
		return errHelp
	case "print":
		fs := e.flagSet("schema print", "")
		if err := e.parse(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("schema print: unexpected argument %q", fs.Arg(0))
		}
		for _, q := range schema.Setup("default") {
			fmt.Fprintf(e.stdout, "%s;\n\n", strings.TrimSpace(q))
		}
		return nil
	case "rebuild-views":
		return e.rebuildViews(ctx, args[1:])
	case "apply":
	default:
		return usagef("schema: %q: want print, apply or rebuild-views", args[0])
	}
	fs := e.flagSet("schema apply", "[--db PATH | --to URL]")
	db := fs.String("db", "./pcapload.db", "data directory of the embedded database")
	to := fs.String("to", "", "apply to a server instead: clickhouse://host:port/database or "+
		"http(s)://host:port/database, ?cluster=NAME for every shard of a cluster")
	if err := e.parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("schema apply: unexpected argument %q", fs.Arg(0))
	}
	if *to != "" {
		return e.applyTo(ctx, *to)
	}
	d, err := chdb.Open(*db)
	if err != nil {
		return err
	}
	defer d.Close()
	for _, ddl := range schema.Setup("default") {
		if err := d.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("apply schema to %s: %w", *db, err)
		}
	}
	fmt.Fprintf(e.stdout, "schema version %d applied to %s\n", schema.Version, *db)
	return nil
}

const schemaUsage = `Usage: pcapload schema print|apply|rebuild-views

  print                         print the statements apply runs: tables, views,
                                the upgrades of older tables and the version record
  apply [--db PATH | --to URL]  run them on the embedded database or a server
  rebuild-views [--db PATH | --to http(s)://...]
                                make passive_dns and message_counts count every
                                row of dns_messages once (after a crash left them
                                short); no load may run meanwhile, and none may
                                be unfinished
`

// rebuildViews makes the views' tables hold the aggregates of every row of
// dns_messages once, by inserting the difference of each group
// (schema.CorrectViewsSQL). Emptying them and filling them again cleared
// their deduplication logs too: a failed load loaded again then had the
// views count again the inserts they held.
func (e *env) rebuildViews(ctx context.Context, args []string) error {
	d, err := e.openSource("schema rebuild-views", args)
	if err != nil {
		return err
	}
	defer d.close()
	// Each table is read first: a view's table emptied and then not filled
	// (no dns_messages to fill it from) lost its rows (a hostile run).
	for _, table := range []string{schema.Table, schema.PassiveDNSTable, schema.CountsTable} {
		q := fmt.Sprintf("SELECT 1 FROM %s.%s LIMIT 0", schema.QuoteIdent(d.database), schema.QuoteIdent(table))
		if _, err := d.query(ctx, q, "TSV"); err != nil {
			return fmt.Errorf("rebuild views: %s.%s cannot be read (run pcapload schema apply first?): %w",
				d.database, table, err)
		}
	}
	// A load that began and did not end may send, loaded again, an insert
	// that is in dns_messages and not in the views: counted now, it would
	// be counted twice then.
	unfinished, err := load.NewLedger(sourceConn{d}, d.database, "").Unfinished(ctx)
	if err != nil {
		return fmt.Errorf("rebuild views: %w", err)
	}
	if len(unfinished) > 0 {
		return fmt.Errorf("rebuild views: the loads of %s began and did not end: load them again first, "+
			"or their inserts would be counted twice", someOf(unfinished))
	}
	for _, q := range schema.CorrectViewsSQL(d.database) {
		if _, err := d.query(ctx, q, "TSV"); err != nil {
			return fmt.Errorf("rebuild views: %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "views %s and %s rebuilt from %s\n", schema.PassiveDNSTable, schema.CountsTable, schema.Table)
	return nil
}

// sourceConn is a source as a load.Conn, for the Ledger's queries.
type sourceConn struct{ s *source }

func (c sourceConn) Exec(ctx context.Context, q string) error {
	_, err := c.s.query(ctx, q, "TSV")
	return err
}

func (c sourceConn) QueryString(ctx context.Context, q string) (string, error) {
	out, err := c.s.query(ctx, q, "TSVRaw")
	return string(out), err
}

// applyTo creates the tables on the server named by url.
func (e *env) applyTo(ctx context.Context, url string) error {
	s, err := clickhouse.Open(url, clickhouse.Options{})
	if err != nil {
		return usagef("schema apply: --to %s: %v", url, err)
	}
	defer s.Close()
	if err := s.ApplySchema(ctx); err != nil {
		return fmt.Errorf("apply schema to %s: %w", s.Name(), err)
	}
	fmt.Fprintf(e.stdout, "schema version %d applied to %s\n", schema.Version, s.Name())
	return nil
}
