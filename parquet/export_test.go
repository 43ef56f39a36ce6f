package parquet

// SetPageBytes sets the page size for a test and returns what restores it.
func SetPageBytes(n int) (restore func()) {
	old := pageBytes
	pageBytes = n
	return func() { pageBytes = old }
}

// SetDictBytes sets the dictionaries' bound for a test and returns what
// restores it.
func SetDictBytes(n int) (restore func()) {
	old := dictBytes
	dictBytes = n
	return func() { dictBytes = old }
}
