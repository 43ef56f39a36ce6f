package main

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"
)

// TestDeploy_clusterConfig reads deploy/cluster.xml, the README's cluster
// example: well-formed XML (no "--" in its comments, which the engine
// refuses too) naming the cluster the README loads into, and two shards
// that the README's serve commands serve.
func TestDeploy_clusterConfig(t *testing.T) {
	b, err := os.ReadFile("../../deploy/cluster.xml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Servers struct {
			Clusters []struct {
				XMLName xml.Name
				Shards  []struct {
					Host string `xml:"replica>host"`
					Port string `xml:"replica>port"`
				} `xml:"shard"`
			} `xml:",any"`
		} `xml:"remote_servers"`
	}
	if err := xml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("deploy/cluster.xml: %v", err)
	}
	if len(cfg.Servers.Clusters) != 1 {
		t.Fatalf("deploy/cluster.xml names clusters %+v, want one", cfg.Servers.Clusters)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if name := cfg.Servers.Clusters[0].XMLName.Local; !strings.Contains(string(readme), "?cluster="+name+"'") {
		t.Errorf("the README loads into no cluster %s", name)
	}
	var addrs []string
	for _, s := range cfg.Servers.Clusters[0].Shards {
		addrs = append(addrs, s.Host+":"+s.Port)
	}
	for _, a := range addrs {
		if !strings.Contains(string(readme), "--tcp "+a+" ") {
			t.Errorf("shard %s of deploy/cluster.xml is served by no command of the README", a)
		}
	}
	if len(addrs) != 2 {
		t.Errorf("shards %v, want two", addrs)
	}
}
