#!/bin/sh
# t0031-cli-options: option errors in every tool: one message in the same
# words (getopt's own is silenced), then the usage, exit 64, nothing on
# standard output.
# shellcheck disable=SC2016 # test bodies are single-quoted, eval'd later

# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/test-lib.sh"

# shellcheck disable=SC2034 # used inside the test bodies
SQ="'"

# option_error TOOL MESSAGE ARGS...: TOOL ARGS exits 64 with "TOOL:
# MESSAGE" and the usage on stderr, and nothing on stdout.
option_error() {
    oe_tool=$1
    oe_message=$2
    shift 2
    "$oe_tool" --help >usage &&
    { echo "$oe_tool: $oe_message" && cat usage; } >expect &&
    test_expect_code 64 "$oe_tool" "$@" >out 2>err &&
    test_cmp expect err &&
    test_must_be_empty out
}

for tool in rate-fetch order-rate-pin refund-calc; do
    test_expect_success "$tool: a missing option argument" '
        option_error $tool "option ${SQ}--db${SQ} needs an argument" --db &&
        option_error $tool "option ${SQ}--db${SQ} needs an argument" -q --db
    '
    test_expect_success "$tool: an unknown option" '
        option_error $tool "unknown option ${SQ}--frob${SQ}" --frob &&
        option_error $tool "unknown option ${SQ}--frob${SQ}" --frob=1 &&
        option_error $tool "unknown option ${SQ}-x${SQ}" -x &&
        option_error $tool "unknown option ${SQ}-x${SQ}" -qx
    '
    test_expect_success "$tool: an argument to an option that takes none" '
        option_error $tool "option ${SQ}--json${SQ} takes no argument" --json=yes
    '
    test_expect_success "$tool: an option name quoted, escaped and cut" '
        option_error $tool "unknown option ${SQ}--\\x1b[2J\\nx${SQ}" \
            "--$(printf "\033[2J\nx")" &&
        option_error $tool \
            "unknown option ${SQ}--$(printf "%062d" 0)${SQ}... (102 bytes)" \
            "--$(printf "%0100d" 0)"
    '
done

test_expect_success 'an abbreviation is the option it abbreviates, or ambiguous' '
    option_error rate-fetch "option ${SQ}--date${SQ} needs an argument" --dat &&
    option_error rate-fetch "option ${SQ}--pr${SQ} is ambiguous" --pr
'

test_done
