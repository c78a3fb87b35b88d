#!/usr/bin/env bash
# Whole-process median time of `castform check --all` (release) beside cfn-lint 1.58.0 over the
# same synthesized templates, in the same run. Goal: castform at least 30 times faster.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-11}
lint_runs=${LINT_RUNS:-5}
scripts/setup-scanners >/dev/null
cargo build --release --quiet --bin castform
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./target/release/castform synth --all --out "$out" >/dev/null
mapfile -t templates < <(find "$out" -name '*.template.json' | sort)

# shellcheck source=benches/lib.sh
source "$(git rev-parse --show-toplevel)/benches/lib.sh"

castform_us=$(for _ in $(seq "$runs"); do time_us ./target/release/castform check --all; done | median)
lint_us=$(for _ in $(seq "$lint_runs"); do time_us .venv-scanners/bin/cfn-lint -- "${templates[@]}"; done | median)
awk -v c="$castform_us" -v l="$lint_us" -v n="${#templates[@]}" -v r="$runs" -v lr="$lint_runs" 'BEGIN {
  printf "castform check --all: %d templates, median %.1f ms over %d runs (synth + 32 rules + registry schemas)\n", n, c / 1000, r
  printf "cfn-lint 1.58.0:      same templates, median %.1f ms over %d runs\n", l / 1000, lr
  printf "ratio: castform is %.0fx faster (goal: 30x)\n", l / c
}'
