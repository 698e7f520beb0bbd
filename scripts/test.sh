#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): formatting, vet, every
# test with the race detector, then 1,000 inputs of each fuzz target.
# FUZZTIME=60s scripts/test.sh fuzzes longer. The default is a count of
# inputs (1000x), not a duration: a time limit that expires while an input
# runs makes go test report a spurious "context deadline exceeded".
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 ./...

echo "== fuzz (${FUZZTIME:-1000x} each)"
# Every Fuzz* function of the module, found by name.
grep -rl --include='*_test.go' '^func Fuzz' internal | sort | while read -r file; do
  pkg="./$(dirname "$file")"
  for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "-- $pkg $name"
    go test -run='^$' -fuzz="^${name}\$" -fuzztime="${FUZZTIME:-1000x}" -fuzzminimizetime=1s "$pkg" >/tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; exit 1; }
    tail -n 1 /tmp/fuzz.$$.log
  done
done
rm -f /tmp/fuzz.$$.log
