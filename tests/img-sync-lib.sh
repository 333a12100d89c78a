# img-sync-lib.sh - what the img-sync tests (tests/t015N-img-sync-*.sh)
# share: images made on the fly, control requests to tests/httpd.py, the
# report, the request log and the whole tree of a --dir. Sourced after
# tests/test-lib.sh.
# shellcheck disable=SC2034 # SQ and the variables below are used by the tests

# libcurl would send the requests to 127.0.0.1 through a proxy.
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY
# Retries in milliseconds, not seconds.
DAIGOU_RETRY_BASE_MS=10
DAIGOU_RETRY_MAX_MS=200
export DAIGOU_RETRY_BASE_MS DAIGOU_RETRY_MAX_MS
SQ="'"

# One python3 program, its first argument saying what to do:
#   mkimg FILE TYPE SIZE   an image of SIZE bytes that starts with the magic
#                          number of TYPE (jpeg png gif webp avif; html: an
#                          error page); the rest depends on FILE's name
#   ctl reset|stats0       a control request ("stats0": POST /_ctl/stats)
#   ctl script             the script on stdin
#   ctl stats [EXPR]       the statistics, or EXPR over them ("s") printed
#   ctl requests           one line per logged request: method, path,
#                          status, body bytes, "cut", and the validators
#   ctl gaps               seconds between consecutive requests, one a line
#   report FILE KEY...     the JSON Lines report FILE, one line per row with
#                          the values of KEY... joined by "|" (null: empty),
#                          sorted
#   tree DIR               every entry under DIR, not following symbolic
#                          links: type (d, f, l), path, and the size of a
#                          file (not of the lock) or the target of a link,
#                          sorted
IMG_PY='
import hashlib, json, os, struct, sys, urllib.request
what, args = sys.argv[1], sys.argv[2:]

def filler(seed, n):
    out, i = bytearray(), 0
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])

def mkimg(path, kind, size):
    size = int(size)
    head = {
        "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
        "webp": b"RIFF" + struct.pack("<I", max(size - 8, 0)) + b"WEBPVP8 ",
        "avif": b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif",
        "html": b"<!DOCTYPE html>\n<html><head><title>Not found</title></head>"
                b"<body><h1>Sorry</h1></body></html>\n",
    }[kind]
    seed = os.path.basename(path).encode()
    body = head + filler(seed, max(size - len(head), 0))
    if kind == "html":
        body = head[:size] + b" " * max(size - len(head), 0)
    with open(path, "wb") as f:
        f.write(body[:size])

def ctl(path, data=None):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(os.environ["HTTPD_URL"] + "/_ctl/" + path,
                                 data=data)
    with opener.open(req, timeout=30) as r:
        return r.read()

def control(sub, rest):
    if sub == "reset":
        ctl("reset", b"")
    elif sub == "stats0":
        ctl("stats", b"")
    elif sub == "script":
        ctl("script", sys.stdin.buffer.read())
    elif sub == "stats":
        s = json.loads(ctl("stats"))
        print(eval(rest[0]) if rest else json.dumps(s, sort_keys=True))
    else:
        log = [json.loads(line) for line in ctl("log").splitlines()]
        for e in log if sub == "requests" else ():
            words = [e["method"], e["path"], str(e["status"]), str(e["bytes"])]
            words += ["cut"] if e.get("cut") else []
            words += ["%s=%s" % (h, e["headers"][h]) for h in
                      ("If-None-Match", "If-Modified-Since")
                      if h in e["headers"]]
            print(" ".join(words))
        for a, b in zip(log, log[1:]) if sub == "gaps" else ():
            print("%.3f" % (b["time"] - a["time"]))

def report(path, keys):
    rows = []
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        rows.append("|".join("" if r.get(k) is None else str(r[k])
                             for k in keys))
    print("\n".join(sorted(rows)) if rows else "", end="\n" if rows else "")

def tree(top):
    out = []
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                out.append("l %s -> %s" % (rel, os.readlink(p)))
            elif os.path.isdir(p):
                out.append("d %s" % rel)
            elif name == ".img-sync.lock":  # what it holds is its own
                out.append("f %s" % rel)
            else:
                out.append("f %s %d" % (rel, os.path.getsize(p)))
    print("\n".join(sorted(out)) if out else "", end="\n" if out else "")

if what == "mkimg":
    mkimg(*args)
elif what == "ctl":
    control(args[0], args[1:])
elif what == "report":
    report(args[0], args[1:])
elif what == "tree":
    tree(args[0])
'
img_py() {
    "$PYTHON3" -S -c "$IMG_PY" "$@"
}

# mkimg FILE TYPE SIZE: see above.
mkimg() {
    img_py mkimg "$@"
}

# httpd_ctl reset|stats0|script|stats [EXPR]|requests|gaps: see above.
httpd_ctl() {
    img_py ctl "$@"
}

set_script() {
    httpd_ctl script
}

requests() {
    httpd_ctl requests
}

# fresh: a new test: no script, an empty log, the statistics from zero.
fresh() {
    httpd_ctl reset
}

# report FILE KEY...: see above.
report() {
    img_py report "$@"
}

# tree DIR: see above.
tree() {
    img_py tree "$1"
}

# summary FILE: the summary lines of FILE (stderr of a run) with the time
# and the rate replaced by S and RATE.
summary() {
    sed -n 's|^\(img-sync: [0-9]* downloaded, [0-9]* unchanged, [0-9]* failed, [0-9]* bytes in \)[0-9]*\.[0-9]* s ([^)]*/s)$|\1S s (RATE/s)|p' "$1"
}

# tmp_files DIR: the temporary files left under DIR, one a line.
tmp_files() {
    find "$1" -name '.*.tmp-*' | sort
}

# sha FILE: the SHA-256 of FILE in hex.
sha() {
    sha256sum <"$1" | cut -d" " -f1
}

# etag FILE: the ETag the server sends for FILE.
etag() {
    printf '"%s"\n' "$(sha256sum <"$1" | cut -c1-16)"
}

# stamp FILE: its inode, size and mtime in nanoseconds: unchanged when
# the file was left alone.
stamp() {
    stat -c '%i %s %.9Y' "$1"
}

# free_port: a port nothing listens on (bound, then released).
free_port() {
    "$PYTHON3" -S -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
'
}

# serve_www DIR [ARG...]: the test server over DIR (ARGs to
# test_start_httpd), or the test bails out.
serve_www() {
    if ! test_start_httpd "$@"; then
        echo "Bail out! cannot start tests/httpd.py"
        exit 1
    fi
}

# list_paths PATH...: a CSV of the images at PATH... on the test server,
# products p1, p2...
list_paths() {
    echo product_id,url
    l_i=1
    for l_path in "$@"; do
        echo "p$l_i,$HTTPD_URL/$l_path"
        l_i=$((l_i + 1))
    done
}
