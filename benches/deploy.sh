#!/usr/bin/env bash
# Median whole-process time of an unchanged `castform deploy local` (preflight, lock, verified
# backup, no change set, propagation with its CloudFront invalidation, health check, record)
# beside `aws cloudformation deploy` of the same templates (every stack of the manifest, in its
# order) with the same parameters (a change set per stack, found empty),
# against the same local emulator in the same run. Goal: castform at least 10 times faster.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-7}
scripts/setup-emulator >/dev/null
cargo build --release --quiet --bin castform
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CASTFORM_EMULATOR_STATE=$(mktemp -d)
scripts/emulator start "$port" >/dev/null
trap 'scripts/emulator stop' EXIT
eval "$(scripts/emulator env "$port")"
export AWS_DEFAULT_REGION=us-west-2
work=$(mktemp -d)
cp -r environments assets templates "$work/"
cf=./target/release/castform
$cf --root "$work" bootstrap local >/dev/null
$cf --root "$work" deploy local >/dev/null 2>&1
$cf --root "$work" synth local --out "$work/out" >/dev/null
$cf --root "$work" outputs local --json > "$work/outputs.json"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_us() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }

stacks=$(python3 -c 'import json,sys; print(" ".join(s["name"] for s in json.load(open(sys.argv[1]))["stacks"]))' "$work/out/lunora/local/manifest.json")
aws_deploy_all() {
  for stack in $stacks; do
    params=$(python3 - "$work" "$stack" <<'PY'
import json, sys
work, stack = sys.argv[1], sys.argv[2]
m = json.load(open(f"{work}/out/lunora/local/manifest.json"))
outs = json.load(open(f"{work}/outputs.json"))
s = next(x for x in m["stacks"] if x["name"] == stack)
for k, v in s["parameters"].items():
    val = "castform-000000000000-us-west-2" if v["from"] == "bootstrap" else outs[v["stack"]][v["output"]]
    print(f"{k}={val}")
PY
)
    # shellcheck disable=SC2086
    .venv-emulator/bin/aws cloudformation deploy --template-file "$work/out/lunora/local/$stack.template.json" \
      --stack-name "lunora-player-local-$stack" --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
      ${params:+--parameter-overrides $params} || return 1
  done
}
aws_deploy_all >/dev/null 2>&1 || { echo "aws cloudformation deploy failed on the emulator" >&2; exit 1; }

cast_us=$(for _ in $(seq "$runs"); do time_us $cf --root "$work" deploy local; done | median)
aws_us=$(for _ in $(seq "$runs"); do time_us aws_deploy_all; done | median)
awk -v c="$cast_us" -v a="$aws_us" -v r="$runs" 'BEGIN {
  printf "castform deploy local (unchanged, with backup, health check, record): median %.0f ms over %d runs\n", c / 1000, r
  printf "aws cloudformation deploy, same templates and parameters:              median %.0f ms over %d runs\n", a / 1000, r
  printf "ratio: castform is %.1fx faster (goal: 10x)\n", a / c
}'
