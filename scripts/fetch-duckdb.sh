#!/usr/bin/env bash
# Fetches DuckDB for Node.js (@duckdb/node-api from the npm registry) into a
# cache outside the repository, once: the tests read pcapload's Parquet files
# with it, a reader written apart from arrow-go and ClickHouse. Prints the
# directory holding its node_modules.
set -euo pipefail

version="${DUCKDB_VERSION:-1.5.6-r.1}"
dir="${PCAPLOAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcapload}/duckdb/$version"

if [ ! -d "$dir/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$(dirname "$dir")"
	tmp=$(mktemp -d "$(dirname "$dir")/fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "fetching @duckdb/node-api@$version (about 70 MB) into $dir" >&2
	(cd "$tmp" && npm install --silent --no-audit --no-fund --no-save "@duckdb/node-api@$version" >/dev/null)
	rm -rf "$dir"
	mv "$tmp" "$dir"
	trap - EXIT
fi
echo "$dir"
