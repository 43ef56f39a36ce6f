// Command craftcap writes the crafted captures of package internal/craft
// and their expected rows into a directory:
//
//	craftcap -o testdata/crafted
//
// Exit status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pcapload/pcapload/internal/craft"
)

func main() {
	err := run(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "craftcap:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run writes every file of craft.Files into the directory named by -o,
// creating it if needed, and reports the count on stderr.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("craftcap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("o", "", "output `directory`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	var total int
	for _, f := range craft.Files() {
		if err := os.WriteFile(filepath.Join(*dir, f.Name), f.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
		total += len(f.Data)
	}
	fmt.Fprintf(stderr, "craftcap: %d files, %d bytes in %s\n", len(craft.Files()), total, *dir)
	return nil
}
