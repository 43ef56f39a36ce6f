package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pcapload/pcapload/clickhouse"
)

// reportQueries are what an analyst looks at first in a new load. Files
// count each file by its latest state (latestOutcomes) and list the latest
// files: an archive's thousands would bury the rest.
var reportQueries = []struct{ title, query string }{
	{"Files", `SELECT state AS status, count() AS files, sum(packets) AS packets, sum(messages) AS messages,
		sum(malformed) AS malformed FROM (` + latestOutcomes + `) GROUP BY status ORDER BY files DESC, status`},
	{"Latest files", `SELECT path, format, compression, packets, messages, malformed, state AS status
		FROM (` + latestOutcomes + `) ORDER BY latest DESC, path LIMIT 20`},
	{"Messages by type", `SELECT ` + qtypeName + ` AS type, count() AS messages,
		countIf(qr) AS responses FROM dns_messages GROUP BY type ORDER BY messages DESC, type`},
	{"Responses by rcode", `SELECT ` + rcodeName + ` AS rcode, count() AS responses
		FROM dns_messages WHERE qr GROUP BY rcode ORDER BY responses DESC, rcode`},
	{"Messages by VLAN", `SELECT vlan_outer, vlan_inner, count() AS messages
		FROM dns_messages GROUP BY vlan_outer, vlan_inner ORDER BY messages DESC, vlan_outer, vlan_inner LIMIT 10`},
	{"Top names", `SELECT lower(qname) AS name, count() AS queries, uniqExact(src_addr) AS clients
		FROM dns_messages WHERE NOT qr GROUP BY name ORDER BY queries DESC, name LIMIT 10`},
	{"Top clients", `SELECT replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS client,
		count() AS queries, uniqExact(lower(qname)) AS names
		FROM dns_messages WHERE NOT qr GROUP BY client ORDER BY queries DESC, client LIMIT 10`},
	{"Malformed messages", `SELECT malformed AS reason, count() AS messages
		FROM dns_messages WHERE malformed != '' GROUP BY reason ORDER BY messages DESC, reason`},
}

// latestOutcomes is each file's latest state: the status of its latest
// record (loaded, failed, skipped; superseded or replaced when its rows
// were taken out; loading or grouped when its load did not end), with
// the counts of its latest outcome.
const latestOutcomes = `SELECT file_hash, argMax(path, (generation, loaded_at)) AS path,
		argMaxIf(format, (generation, loaded_at), status IN ('loaded', 'failed', 'skipped')) AS format,
		argMaxIf(compression, (generation, loaded_at), status IN ('loaded', 'failed', 'skipped')) AS compression,
		argMaxIf(packets, (generation, loaded_at), status IN ('loaded', 'failed', 'skipped')) AS packets,
		argMaxIf(messages, (generation, loaded_at), status IN ('loaded', 'failed', 'skipped')) AS messages,
		argMaxIf(malformed, (generation, loaded_at), status IN ('loaded', 'failed', 'skipped')) AS malformed,
		argMax(status, (generation, loaded_at)) AS state, max(loaded_at) AS latest
		FROM capture_files GROUP BY file_hash`

// qtypeName and rcodeName print the common codes by name (RFC 1035, 3596,
// 6891 and the IANA registry) and the rest by number.
const (
	qtypeName = `transform(qtype,
		[0, 1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 41, 43, 46, 47, 48, 50, 64, 65, 99, 255, 257],
		['(no question)', 'A', 'NS', 'CNAME', 'SOA', 'PTR', 'MX', 'TXT', 'AAAA', 'SRV', 'NAPTR', 'OPT',
		'DS', 'RRSIG', 'NSEC', 'DNSKEY', 'NSEC3', 'SVCB', 'HTTPS', 'SPF', 'ANY', 'CAA'], toString(qtype))`
	rcodeName = `transform(rcode, [0, 1, 2, 3, 4, 5, 9, 16, 23],
		['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'NOTAUTH', 'BADVERS', 'BADCOOKIE'],
		toString(rcode))`
)

// distributedTables names, in the report's queries, a cluster's
// Distributed tables for the tables of one server.
var distributedTables = strings.NewReplacer(
	"FROM dns_messages ", "FROM dns_messages"+clickhouse.DistributedSuffix+" ",
	"FROM capture_files ", "FROM capture_files"+clickhouse.DistributedSuffix+" ")

func (e *env) report(ctx context.Context, args []string) error {
	d, err := e.openSource("report", args)
	if err != nil {
		return err
	}
	defer d.close()
	for _, q := range reportQueries {
		query := q.query
		if d.cluster {
			query = distributedTables.Replace(query)
		}
		out, err := d.query(ctx, query, "PrettyCompactMonoBlock")
		if err != nil && strings.Contains(err.Error(), "(UNKNOWN_TABLE)") {
			// The server's text quotes the whole query (a new user's run).
			return fmt.Errorf("report: the database has no pcapload tables: load captures into it, " +
				"or create them with pcapload schema apply")
		}
		if err != nil {
			return fmt.Errorf("report %q: %w", q.title, err)
		}
		if len(out) == 0 {
			out = []byte("(none)\n") // a bare title read as cut short
		}
		fmt.Fprintf(e.stdout, "%s\n%s\n", q.title, out)
	}
	return nil
}
