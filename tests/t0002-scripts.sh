#!/bin/sh
# t0002-scripts: the build and test plumbing. tests/summary-driver.sh (one
# line per test file for `make check` and scripts/test) and
# scripts/configure-build (scripts/test never reuses a build directory
# configured with other options).
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# Nothing from the make check or scripts/test that runs this file.
unset DG_TEST_PROGRESS_FD MAKEFLAGS MFLAGS MAKELEVEL
DRIVER=$top_srcdir/tests/summary-driver.sh
TAP_DRIVER=$top_srcdir/build-aux/tap-driver.sh
CONFIGURE_BUILD=$top_srcdir/scripts/configure-build
export DRIVER TAP_DRIVER CONFIGURE_BUILD

cat >"$TRASH/inner.sh" <<\EOF
echo "ok 1 - first"
echo "not ok 2 - second"
echo "ok 3 # SKIP third"
echo "ok 4 - fourth"
echo "1..4"
EOF
cat >"$TRASH/inner-pass.sh" <<\EOF
echo "ok 1 - only"
echo "1..1"
EOF

# run_driver NAME [DRIVER]: run tests/summary-driver.sh on $TRASH/NAME as
# make check does; the time in its line becomes T.
run_driver() {
    sh "$DRIVER" "${2:-$TAP_DRIVER}" --test-name "$1" --log-file "$1.log" \
        --trs-file "$1.trs" --color-tests no --expect-failure no \
        --enable-hard-errors yes -- sh "$TRASH/$1"
}
untime() { sed -E 's/\([0-9]+\.[0-9]s\)$/(T)/' "$@"; }

test_expect_success 'summary-driver: tap-driver output, then one line for the file' '
    run_driver inner.sh >out &&
    untime out >actual &&
    cat >expect <<-\EOF &&
	PASS: inner.sh 1 - first
	FAIL: inner.sh 2 - second
	SKIP: inner.sh 3 # SKIP third
	PASS: inner.sh 4 - fourth
	FAIL inner.sh: 4 tests, 2 passed, 1 failed, 1 skipped (T)
	EOF
    test_cmp expect actual &&
    grep -c "^:test-result:" inner.sh.trs >count &&
    echo 4 >expect &&
    test_cmp expect count
'

test_expect_success 'summary-driver: a passing file, and the time in tenths of a second' '
    run_driver inner-pass.sh >out &&
    tail -n 1 out >last &&
    grep -Eq "^ok   inner-pass\.sh: 1 test, 1 passed, 0 failed \([0-9]+\.[0-9]s\)$" last
'

test_expect_success 'summary-driver: the line goes to DG_TEST_PROGRESS_FD when set, not to the test' '
    printf "echo \"ok 1 - fd \${DG_TEST_PROGRESS_FD-unset}\"\necho 1..1\n" >"$TRASH/inner-fd.sh" &&
    DG_TEST_PROGRESS_FD=3 run_driver inner-fd.sh >out 3>progress &&
    echo "PASS: inner-fd.sh 1 - fd unset" >expect &&
    test_cmp expect out &&
    untime progress >actual &&
    echo "ok   inner-fd.sh: 1 test, 1 passed, 0 failed (T)" >expect &&
    test_cmp expect actual &&
    DG_TEST_PROGRESS_FD=3 run_driver inner-pass.sh >out 3>progress &&
    echo "PASS: inner-pass.sh 1 - only" >expect &&
    test_cmp expect out &&
    untime progress >actual &&
    echo "ok   inner-pass.sh: 1 test, 1 passed, 0 failed (T)" >expect &&
    test_cmp expect actual
'

test_expect_success 'summary-driver: a closed DG_TEST_PROGRESS_FD falls back to stdout' '
    DG_TEST_PROGRESS_FD=7 run_driver inner-pass.sh >out 7>&- &&
    tail -n 1 out | untime >actual &&
    echo "ok   inner-pass.sh: 1 test, 1 passed, 0 failed (T)" >expect &&
    test_cmp expect actual
'

test_expect_success 'summary-driver: exits with the status of the driver it runs' '
    printf "exit 3\n" >fail-driver.sh &&
    test_expect_code 3 run_driver inner-pass.sh "$PWD/fail-driver.sh" >out &&
    untime out >actual &&
    echo "FAIL inner-pass.sh: 1 test, 0 passed, 1 failed (T)" >expect &&
    test_cmp expect actual
'

# A stand-in for configure: logs its arguments, writes a Makefile whose
# clean target is logged too, and a config.status.
cat >"$TRASH/configure" <<\EOF
#!/bin/sh
echo "configure $*" >>"$STUB_LOG"
printf 'clean:\n\techo clean >>"$(STUB_LOG)"\n' >Makefile
echo "# $*" >config.status
EOF
chmod +x "$TRASH/configure"
DG_CONFIGURE=$TRASH/configure
export DG_CONFIGURE

test_expect_success 'configure-build: configures a new build directory once' '
    STUB_LOG=$PWD/log && export STUB_LOG &&
    "$CONFIGURE_BUILD" b -q --enable-werror 2>err &&
    "$CONFIGURE_BUILD" b -q --enable-werror 2>>err &&
    echo "configure -q --enable-werror" >expect &&
    test_cmp expect log &&
    test_must_be_empty err &&
    printf "%s\n" -q --enable-werror >expect &&
    test_cmp expect b/configure-args
'

test_expect_success 'configure-build: other options configure again and clean' '
    STUB_LOG=$PWD/log && export STUB_LOG &&
    "$CONFIGURE_BUILD" b -q 2>err &&
    "$CONFIGURE_BUILD" b -q --enable-werror 2>err &&
    "$CONFIGURE_BUILD" b -q --enable-werror --enable-sanitizers 2>>err &&
    "$CONFIGURE_BUILD" b -q --enable-werror --enable-sanitizers 2>>err &&
    cat >expect <<-\EOF &&
	configure -q
	configure -q --enable-werror
	clean
	configure -q --enable-werror --enable-sanitizers
	clean
	EOF
    test_cmp expect log &&
    cat >expect <<-\EOF &&
	configure-build: '\''b'\'' was configured with other options: configuring it again (-q --enable-werror) and rebuilding
	configure-build: '\''b'\'' was configured with other options: configuring it again (-q --enable-werror --enable-sanitizers) and rebuilding
	EOF
    test_cmp expect err
'

test_expect_success 'configure-build: a build configured by hand is configured again' '
    STUB_LOG=$PWD/log && export STUB_LOG &&
    mkdir b && (cd b && "$DG_CONFIGURE" -q) &&
    "$CONFIGURE_BUILD" b -q --enable-werror 2>err &&
    "$CONFIGURE_BUILD" b -q --enable-werror 2>err &&
    touch -d "@$(($(date +%s) + 60))" b/config.status &&
    "$CONFIGURE_BUILD" b -q --enable-werror 2>err &&
    cat >expect <<-\EOF &&
	configure -q
	configure -q --enable-werror
	clean
	configure -q --enable-werror
	clean
	EOF
    test_cmp expect log
'

test_expect_success 'configure-build: a failed configure is reported, and tried again next time' '
    STUB_LOG=$PWD/log && export STUB_LOG &&
    printf "#!/bin/sh\necho \"configure \$*\" >>\"\$STUB_LOG\"\nexit 1\n" >bad &&
    chmod +x bad &&
    test_expect_code 1 env DG_CONFIGURE=$PWD/bad "$CONFIGURE_BUILD" b -q &&
    "$CONFIGURE_BUILD" b -q &&
    printf "configure -q\nconfigure -q\n" >expect &&
    test_cmp expect log
'

test_done
