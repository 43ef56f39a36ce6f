package chtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapload/pcapload/internal/testenv"
)

// ClusterName is the cluster StartCluster configures.
const ClusterName = "pcapload"

// StartCluster serves shards new databases, each on its own loopback
// ports, that one remote_servers configuration names as the shards of the
// cluster ClusterName, one replica each. Without the engine it skips, or
// fails under CI=true.
func StartCluster(tb testing.TB, shards int) []*Server {
	tb.Helper()
	testenv.RequireCHDB(tb)
	bin, dir := Binary(tb), tb.TempDir()
	servers := make([]*Server, shards)
	for i := range servers {
		servers[i] = &Server{
			Bin: bin, DB: filepath.Join(dir, fmt.Sprintf("db%d", i+1)),
			TCP: FreeAddr(tb), HTTP: FreeAddr(tb), Config: filepath.Join(dir, "cluster.xml"),
		}
	}
	if err := os.WriteFile(servers[0].Config, clusterConfig(servers), 0o644); err != nil {
		tb.Fatal(err)
	}
	for _, s := range servers {
		s.start(tb)
	}
	return servers
}

// clusterConfig is the remote_servers section naming every server's
// native address as a shard.
func clusterConfig(servers []*Server) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<clickhouse>\n  <remote_servers>\n    <%s>\n", ClusterName)
	for _, s := range servers {
		host, port, _ := net.SplitHostPort(s.TCP)
		fmt.Fprintf(&b, "      <shard><replica><host>%s</host><port>%s</port></replica></shard>\n", host, port)
	}
	fmt.Fprintf(&b, "    </%s>\n  </remote_servers>\n</clickhouse>\n", ClusterName)
	return []byte(b.String())
}
