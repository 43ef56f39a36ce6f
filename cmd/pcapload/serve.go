package main

import (
	"context"
	"fmt"

	"github.com/pcapload/pcapload/internal/chdb"
)

// serve runs the embedded database as a ClickHouse server until SIGINT or
// SIGTERM ends ctx.
func (e *env) serve(ctx context.Context, args []string) error {
	fs := e.flagSet("serve", "[--db PATH] [--tcp ADDR] [--http ADDR] [--config-file FILE]")
	db := fs.String("db", "./pcapload.db", "data directory of the embedded database")
	tcp := fs.String("tcp", "127.0.0.1:9000", "native protocol address, loopback only; empty for none")
	http := fs.String("http", "127.0.0.1:8123", "HTTP interface address, loopback only; empty for none")
	config := fs.String("config-file", "", "ClickHouse server configuration to read, e.g. remote_servers for a cluster")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg := chdb.ServeConfig{TCP: *tcp, HTTP: *http, ConfigFile: *config}
	err := chdb.Serve(ctx, *db, cfg, func(s *chdb.Server) {
		fmt.Fprintf(e.stderr, "pcapload: serving %s%s%s\n", s.Path(), listening("native", *tcp), listening("HTTP", *http))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "pcapload: stopped serving %s\n", *db)
	return nil
}

// listening names one listener in the serve message, or nothing when off.
func listening(proto, addr string) string {
	if addr == "" {
		return ""
	}
	return fmt.Sprintf(", %s on %s", proto, addr)
}
