# bench/lib.sh: what every benchmark script in bench/ shares. Sourced, not
# run. Parses the common options, checks what a benchmark needs, and
# measures one command at a time: its mean wall time with hyperfine, its
# peak memory with /usr/bin/time -v, printed as one result line on stdout.
# Everything meant for a person goes to stderr; stdout carries only
# result lines, which bench/run collects and bench/table.py lays out.
#
# Common options of every benchmark script:
#   --quick        smaller workloads and fewer runs: a fast check
#   --build DIR    the binaries to measure (default ${DG_BUILDDIR:-_build},
#                  relative to the top of the source tree unless absolute)
#   --before DIR   also measure the binaries of DIR (another build, of an
#                  older revision) on the same workloads, in the same run
#   --work DIR     keep inputs, outputs and databases in DIR (created if
#                  missing) for a look afterwards; default a temporary
#                  directory, removed at the end
#
# A result line is tab-separated:
#   result TOOL WORKLOAD VARIANT SUBJECT COUNT UNIT SHOW MEAN STDDEV RUNS
#          RSS_KIB GOAL CPU
# VARIANT is "this" (the binaries measured), "before" (the --before
# binaries) or "baseline"; COUNT UNIT what one run processes (1000000
# orders); SHOW "rate" (COUNT per second) or "time" (seconds) is how the
# table shows it; MEAN and STDDEV seconds; RSS_KIB the peak resident set
# of one run; GOAL empty, or for "this" rate>=N, rate<=N or time<=S, and
# for a baseline ratio>=R (this project's speed over the baseline's),
# several joined by ','; CPU the
# mean user + system seconds of a run.
#
# A benchmark never fails on a timing: it exits 0 when it ran, 1 when a
# tool and its baseline disagree where they are compared, 66 when the
# binaries are missing, 69 when a needed program is missing, 70 when a
# step could not run.

set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$(basename "$0")
quick=no
build=${DG_BUILDDIR:-_build}
before=
work=

bench_usage() {
    echo "usage: bench/$bench [--quick] [--build DIR] [--before DIR] [--work DIR]" >&2
    exit 64
}

while [[ $# -gt 0 ]]; do
    case $1 in
    --quick) quick=yes ;;
    --build) [[ $# -ge 2 ]] || bench_usage; build=$2; shift ;;
    --before) [[ $# -ge 2 ]] || bench_usage; before=$2; shift ;;
    --work) [[ $# -ge 2 ]] || bench_usage; work=$2; shift ;;
    -h | --help) bench_usage ;;
    *) bench_usage ;;
    esac
    shift
done

abs_dir() {
    local d=$1
    [[ $d == /* ]] || d=$top/$d
    (cd "$d" 2>/dev/null && pwd) || {
        echo "$bench: no directory '$1'" >&2
        exit 66
    }
}
build=$(abs_dir "$build")
[[ -z $before ]] || before=$(abs_dir "$before")

# need_bins NAME...: the binaries of the build (and of --before) exist.
need_bins() {
    local b d
    for d in "$build" ${before:+"$before"}; do
        for b in "$@"; do
            [[ -x $d/$b ]] || {
                echo "$bench: build first: $d/$b not found" >&2
                exit 66
            }
        done
    done
}

for cmd in hyperfine /usr/bin/time sqlite3 python3; do
    command -v "$cmd" >/dev/null || {
        echo "$bench: needs hyperfine, time, sqlite3 and python3" \
            "(scripts/setup, or apt-get install hyperfine time sqlite3 python3)" >&2
        exit 69
    }
done
py=$(command -v python3)

if [[ -n $work ]]; then
    mkdir -p "$work"
    work=$(cd "$work" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

# The clock of every tool and baseline: just after the days the orders
# are created on (2026-04-07 .. 2026-04-13, in the 90-day history).
export DAIGOU_NOW=2026-04-14T06:00:00Z

# Untimed runs before the timed ones, per command (a script may set it).
warmup=0

say() { echo "$bench: $*" >&2; }
q() { printf '%q' "$1"; }
# commas N: 1000000 as 1,000,000
commas() {
    local n=$1 s=
    while ((n >= 1000)); do
        s=$(printf ',%03d%s' $((n % 1000)) "$s")
        n=$((n / 1000))
    done
    echo "$n$s"
}

# measure VARIANT TOOL WORKLOAD SUBJECT COUNT UNIT SHOW RUNS GOAL PREPARE CMD
#   Times CMD (a shell command line) RUNS times after $warmup untimed
#   runs, PREPARE (may be empty)
#   before each run, untimed; then prepares once more and measures CMD's
#   peak memory. Prints the result line. hyperfine's report goes to
#   stderr; its JSON export is kept in the work directory.
measure() {
    local variant=$1 tool=$2 workload=$3 subject=$4 count=$5 unit=$6
    local show=$7 runs=$8 goal=$9 prepare=${10} cmd=${11}
    local id json rss
    id=$(printf '%s' "$tool-$variant-$subject" | tr -c 'A-Za-z0-9._-' '_')
    json=$work/$id.json
    local args=(--runs "$runs" --warmup "$warmup" --export-json "$json" -n "$subject")
    [[ -z $prepare ]] || args+=(--prepare "$prepare")
    say "timing $subject ($variant): $runs run(s)"
    hyperfine --style basic "${args[@]}" "$cmd" >&2 || {
        say "$subject could not run: $cmd"
        exit 70
    }
    [[ -z $prepare ]] || bash -c "$prepare"
    /usr/bin/time -v -o "$work/$id.time" bash -c "exec $cmd" >&2 || {
        say "$subject could not run: $cmd"
        exit 70
    }
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$id.time")
    "$py" - "$json" "$tool" "$workload" "$variant" "$subject" "$count" \
        "$unit" "$show" "$rss" "$goal" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
tool, workload, variant, subject, count, unit, show, rss, goal = sys.argv[2:]
print("\t".join(["result", tool, workload, variant, subject, count, unit,
                 show, "%.6f" % r["mean"], "%.6f" % (r["stddev"] or 0),
                 str(len(r["times"])), rss, goal,
                 "%.6f" % (r["user"] + r["system"])]))
PY
}
