package schema

import "fmt"

// Tables filled by materialized views from every insert into dns_messages.
const (
	// PassiveDNSTable holds one row per answer record seen (owner name,
	// type, RDATA), with when it was first and last seen and how often.
	PassiveDNSTable = "passive_dns"
	// CountsTable holds message counts per minute, sensor, QTYPE, rcode,
	// transport and direction (query or response).
	CountsTable = "message_counts"
)

// ViewsDDL returns the statements that create the passive DNS and
// per-minute count tables and the materialized views that fill them.
//
// Both tables keep partial aggregates, one per insert, that the engine
// merges in the background: queries aggregate again (min of first_seen,
// max of last_seen, sum of count and messages) rather than trusting that
// merges are done.
//
// The tables keep a deduplication window like dns_messages: a view's
// insert carries a token derived from the insert into dns_messages, so an
// insert sent again by a retry or a rerun, dropped there, is dropped here
// too and counted once (TestViews_MatchDirect holds this; without the
// window the rerun is counted twice).
//
// Views see inserts only: rows from before the views existed are not in
// them. The rows of a file replaced (with --force, or by a run after a
// crash cut its group short, see load.Ledger) are taken out of them by
// UncountViewsSQL before they are deleted from dns_messages.
func ViewsDDL(database string) []string {
	db := QuoteIdent(database)
	return []string{
		fmt.Sprintf(passiveDNSDDL, db, PassiveDNSTable, DedupWindow),
		fmt.Sprintf(passiveDNSView, db, PassiveDNSTable, db, PassiveDNSTable, db, Table),
		fmt.Sprintf(countsDDL, db, CountsTable, DedupWindow),
		fmt.Sprintf(countsView, db, CountsTable, db, CountsTable, db, Table),
	}
}

// passiveDNSDDL keys by name first: the passive DNS question is "what did
// this name resolve to".
const passiveDNSDDL = `CREATE TABLE IF NOT EXISTS %s.%s
(
    name String COMMENT 'answer record owner name',
    type UInt16 COMMENT 'answer record type',
    data String COMMENT 'RDATA in presentation form',
    first_seen SimpleAggregateFunction(min, DateTime64(9, 'UTC')) COMMENT 'earliest packet time',
    last_seen SimpleAggregateFunction(max, DateTime64(9, 'UTC')) COMMENT 'latest packet time',
    count SimpleAggregateFunction(sum, UInt64) COMMENT 'responses that carried the record'
)
ENGINE = AggregatingMergeTree
ORDER BY (name, type, data)
SETTINGS non_replicated_deduplication_window = %d
`

// passiveDNSView reads the answer section of responses only: a query's
// answer section is empty but for odd or hostile messages.
const passiveDNSView = "CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s_mv TO %s.%s AS\n" + passiveDNSSelect

const passiveDNSSelect = `SELECT name, type, data, min(time) AS first_seen, max(time) AS last_seen, count() AS count
FROM %s.%s
ARRAY JOIN answer_names AS name, answer_types AS type, answer_data AS data
WHERE qr
GROUP BY name, type, data
`

const countsDDL = `CREATE TABLE IF NOT EXISTS %s.%s
(
    minute DateTime('UTC') COMMENT 'packet time rounded down to the minute',
    sensor LowCardinality(String),
    qtype UInt16,
    rcode UInt16,
    transport LowCardinality(String),
    qr Bool COMMENT 'true for responses',
    messages UInt64,
    bytes UInt64 COMMENT 'sum of message sizes'
)
ENGINE = SummingMergeTree((messages, bytes))
PARTITION BY toDate(minute)
ORDER BY (minute, sensor, qtype, rcode, transport, qr)
SETTINGS non_replicated_deduplication_window = %d
`

const countsView = "CREATE MATERIALIZED VIEW IF NOT EXISTS %s.%s_mv TO %s.%s AS\n" + countsSelect

const countsSelect = `SELECT toStartOfMinute(time) AS minute, sensor, qtype, rcode, transport, qr,
    count() AS messages, sum(size) AS bytes
FROM %s.%s
GROUP BY minute, sensor, qtype, rcode, transport, qr
`

// ViewUncount is an insert that takes rows out of a view's table.
type ViewUncount struct {
	Table string
	SQL   string // with a %s for the quoted insert_deduplication_token
}

// A reload that brings other rows than the replaced ones (--force with
// other ports or sensor) leaves the replaced records in passive_dns with
// count 0 and their first and last seen, which a min or max cannot take
// back; queries leave out groups whose count sums to 0.
//
// UncountViewsSQL returns, for each view's table, the insert of the
// aggregates of the rows of dns_messages whose file_hash is one of
// quotedHashes (quoted and comma-separated),
// their counts negated (two's complement, as the UInt64 sums wrap), as
// the views would have inserted them. Their first and last seen are the
// rows' own, which a min or max of the same rows again leaves as it was.
//
// TODO(views): on a server, two cases stay inexact (the embedded engine
// corrects both after the run, see load.EmbeddedSink.CheckViews). Rows
// loaded before the views existed were never counted, and a replacement
// of their file takes them out all the same. And a server killed inside
// an insert can leave the table's part written and the views' not (the
// engine commits them one after the other): the replacement then takes
// out rows the views never counted, two inserts' a file at most. The
// correction needs no load running meanwhile, which one loader of a
// server cannot know; a record in capture_files of what the views counted
// of each generation would fix it.
func UncountViewsSQL(database, quotedHashes string) []ViewUncount {
	db := QuoteIdent(database)
	return []ViewUncount{
		{PassiveDNSTable, fmt.Sprintf(`INSERT INTO %s.%s SETTINGS insert_deduplication_token = %%s
SELECT name, type, data, min(time) AS first_seen, max(time) AS last_seen, bitNot(count()) + 1 AS count
FROM %s.%s
ARRAY JOIN answer_names AS name, answer_types AS type, answer_data AS data
WHERE qr AND file_hash IN (%s)
GROUP BY name, type, data`, db, PassiveDNSTable, db, Table, quotedHashes)},
		{CountsTable, fmt.Sprintf(`INSERT INTO %s.%s SETTINGS insert_deduplication_token = %%s
SELECT toStartOfMinute(time) AS minute, sensor, qtype, rcode, transport, qr,
    bitNot(count()) + 1 AS messages, bitNot(sum(size)) + 1 AS bytes
FROM %s.%s
WHERE file_hash IN (%s)
GROUP BY minute, sensor, qtype, rcode, transport, qr`, db, CountsTable, db, Table, quotedHashes)},
	}
}

// CorrectViewsSQL returns, for each view's table, the insert of what it
// lacks, by group, to hold the aggregates of every row of dns_messages
// once: the rows' aggregate less what the table holds (negated counts
// wrap, as UncountViewsSQL's do), where they differ. A record passive_dns
// counted more of than there are keeps its own first and last seen; the
// others take the rows'. Correcting again finds nothing to add.
//
// The inserts are not deduplicated: a correction the same as one made
// before is not a retry. No load may run meanwhile, and none may be
// unfinished: loaded again, it may send an insert that dns_messages holds
// and the views lack, which they would count twice. Unlike emptying the
// tables and filling them again, the correction keeps their deduplication
// logs, by which the views drop the inserts of a failed load sent again.
// A first or last seen that replaced rows left stays.
func CorrectViewsSQL(database string) []string {
	db := QuoteIdent(database)
	return []string{
		fmt.Sprintf(`INSERT INTO %[1]s.%[2]s SETTINGS insert_deduplicate = 0
SELECT name, type, data, if(rows = 0, held_first, rows_first) AS first_seen, if(rows = 0, held_last, rows_last) AS last_seen,
    rows + bitNot(held) + 1 AS count
FROM (SELECT name, type, data, min(time) AS rows_first, max(time) AS rows_last, count() AS rows
    FROM %[1]s.%[3]s ARRAY JOIN answer_names AS name, answer_types AS type, answer_data AS data
    WHERE qr GROUP BY name, type, data) AS r
FULL OUTER JOIN (SELECT name, type, data, min(first_seen) AS held_first, max(last_seen) AS held_last, sum(count) AS held
    FROM %[1]s.%[2]s GROUP BY name, type, data) AS v
USING (name, type, data)
WHERE rows != held
SETTINGS join_use_nulls = 0`, db, PassiveDNSTable, Table),
		fmt.Sprintf(`INSERT INTO %[1]s.%[2]s SETTINGS insert_deduplicate = 0
SELECT minute, sensor, qtype, rcode, transport, qr, rows + bitNot(held) + 1 AS messages,
    row_bytes + bitNot(held_bytes) + 1 AS bytes
FROM (SELECT toStartOfMinute(time) AS minute, sensor, qtype, rcode, transport, qr, count() AS rows, sum(size) AS row_bytes
    FROM %[1]s.%[3]s GROUP BY minute, sensor, qtype, rcode, transport, qr) AS r
FULL OUTER JOIN (SELECT minute, sensor, qtype, rcode, transport, qr, sum(messages) AS held, sum(bytes) AS held_bytes
    FROM %[1]s.%[2]s GROUP BY minute, sensor, qtype, rcode, transport, qr) AS v
USING (minute, sensor, qtype, rcode, transport, qr)
WHERE rows != held OR row_bytes != held_bytes
SETTINGS join_use_nulls = 0`, db, CountsTable, Table),
	}
}
