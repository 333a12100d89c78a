#!/bin/sh
# t0138-pay-ingest-scgi-lighttpd: every request of t0135 again, through
# pay-ingest --scgi spawned by lighttpd's mod_scgi (bin-path, the
# listening socket on descriptor 0): the same status lines, headers and
# bodies as --cgi gives, the same rows and events.

ENDPOINT=scgi
# shellcheck source=/dev/null
. "${top_srcdir:-$(dirname "$0")/..}/tests/t0135-pay-ingest-lighttpd.sh"
