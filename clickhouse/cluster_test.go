package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/pcapload/pcapload/clickhouse/chtest"
)

// TestSink_shardOf checks that the loader sends a file to the shard that
// the Distributed table, sharded by cityHash64(file_hash), sends its
// load record to, and that both shards get some.
func TestSink_shardOf(t *testing.T) {
	servers := chtest.StartCluster(t, 2)
	s, err := Open("clickhouse://"+servers[0].TCP+"/default?cluster="+chtest.ClusterName, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.ApplySchema(ctx); err != nil {
		t.Fatalf("ApplySchema: %v", err)
	}
	if got := len(s.cluster.shards); got != len(servers) {
		t.Fatalf("found %d shards, want %d", got, len(servers))
	}

	conn := servers[1].Conn(t)
	fg := ch.Context(ctx, ch.WithSettings(ch.Settings{"distributed_foreground_insert": 1}))
	used := make(map[int]bool)
	for i := range 16 {
		hash := fmt.Sprintf("%064x", i)
		sh, err := s.shardOf(ctx, hash)
		if err != nil {
			t.Fatalf("shardOf(%s): %v", hash, err)
		}
		err = conn.Exec(fg, "INSERT INTO capture_files"+DistributedSuffix+" (file_hash) VALUES (?)", hash)
		if err != nil {
			t.Fatalf("insert through the Distributed table: %v", err)
		}
		var shardNum uint32
		err = conn.QueryRow(ctx, "SELECT _shard_num FROM capture_files"+DistributedSuffix+
			" WHERE file_hash = ?", hash).Scan(&shardNum)
		if err != nil {
			t.Fatalf("find the record of %s: %v", hash, err)
		}
		if got, want := sh.target.Addr, servers[shardNum-1].TCP; got != want {
			t.Errorf("file %s: loader picks shard %s, Distributed picks %s", hash, got, want)
		}
		used[int(shardNum)] = true
	}
	if len(used) != len(servers) {
		t.Errorf("16 files went to shards %v, want all %d", used, len(servers))
	}
}

// TestSink_unknownCluster checks that a cluster the server does not know
// fails the schema with ErrNoCluster, also when the URL's database does
// not exist, and that the server lives on.
func TestSink_unknownCluster(t *testing.T) {
	srv := chtest.Start(t)
	for _, db := range []string{"default", "missing"} {
		s, err := Open("clickhouse://"+srv.TCP+"/"+db+"?cluster=nowhere", Options{Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ApplySchema(context.Background()); !errors.Is(err, ErrNoCluster) {
			t.Errorf("%s: ApplySchema = %v, want ErrNoCluster", db, err)
		}
		s.Close()
	}
	srv.Conn(t) // pings
}

// TestSink_clusterNewDatabase creates the schema across a cluster in a
// database no shard has yet, by both protocols: every shard gets the
// database, its tables and the Distributed ones, and every server lives on.
func TestSink_clusterNewDatabase(t *testing.T) {
	servers := chtest.StartCluster(t, 2)
	urls := map[string]string{
		"by_native": "clickhouse://" + servers[0].TCP + "/by_native?cluster=" + chtest.ClusterName,
		"by_http":   "http://" + servers[1].HTTP + "/by_http?cluster=" + chtest.ClusterName,
	}
	ctx := context.Background()
	for db, url := range urls {
		s, err := Open(url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ApplySchema(ctx); err != nil {
			t.Errorf("%s: ApplySchema: %v", db, err)
		}
		s.Close()
		for i, srv := range servers {
			var n uint64
			err := srv.Conn(t).QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN "+
				"('dns_messages', 'dns_messages"+DistributedSuffix+"')", db).Scan(&n)
			if err != nil || n != 2 {
				t.Errorf("%s: shard %d has %d of dns_messages and its Distributed table (%v), want both", db, i+1, n, err)
			}
		}
	}
}
