#!/usr/bin/env bash
# Runs an experiment config through `dmconv run` and `dmconv check` (issue 4: CI runs a fast
# subset of experiments/). Usage: run_and_check.sh DMCONV CONFIG [--set key=value ...]
# Fails unless both succeed and every claim HOLDS (an inconclusive verdict fails too: the fast
# subset is chosen so that its claims are decided).
set -euo pipefail
dmconv="$1"; config="$2"; shift 2
out="$(mktemp -d)/results.h5"
trap 'rm -rf "$(dirname "$out")"' EXIT
OMP_WAIT_POLICY=passive "$dmconv" run "$config" --out "$out" "$@" > "$out.log" 2>&1 || { cat "$out.log"; exit 1; }
"$dmconv" check "$out" | tee "$out.check"
if grep -q -E "VIOLATED|INCONCLUSIVE" "$out.check"; then
  echo "run_and_check: a claim is not decided as holding" >&2
  exit 1
fi
