// Package server tests the built pcapload against ClickHouse servers
// (pcapload serve): exactly-once loads across crashed and restarted
// servers, loads that run at once, clusters and shards.
package server
