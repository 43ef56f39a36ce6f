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
package schema
