package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pcapload/pcapload/load"
	"github.com/pcapload/pcapload/schema"
)

// ErrNoCluster reports a cluster the server's remote_servers does not name.
var ErrNoCluster = errors.New("no such cluster")

// DistributedSuffix ends the name of the Distributed table a cluster load
// creates over each MergeTree table of the schema: dns_messages_all reads
// dns_messages on every shard.
const DistributedSuffix = "_all"

// cluster is the shards of a Target with a Cluster. Each shard is a Sink of
// its own with the schema's tables and load records, so a file is loaded
// exactly once on the one shard its hash picks, by the unchanged
// protocol of load.Ledger.
type cluster struct {
	shards []*Sink // in shard_num order
	slots  []int   // the shard of each unit of weight, as Distributed picks
}

// shardSQL lists the first replica of every shard of cluster %s as
// "weight host port" items. Replicas are left out: without ZooKeeper they
// are not replicated and one copy per shard is all a load writes.
const shardSQL = "SELECT arrayStringConcat(groupArray(concat(toString(shard_weight), ' ', " +
	"host_address, ' ', toString(port))), ',') FROM (SELECT * FROM system.clusters " +
	"WHERE cluster = %s AND replica_num = 1 ORDER BY shard_num)"

// setupCluster finds the shards from the entry server's remote_servers
// and creates the schema's tables on each shard one by one (the engine
// refuses ON CLUSTER without ZooKeeper: "Replicated DDL queries are
// disabled"), then the Distributed tables over them (see ensureTables).
// A shard that fails leaves the others loading: its own files fail as
// they begin, when it is tried again; with one shard down, every file of
// the run failed (a new user's run). It fails when every shard does.
func (s *Sink) setupCluster(ctx context.Context) error {
	c, err := s.openShards(ctx)
	if err != nil {
		return err
	}
	s.cluster = c
	var errs []error
	for _, sh := range c.shards {
		if err := sh.ensureTables(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shard %s: %w", sh.target.Addr, err))
		}
	}
	if len(errs) == len(c.shards) {
		return errors.Join(errs...)
	}
	return nil
}

// openShards opens a Sink on every shard of the target's cluster, by the
// native protocol: remote_servers gives native ports only. The shards
// take the target's user, password and database.
func (s *Sink) openShards(ctx context.Context) (*cluster, error) {
	if s.cluster != nil {
		return s.cluster, nil
	}
	// Asked on the system database: the URL's may not exist yet on this
	// server (each shard creates its own, see ensureDatabase).
	var out string
	err := s.onSystem(ctx, func(ins inserter) error {
		return s.retry(ctx, func(ctx context.Context) (err error) {
			out, err = ins.query(ctx, fmt.Sprintf(shardSQL, schema.Quote(s.target.Cluster)))
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read cluster %s: %w", s.target.Cluster, err)
	}
	if out == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoCluster, s.target.Cluster)
	}
	c := &cluster{}
	for i, item := range strings.Split(out, ",") {
		f := strings.Fields(item)
		w, err := strconv.Atoi(f[0])
		if len(f) != 3 || err != nil {
			return nil, fmt.Errorf("read cluster %s: unexpected shard %q", s.target.Cluster, item)
		}
		t := s.target
		t.Protocol, t.TLS, t.Cluster, t.Addr = Native, false, "", net.JoinHostPort(f[1], f[2])
		sh, err := Open(t.url(), s.opt)
		if err != nil {
			c.close()
			return nil, err
		}
		sh.distributedOver = s.target.Cluster
		c.shards = append(c.shards, sh)
		for range w {
			c.slots = append(c.slots, i)
		}
	}
	return c, nil
}

// distributedSQL lists the MergeTree tables of database %s, each followed
// by ":h" when it has a file_hash column to shard by.
const distributedSQL = "SELECT arrayStringConcat(groupArray(t), ',') FROM (SELECT " +
	"concat(table, if(countIf(name = 'file_hash') > 0, ':h', '')) AS t FROM system.columns " +
	"WHERE database = %[1]s AND table IN (SELECT name FROM system.tables WHERE database = %[1]s " +
	"AND engine LIKE '%%MergeTree' AND NOT startsWith(name, '.')) GROUP BY table ORDER BY table)"

// createDistributed creates NAME_all over every MergeTree table NAME of
// the database on s. Tables with a file_hash are sharded by
// cityHash64(file_hash), as the loader picks shards, so that an insert
// through the Distributed table lands a file where a load puts it; the
// others (the views' aggregates) at random.
func (s *Sink) createDistributed(ctx context.Context, clusterName string) error {
	db, conn := s.target.Database, retryConn{s}
	out, err := conn.QueryString(ctx, fmt.Sprintf(distributedSQL, schema.Quote(db)))
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, item := range strings.Split(out, ",") {
		table, byHash := strings.CutSuffix(item, ":h")
		if table == "" || strings.HasSuffix(table, DistributedSuffix) {
			continue
		}
		key := "rand()"
		if byHash {
			key = "cityHash64(file_hash)"
		}
		q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %[1]s.%[2]s AS %[1]s.%[3]s "+
			"ENGINE = Distributed(%[4]s, %[5]s, %[6]s, %[7]s)",
			schema.QuoteIdent(db), schema.QuoteIdent(table+DistributedSuffix), schema.QuoteIdent(table),
			schema.Quote(clusterName), schema.Quote(db), schema.Quote(table), key)
		if err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create distributed table: %w", err)
		}
	}
	return nil
}

// shardOf returns the shard a file goes to: the slot cityHash64(hash)
// modulo the total weight, as a Distributed table sharded by
// cityHash64(file_hash) chooses. The engine computes the hash, so the
// two always agree.
func (s *Sink) shardOf(ctx context.Context, hash string) (*Sink, error) {
	sh, err := s.shardsOf(ctx, []load.File{{Hash: hash}})
	if err != nil {
		return nil, err
	}
	return sh[0], nil
}

// shardsOf returns the shard of each file, as shardOf does, in one query.
func (s *Sink) shardsOf(ctx context.Context, files []load.File) ([]*Sink, error) {
	c := s.cluster
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = schema.Quote(f.Hash)
	}
	q := fmt.Sprintf("SELECT arrayStringConcat(arrayMap(h -> toString(cityHash64(h) %% %d), [%s]), ',')",
		len(c.slots), strings.Join(quoted, ", "))
	out, err := retryConn{s}.QueryString(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("choose shard: %w", err)
	}
	slots := strings.Split(out, ",")
	if len(slots) != len(files) {
		return nil, fmt.Errorf("choose shard: unexpected slots %q", out)
	}
	shards := make([]*Sink, len(files))
	for i, v := range slots {
		slot, err := strconv.Atoi(v)
		if err != nil || slot < 0 || slot >= len(c.slots) {
			return nil, fmt.Errorf("choose shard: unexpected slot %q", v)
		}
		shards[i] = c.shards[c.slots[slot]]
	}
	return shards, nil
}

// beginShard begins f on its shard.
func (s *Sink) beginShard(ctx context.Context, f load.File) (load.FileSink, error) {
	sh, err := s.shardOf(ctx, f.Hash)
	if err != nil {
		return nil, err
	}
	return sh.Begin(f)
}

func (c *cluster) close() error {
	var errs []error
	for _, sh := range c.shards {
		errs = append(errs, sh.Close())
	}
	return errors.Join(errs...)
}
