#!/usr/bin/env bash
# Fetches ClickHouse's engine (libchdb.so from chDB's npm package) into a cache
# outside the repository, once. Prints the library's path.
set -euo pipefail

version="${CHDB_VERSION:-26.7.3-stable.1}"
cache="${PCAPLOAD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcapload}/chdb/$version"
lib="$cache/libchdb.so"

if [ ! -s "$lib" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "fetching @chdb/lib-linux-x64-gnu@$version (about 150 MB) into $cache" >&2
	(cd "$tmp" && npm pack --silent "@chdb/lib-linux-x64-gnu@$version" >/dev/null)
	tar -xzf "$tmp"/*.tgz -C "$tmp" package/libchdb.so
	mv "$tmp/package/libchdb.so" "$lib"
fi
echo "$lib"
