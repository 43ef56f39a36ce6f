// Package memory tests the built pcapload's peak resident memory against
// the 256 MiB bound on inputs made to hold every bound at once.
package memory
