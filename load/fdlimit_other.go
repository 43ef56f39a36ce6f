//go:build !unix

package load

import "math"

// openFilesLimit returns how many files the process may have open: no
// bound known here.
func openFilesLimit() int { return math.MaxInt32 }
