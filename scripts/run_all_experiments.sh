#!/usr/bin/env bash
# Runs every experiments/*.toml (`dmconv run`, or `dmconv lsi` for configs with an [lsi] section), prints each one's wall time and verdict counts, and optionally
# compares each results file bit for bit with a baseline directory of earlier results
# (scripts/compare_results.py: every /runs column but wall_seconds).
#
#   scripts/run_all_experiments.sh [--dmconv BIN] [--out DIR] [--compare BASELINE_DIR] [--jobs N] [NAME ...]
#
# --jobs N runs N experiments at a time, each with nproc/N OpenMP threads (at least 1). Most
# configs are sweeps of short runs whose inner parallel loops use two cores poorly, so two at a
# time finish the whole set sooner on a 2-core machine; results are the same bits (a run's
# numbers do not depend on its thread count), lines print as experiments finish, and each one's
# seconds are then wall time shared with the other job.
#
# Each run's seconds are kept in DIR/seconds.tsv. With --jobs > 1 the longest experiments start
# first, so that the jobs end together instead of one waiting on a long experiment started last:
# by DIR/seconds.tsv from an earlier run, else the baseline's, else experiments/seconds.tsv (the
# times measured when the set last changed; only the order depends on them).
#
# Typical use, proving a refactoring left every number alone:
#   scripts/run_all_experiments.sh --dmconv OLD/build/dmconv --out /tmp/before
#   scripts/run_all_experiments.sh --out /tmp/after --compare /tmp/before
# Exit status: 0 when every experiment ran (verdicts may be VIOLATED: that is data, see
# `dmconv check`) and every comparison was identical; 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

dmconv=build/dmconv
out=results/all
baseline=""
jobs=1
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dmconv) dmconv="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --compare) baseline="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "run_all_experiments: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ -x "$dmconv" ] || { echo "run_all_experiments: $dmconv is not an executable (build first: make build)" >&2; exit 2; }
[ -z "$baseline" ] || [ -d "$baseline" ] || { echo "run_all_experiments: --compare $baseline is not a directory" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run_all_experiments: --jobs $jobs must be a positive integer" >&2; exit 2; }
threads=0  # dmconv's default (all cores) with one job at a time
if [ "$jobs" -gt 1 ]; then threads=$(( $(nproc) / jobs )); [ "$threads" -ge 1 ] || threads=1; fi
mkdir -p "$out" || exit 2
if [ ${#names[@]} -eq 0 ]; then
  for f in experiments/*.toml; do names+=("$(basename "$f" .toml)"); done
fi

# Longest first by earlier seconds; names without a time keep their order, ahead of the timed ones.
previous=""
for candidate in "$out/seconds.tsv" "${baseline:+$baseline/seconds.tsv}" experiments/seconds.tsv; do
  if [ -n "$candidate" ] && [ -f "$candidate" ]; then previous="$candidate"; break; fi
done
if [ -n "$previous" ] && [ "$jobs" -gt 1 ]; then
  mapfile -t names < <(for name in "${names[@]}"; do
    seconds=$(awk -v n="$name" -F'\t' '$1 == n { print $2 }' "$previous")
    printf '%s\t%s\n' "${seconds:-inf}" "$name"
  done | sort -t$'\t' -k1,1gr -s | cut -f2)
fi
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }

status=0
total_start=$(date +%s.%N)
printf '%-44s %9s  %s\n' experiment seconds "verdicts / comparison"
# Runs one experiment; prints its line; exit status 1 when it failed or differs from the baseline.
run_one() {
  local name="$1" config="experiments/$1.toml" start rc seconds verdicts line comparison
  [ -f "$config" ] || { echo "run_all_experiments: no $config" >&2; return 1; }
  start=$(date +%s.%N)
  local command=run
  grep -q '^\[lsi\]' "$config" && command=lsi  # LSI profile configs: [[lsi.claim]] tables, judged by dmconv lsi
  OMP_WAIT_POLICY=passive OMP_NUM_THREADS=$([ "$threads" -gt 0 ] && echo "$threads" || nproc) \
    "$dmconv" "$command" "$config" --out "$out/$name.h5" > "$out/$name.log" 2>&1
  rc=$?
  seconds=$(elapsed "$start")
  if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    printf '%-44s %9.1f  run failed (exit %d, see %s)\n' "$name" "$seconds" "$rc" "$out/$name.log"
    return 1
  fi
  verdicts=$(grep -oE '(^ *|: )(HOLDS|VIOLATED|INCONCLUSIVE)' "$out/$name.log" | sed 's/^: //' | tr -d ' ' | sort | uniq -c | awk '{printf "%s %s  ", $1, $2}')
  line="${verdicts:-no claims}"
  local result=0
  if [ -n "$baseline" ]; then
    if [ ! -f "$baseline/$name.h5" ]; then
      line="$line| no baseline file"
      result=1
    elif comparison=$(/usr/bin/python3 scripts/compare_results.py "$baseline/$name.h5" "$out/$name.h5" 2>&1); then
      line="$line| identical"
    else
      line="$line| DIFFERENT (see $out/$name.compare.txt)"
      echo "$comparison" > "$out/$name.compare.txt"
      result=1
    fi
  fi
  printf '%-44s %9.1f  %s\n' "$name" "$seconds" "$line"
  printf '%s\t%s\n' "$name" "$seconds" >> "$times_file"
  return $result
}

running=0
for name in "${names[@]}"; do
  if [ "$jobs" -eq 1 ]; then
    run_one "$name" || status=1
    continue
  fi
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  run_one "$name" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
printf '%-44s %9.1f\n' total "$(elapsed "$total_start")"
# Keep the times of experiments not run this time; the new ones replace theirs.
if [ -f "$out/seconds.tsv" ]; then
  awk -F'\t' 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$times_file" "$out/seconds.tsv" >> "$times_file"
fi
sort "$times_file" > "$out/seconds.tsv"
exit $status
