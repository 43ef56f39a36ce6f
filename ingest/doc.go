// Package ingest finds capture files and decodes the DNS messages in them.
//
// Expand turns the command line's inputs (files, directories, globs and "-"
// for standard input) into a list of Inputs. Decode reads one Input, whatever
// its format and compression (package capture), decodes every packet
// (package packet) and every DNS message (package dnsmsg), and hands each
// message to a callback as a schema.Row, counting every packet under exactly
// one reason in FileStats.
package ingest
