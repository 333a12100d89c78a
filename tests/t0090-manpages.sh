#!/bin/sh
# Every tool has a man page with the required sections, the pages lint
# clean, and every long option a tool's --help shows is in its page.
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

TOOLS="rate-fetch order-rate-pin pay-ingest refund-calc settle-diff img-sync"
MAN=$top_srcdir/man

test_expect_success 'the overview and schema pages exist' '
    test -s "$MAN/daigou-tools.7" && test -s "$MAN/daigou.db.5"
'

if [ -n "${MANDOC:-}" ] && [ -x "$MANDOC" ]; then
    for page in "$MAN"/*.[157]; do
        name=$(basename "$page")
        test_expect_success "mandoc -Tlint is clean for $name" '
            "$MANDOC" -Tlint -W warning "$page" >lint 2>&1
            rc=$?
            cat lint
            [ $rc -eq 0 ] && ! [ -s lint ]
        '
    done
else
    test_skip "mandoc not installed: man pages not linted"
fi

for tool in $TOOLS; do
    [ -x "$top_builddir/$tool" ] || continue
    test_expect_success "$tool has a man page with every required section" '
        page=$MAN/$tool.1 &&
        for sec in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES \
                "EXIT STATUS" EXAMPLES; do
            grep -q "^\.Sh $sec\$" "$page" ||
            { echo "missing section $sec in $page"; return 1; }
        done
    '
    test_expect_success "$tool --help exits 0 and every long option is documented" '
        "$top_builddir/$tool" --help >help &&
        grep -o -- "--[a-z][a-z0-9-]*" help | sort -u >opts &&
        test -s opts &&
        while read -r opt; do
            name=${opt#--}
            grep -q -e "^\.Fl \(-\)\?-$name\b" -e "Fl -$name" "$MAN/$tool.1" ||
            { echo "$opt is in --help but not in $tool.1"; return 1; }
        done <opts
    '
    test_expect_success "$tool --version names the suite" '
        "$top_builddir/$tool" --version >version &&
        grep -q "^$tool (daigou-tools) " version
    '
    test_expect_success "$tool rejects an unknown option with exit 64" '
        test_expect_code 64 "$top_builddir/$tool" --no-such-option 2>err &&
        grep -q "^$tool: " err
    '
done

test_done
