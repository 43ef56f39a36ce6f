// Package schema is the one definition of pcapload's columns: one row per DNS
// message.
//
// Columns lists every column once, with its ClickHouse type, its Arrow type
// and how it is drawn from a decoded Row. The ClickHouse DDL (DDL), the
// Arrow schema (Arrow) and the batch builder (Builder) are all derived from
// that list, so the database, the Arrow batches and the Parquet files cannot
// disagree.
//
// Vocabulary: QName, QType and QClass are the first question's fields; RCode
// is the extended response code (header bits plus the OPT record's upper
// bits); the sections are "question", "answer", "authority" and "additional",
// stored as parallel arrays, one element per record in wire order. The OPT
// pseudo-record is not in the additional arrays; its fields are the edns_
// columns.
//
// Setup makes the ClickHouse side: dns_messages, sorted by OrderBy (the
// first question's name with its labels reversed, so that a domain and its
// subdomains are one range) and partitioned by day; capture_files, the load
// records; passive_dns and message_counts, filled by materialized views
// (ViewsDDL); and schema_version, which records Version. It also upgrades
// tables an earlier version made (UpgradeDDL), and sets how dns_messages
// merges its parts (MergeDDL). Retention, when asked for
// (RetentionDDL), counts from loaded_at, the time a row was loaded, which
// the engine fills.
//
// Limitations: a table made before version 3 keeps its old sorting key;
// the views hold nothing from before they were created until corrected
// (CorrectViewsSQL), and on a server can end short after a crash followed
// by a replacing rerun (see UncountViewsSQL's TODO).
package schema
