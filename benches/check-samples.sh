#!/usr/bin/env bash
# Whole-process median time of `castform check` (release) beside cfn-lint 1.58.0 over AWS's 288
# sample templates (tests/samples/), one process each, in the same run; prints both medians and
# the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-11}
lint_runs=${LINT_RUNS:-3}
scripts/setup-scanners >/dev/null
cargo build --release --quiet --bin castform
cd tests/samples/aws-cloudformation-templates
mapfile -t templates < ../templates.txt

# shellcheck source=benches/lib.sh
source "$(git rev-parse --show-toplevel)/benches/lib.sh"

castform_us=$(for _ in $(seq "$runs"); do time_us ../../../target/release/castform check --region us-east-1 --template "${templates[@]}"; done | median)
lint_us=$(for _ in $(seq "$lint_runs"); do time_us ../../../.venv-scanners/bin/cfn-lint --regions us-east-1 -- "${templates[@]}"; done | median)
awk -v c="$castform_us" -v l="$lint_us" -v n="${#templates[@]}" -v r="$runs" -v lr="$lint_runs" 'BEGIN {
  printf "castform check: %d AWS sample templates, median %.1f ms over %d runs\n", n, c / 1000, r
  printf "cfn-lint 1.58.0: same templates, median %.1f ms over %d runs\n", l / 1000, lr
  printf "ratio: castform is %.0fx faster\n", l / c
}'
