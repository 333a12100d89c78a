#!/bin/sh
# t0000-testlib: the test library itself. If these fail, no other test
# result can be trusted.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# Inner test scripts, run by the tests below with sh(1).
cat >"$TRASH/inner-tap.sh" <<\EOF
. "$top_srcdir/tests/test-lib.sh"
test_expect_success 'passes' 'true'
test_expect_success 'fails' 'echo oops && echo "to stderr" >&2 && exit 7'
test_expect_failure_known 'broken'
test_skip 'skipped'
test_expect_success 'passes after a failure' ': && true'
test_done
EOF
cat >"$TRASH/inner-pass.sh" <<\EOF
. "$top_srcdir/tests/test-lib.sh"
test_expect_success 'passes' 'true'
test_done
EOF
cat >"$TRASH/inner-env.sh" <<\EOF
. "$top_srcdir/tests/test-lib.sh"
test_expect_success 'report' '
    printf "%s\n" "$LC_ALL" "$LANG" "$TZ" "$(date +%Z)" \
        "${DAIGOU_DB-unset}" "${DAIGOU_NOW-unset}" \
        "${DAIGOU_RATE_KEY-unset}" >"$RESULT"
'
test_done
EOF

cat >"$TRASH/inner-xfail.sh" <<\EOF
. "$top_srcdir/tests/test-lib.sh"
test_expect_failure 'still broken' 'echo why && false'
test_expect_failure 'fixed' 'true'
test_done
EOF

test_expect_success 'C locale, UTC and no DAIGOU_* from the caller' '
    env LC_ALL=fr_FR.UTF-8 LANG=fr_FR.UTF-8 TZ=Asia/Shanghai \
        DAIGOU_DB=/nonexistent/daigou.db DAIGOU_NOW=0 DAIGOU_RATE_KEY=k \
        RESULT="$PWD/result" sh "$TRASH/inner-env.sh" >tap &&
    printf "C\nC\nUTC\nUTC\nunset\nunset\nunset\n" >expect &&
    test_cmp expect result
'

test_expect_success 'test_must_fail accepts exit 1 and 65' '
    test_must_fail sh -c "exit 1" &&
    test_must_fail sh -c "exit 65"
'

test_expect_success 'test_must_fail refuses success' '
    test_expect_code 1 test_must_fail true 2>err &&
    echo "test_must_fail: command succeeded: true" >expect &&
    test_cmp expect err
'

test_expect_success 'test_must_fail refuses a death by signal' '
    test_expect_code 1 test_must_fail sh -c "kill -SEGV \$\$" 2>err &&
    grep -x -F "test_must_fail: command died with 139: sh -c kill -SEGV \$\$" \
        err &&
    test_expect_code 1 test_must_fail sh -c "exit 134" 2>err &&
    grep -x -F "test_must_fail: command died with 134: sh -c exit 134" err
'

test_expect_success 'test_must_fail refuses exit 127 (command not found)' '
    test_expect_code 1 test_must_fail sh -c "exit 127" 2>err &&
    grep -x -F "test_must_fail: command died with 127: sh -c exit 127" err &&
    test_expect_code 1 test_must_fail t0000-no-such-command 2>err &&
    grep -x -F "test_must_fail: command died with 127: t0000-no-such-command" \
        err
'

test_expect_success 'test_expect_code wants the exact code' '
    test_expect_code 0 true &&
    test_expect_code 3 sh -c "exit 3" &&
    test_must_fail test_expect_code 4 sh -c "exit 3" 2>err &&
    echo "test_expect_code: expected 4, got 3: sh -c exit 3" >expect &&
    test_cmp expect err &&
    test_must_fail test_expect_code 1 true 2>err &&
    echo "test_expect_code: expected 1, got 0: true" >expect &&
    test_cmp expect err
'

test_expect_success 'test_cmp passes on equal files and shows a difference' '
    printf "a\nb\n" >one &&
    printf "a\nc\n" >two &&
    test_cmp one one >out &&
    test ! -s out &&
    test_expect_code 1 test_cmp one two >out &&
    grep -x -- "-b" out &&
    grep -x -- "+c" out &&
    test_must_fail test_cmp one missing 2>err
'

test_expect_success 'test_line_count compares a line count' '
    printf "a\nb\n" >f &&
    test_line_count = 2 f &&
    test_line_count -gt 1 f &&
    test_expect_code 1 test_line_count = 3 f 2>err &&
    grep -x -F "test_line_count: f has 2 lines, want = 3" err
'

test_expect_success 'a test body starts in a fresh empty directory (1)' '
    test -z "$(ls -A)" &&
    pwd >"$TRASH/dir-1" &&
    echo x >left-over &&
    leaked=yes &&
    cd ..
'

test_expect_success 'a test body starts in a fresh empty directory (2)' '
    test -z "$(ls -A)" &&
    test -z "${leaked-}" &&
    pwd >"$TRASH/dir-2" &&
    test_must_fail test_cmp "$TRASH/dir-1" "$TRASH/dir-2" >/dev/null &&
    case $(pwd) in "$TRASH"/*) ;; *) false ;; esac
'

test_expect_success 'a failing body is "not ok" with its output; exit 1' '
    mkdir tmp &&
    test_expect_code 1 env TMPDIR="$PWD/tmp" \
        sh "$TRASH/inner-tap.sh" >actual &&
    cat >expect <<\EOF &&
ok 1 - passes
not ok 2 - fails
#   oops
#   to stderr
#   (exit 7) in:
#   echo oops && echo "to stderr" >&2 && exit 7
not ok 3 - broken # TODO known breakage
ok 4 # SKIP skipped
ok 5 - passes after a failure
1..5
EOF
    test_cmp expect actual &&
    test -z "$(ls -A tmp)"
'

test_expect_success 'all bodies passing: the plan and exit 0' '
    mkdir tmp &&
    env TMPDIR="$PWD/tmp" sh "$TRASH/inner-pass.sh" >actual &&
    printf "ok 1 - passes\n1..1\n" >expect &&
    test_cmp expect actual &&
    test -z "$(ls -A tmp)"
'

test_expect_success 'test_expect_failure: TODO while broken, TODO vanished once fixed' '
    sh "$TRASH/inner-xfail.sh" >actual &&
    cat >expect <<\EOF &&
not ok 1 - still broken # TODO known breakage
#   why
ok 2 - fixed # TODO known breakage vanished
1..2
EOF
    test_cmp expect actual
'

test_done
