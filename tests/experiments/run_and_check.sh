#!/usr/bin/env bash
# Runs an experiment config's claims (issue 4: CI runs a fast subset of experiments/).
#   run_and_check.sh DMCONV CONFIG [--set key=value ...]        `dmconv run` + `dmconv check`
#   run_and_check.sh --lsi DMCONV CONFIG [--set key=value ...]  `dmconv lsi` ([[lsi.claim]] tables)
#   run_and_check.sh --expect-inconclusive REASON DMCONV CONFIG  negative controls
# Fails unless the commands succeed and every claim HOLDS (an inconclusive verdict fails too: the
# fast subset is chosen so that its claims are decided; "vacuous" LSI rows are not verdicts).
# With --expect-inconclusive, fails unless every claim is INCONCLUSIVE and the printed reasons
# contain REASON (a negative control: evidence that must not pass a claim).
set -euo pipefail
lsi=0
expect_reason=""
if [[ "${1:-}" == "--lsi" ]]; then lsi=1; shift; fi
if [[ "${1:-}" == "--expect-inconclusive" ]]; then expect_reason="$2"; shift 2; fi
dmconv="$1"; config="$2"; shift 2
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
if [[ $lsi == 1 ]]; then
  OMP_WAIT_POLICY=passive "$dmconv" lsi "$config" --out "$dir/lsi.h5" "$@" > "$dir/check" 2> "$dir/log" ||
    { cat "$dir/log" "$dir/check"; exit 1; }
  cat "$dir/check"
  if ! grep -q -E ": HOLDS" "$dir/check"; then
    echo "run_and_check: the config has no LSI claim that holds" >&2
    exit 1
  fi
else
  OMP_WAIT_POLICY=passive "$dmconv" run "$config" --out "$dir/results.h5" "$@" > "$dir/log" 2>&1 ||
    { cat "$dir/log"; exit 1; }
  "$dmconv" check "$dir/results.h5" | tee "$dir/check"
fi
if [[ -n "$expect_reason" ]]; then
  if grep -q -E "HOLDS|VIOLATED" "$dir/check" || ! grep -q "INCONCLUSIVE" "$dir/check"; then
    echo "run_and_check: expected every claim INCONCLUSIVE" >&2
    exit 1
  fi
  if ! grep -q -F "why: $expect_reason" "$dir/check"; then
    echo "run_and_check: no verdict gives the reason '$expect_reason'" >&2
    exit 1
  fi
  exit 0
fi
if grep -q -E "VIOLATED|INCONCLUSIVE" "$dir/check"; then
  echo "run_and_check: a claim is not decided as holding" >&2
  exit 1
fi
