#!/usr/bin/env bash
# make fuzz: run every Go fuzz target (func FuzzXxx in a _test.go file) for FUZZTIME each. go test -fuzz
# takes one package and one target per run, so targets are found by name and run one after the other.
# A failing input is written to the package's testdata/fuzz/FuzzXxx/: commit it, it becomes a test case.
# Usage: FUZZTIME=1m scripts/fuzz.sh [TARGET-REGEXP]
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
failed=()
while IFS=: read -r file name; do
	[[ $name =~ ${1:-.} ]] || continue
	pkg=./$(dirname "$file")
	echo "== $pkg $name ($FUZZTIME)"
	# New interesting inputs are minimized within the fuzz time: keep that short, to spend it fuzzing.
	if ! go test -run='^$' -fuzz="^$name\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=2s "$pkg"; then
		failed+=("$pkg $name")
	fi
done < <(grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed 's|^\./||; s|:func |:|' | sort)
if ((${#failed[@]})); then
	printf 'fuzz target failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
