#!/bin/sh
# summary-driver.sh TAP-DRIVER [OPTIONS] -- TEST-COMMAND...: the test
# driver of `make check`. Runs Automake's tap-driver.sh with the same
# arguments, then prints one line for the test file from its .trs: name,
# number of tests, passed, failed (and skipped) and wall time. The line
# goes to stdout, or to file descriptor $DG_TEST_PROGRESS_FD when that is
# set and open (scripts/test shows these lines while the full output goes
# to a file). The exit status is tap-driver.sh's.
set -u
driver=$1
shift
name=
trs=
prev=
for a in "$@"; do
    case $prev in
    --test-name) name=$a ;;
    --trs-file) trs=$a ;;
    esac
    [ "$a" = -- ] && break
    prev=$a
done

# The tests themselves do not inherit the descriptor.
progress_fd=${DG_TEST_PROGRESS_FD:-}
unset DG_TEST_PROGRESS_FD

start=$(date +%s%N)
rc=0
sh "$driver" "$@" || rc=$?
end=$(date +%s%N)

if [ -n "$trs" ] && [ -f "$trs" ]; then
    counts=$(awk '
        /^:test-result: (PASS|XFAIL)/ { p++ }
        /^:test-result: (FAIL|ERROR|XPASS)/ { f++ }
        /^:test-result: SKIP/ { s++ }
        END { printf "%d %d %d\n", p, f, s }' "$trs")
else
    counts="0 1 0"
fi
# shellcheck disable=SC2086 # two numbers, split on purpose
set -- $counts
tenths=$(((end - start) / 100000000))
total=$(($1 + $2 + $3))
line=$(printf '%-4s %s: %d %s, %d passed, %d failed' \
    "$([ "$2" -eq 0 ] && echo ok || echo FAIL)" "${name:-?}" \
    "$total" "$([ "$total" -eq 1 ] && echo test || echo tests)" "$1" "$2")
[ "$3" -eq 0 ] || line="$line, $3 skipped"
line="$line ($((tenths / 10)).$((tenths % 10))s)"
case $progress_fd in
'') echo "$line" ;;
*[!0-9]*) echo "$line" ;;
*) eval 'echo "$line" >&'"$progress_fd" 2>/dev/null || echo "$line" ;;
esac
exit $rc
