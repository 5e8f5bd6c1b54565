#!/usr/bin/env bash
# Peak RSS and PSS of every service of `npm start` under the benchmark query's load (autocannon,
# 50 connections, 30 s), what the Kubernetes requests and limits are taken from (README, Deploy).
# Runs on ports 4100-4105 and a PostgreSQL database of its own (DATABASE_URL, default the local
# server's shop_measure), so it does not collide with a running `npm start`.
#   tools/deploy/scripts/measure-services.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e 's#127.0.0.1:400#127.0.0.1:410#' -e "s#\./subgraphs#$repo/subgraphs#" supergraph.yaml > "$work/supergraph.yaml"
export SUPERGRAPH_CONFIG="$work/supergraph.yaml" SUPERGRAPH_PATH="$work/supergraph.graphql" PORT=4100 METRICS_PORT=off \
  DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shop_measure}" LOG_LEVEL=warn RATE_LIMIT_IP=10000000
node --import tsx tools/dev-stack/src/main.ts > "$work/stack.log" 2>&1 &
stack=$!
for _ in $(seq 1 240); do curl -sf localhost:4100/ready >/dev/null && break; sleep 1; done
curl -sf localhost:4100/ready >/dev/null || { cat "$work/stack.log" >&2; kill "$stack"; exit 1; }
body=$(node -e "process.stdout.write(JSON.stringify({query: require('fs').readFileSync('tools/bench/reference/query.graphql','utf8')}))")
npx autocannon -c 50 -d 30 -m POST -H content-type=application/json -b "$body" http://127.0.0.1:4100/graphql > "$work/load.log" 2>&1 &
load=$!
declare -A rss pss
while kill -0 "$load" 2>/dev/null; do
  for pid in $(pgrep -P "$stack"); do
    name=$(tr '\0' ' ' < "/proc/$pid/cmdline" | grep -o '[a-z]*/dist/main.js' | cut -d/ -f1 || true)
    [ -z "$name" ] && continue
    r=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0); p=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "${rss[$name]:-0}" ] && rss[$name]=$r
    [ "${p:-0}" -gt "${pss[$name]:-0}" ] && pss[$name]=$p
  done
  sleep 0.5
done
for name in "${!rss[@]}"; do echo "$name peak RSS $((rss[$name] / 1024)) MB, peak PSS $((pss[$name] / 1024)) MB"; done | sort
grep -E "requests in" "$work/load.log" || true
kill -TERM "$stack"; wait "$stack" || true
