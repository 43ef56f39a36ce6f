package schema

import "fmt"

// Version is the version of the schema this package makes. Setup records
// it in the schema_version table of the database it sets up.
//
//   - 1: dns_messages and capture_files as first made.
//   - 2: file_hash and the deduplication window (exactly-once loading).
//   - 3: loaded_at, the passive DNS and per-minute count views, and
//     schema_version itself.
//   - 4: qname_rev in lower case, in tables made from this version on
//     (see UpgradeDDL).
const Version = 4

// VersionTable records the schema versions applied to a database, one row
// each; the highest is the current one. A database without the table is
// of version 1 or 2.
const VersionTable = "schema_version"

// versionDDL returns the statements that create schema_version and record
// Version in it, once however often they run.
func versionDDL(database string) []string {
	db := QuoteIdent(database)
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s\n(\n"+
			"    version UInt32,\n"+
			"    applied_at DateTime('UTC') DEFAULT now()\n"+
			")\nENGINE = MergeTree\nORDER BY version\n", db, VersionTable),
		fmt.Sprintf("INSERT INTO %s.%s (version) SELECT %d WHERE "+
			"(SELECT count() FROM %s.%s WHERE version = %d) = 0",
			db, VersionTable, Version, db, VersionTable, Version),
	}
}

// VersionSQL returns the query of the database's schema version, 0 when
// none was recorded.
func VersionSQL(database string) string {
	return fmt.Sprintf("SELECT max(version) FROM %s.%s", QuoteIdent(database), VersionTable)
}
