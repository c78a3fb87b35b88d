#!/usr/bin/env bash
# Whole-process time of `castform synth --all` (release build): median of N runs, and the ratio
# to `cdk synth` of the same stacks. No CDK app of these stacks exists here to time, so the
# ratio uses the issue's measured 6 s lower bound for cdk synth on these machines (6-15 s);
# pass CDK_SECONDS to compare with your own figure.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-21}
cdk_seconds=${CDK_SECONDS:-6}
cargo build --release --quiet --bin castform
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  ./target/release/castform synth --all --out "$out" >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
templates=$(find "$out" -name '*.template.json' | wc -l)
awk -v m="$median" -v c="$cdk_seconds" -v n="$runs" -v t="$templates" 'BEGIN {
  printf "castform synth --all: %d templates, median %.1f ms over %d runs\n", t, m / 1000, n
  printf "cdk synth (%.0f s baseline): %.0fx faster (goal: 200x)\n", c, (c * 1000000) / m
}'
