// Package embedded tests that a load into the embedded engine is exactly
// once: the built pcapload is killed, interrupted or stopped at moments of
// its load, and a run again leaves the rows, views and load records of a
// clean load.
package embedded
