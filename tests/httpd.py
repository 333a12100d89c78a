#!/usr/bin/env python3
"""httpd.py - a local HTTP/1.1 test server that can inject faults.

    httpd.py --root DIR --port-file FILE --log FILE [--script FILE]
             [--sndbuf BYTES]

Listens on 127.0.0.1 on an ephemeral port and writes the port number to
--port-file once it is listening. Quiet unless something breaks; exits 0 on
SIGTERM or SIGINT, and by itself when its parent process goes away.
--sndbuf sets SO_SNDBUF on every connection, so that the kernel holds few
body bytes ahead of the client (the bytes-per-second figures below count
bytes when the kernel takes them).

Files. GET or HEAD /a/b serves DIR/a/b with a Content-Type from the extension
(see TYPES), Content-Length, a strong ETag ("first 16 hex digits of the
SHA-256 of the content") and Last-Modified (the file's mtime). A matching
If-None-Match (or "*") gives 304; without If-None-Match, an If-Modified-Since
not older than the mtime gives 304. Missing files and directories give 404.
The validators compared are those sent: an ETag given in "headers" (a weak
W/"..." one too) replaces the content ETag for If-None-Match as well.

Script. A JSON object mapping a request path (the full path with its query
string is tried first, then the path alone, then the keys ending in "*"
whose prefix the path starts with, the longest first; the first whose list
is not used up answers) to a list of responses, used one per request in
order; when every list that matches is used up, the path is served as a
file again. A "*" key's list is shared by every path it matches. A single
object stands for a list of one. Response keys, all optional (an unknown
key is an error):

  status          int; default 200, or 302 when "location" is given
  headers         {"Name": "value"} added or replacing; a null value removes
  body            str: the body, as UTF-8
  file            str: serve DIR/file (with its ETag) instead of the path
  size            int: a generated body of that many "x" bytes
                  (none of body/file/size: a 2xx serves the requested file,
                  other statuses get a "<status> <reason>\\n" text body)
  content_type    str: the Content-Type to send, whatever the body
  location        str: the Location header, any URL (ftp://, file:///...)
  retry_after     int: seconds; str: sent as is (an HTTP date); "+N": the
                  HTTP date N seconds from now
  delay           seconds to wait before sending the status line
  rate            send the body at about N bytes a second
  chunk_size      bytes per body write and per chunk (default 16384, or a
                  tenth of "rate")
  chunk_delay     seconds to wait between body writes
  chunked         true: Transfer-Encoding: chunked, no Content-Length
  cut_after       int: send that many body bytes, then close the connection
                  (Content-Length still declares the whole body)
  content_length  int: declare this Content-Length instead of the real one
  conditional     false: ignore If-None-Match and If-Modified-Since
  times           int: answer that many requests (default 1)
  forever         true: never used up

  {"/rates.xml": [{"status": 503, "retry_after": 2}, {"rate": 100}],
   "/img/a.jpg": {"status": 500, "forever": true}}

Control requests (never scripted, never logged):

  POST /_ctl/script   body: a script; each path given replaces that path's
                      list (400 on a bad script, with the reason)
  POST /_ctl/reset    forget every scripted response, empty the log and
                      start the statistics again
  GET  /_ctl/log      the log (JSON Lines), after waiting up to 5 seconds
                      for requests still being answered
  GET  /_ctl/stats    the statistics since the start or the last reset (one
                      JSON object), after the same wait
  POST /_ctl/stats    start the statistics again, nothing else

Statistics. Control requests are never counted, and a connection counts
from its first other request until it closes:

  {"connections": {"now": 0, "peak": 3, "total": 5},
   "requests": {"now": 0, "peak": 3, "total": 20},
   "hosts": {"127.0.0.1:8080": 3, "localhost:8080": 2},
   "bytes": 2097152, "first": 1767225600.102, "last": 1767225602.349,
   "per_second": [[1767225600, 1048576], [1767225601, 1048576]]}

"peak" is the most open at once ("requests": being answered), "total" how
many there were; "hosts" the peak of requests being answered at once per
Host header; "bytes" the body bytes written in all, "first" the time the
first request arrived and "last" the time the last body bytes were written;
"per_second" the body bytes written in each second of wall time (the whole
seconds of the clock, from the first to the last with bytes, zeros
included).

Log. One JSON object a line, appended to --log just before the last bytes of
the response are written (or the connection is cut), so a client that has
its whole response will find its entry:

  {"time": 1767225600.123, "method": "GET", "path": "/a.txt?x=1",
   "status": 200, "bytes": 12, "scripted": false,
   "headers": {"If-None-Match": "\\"0123456789abcdef\\""}}

"bytes" counts body bytes written; "headers" holds those of LOGGED_HEADERS
the request had (Range is logged, not honoured); "cut": true marks a cut
connection; "error" says why a response stopped early (the client left).
"""

import argparse
import email.utils
import hashlib
import http.server
import json
import os
import select
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

TYPES = {
    ".txt": "text/plain", ".csv": "text/csv", ".xml": "text/xml",
    ".json": "application/json", ".html": "text/html",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp",
}
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "Range", "User-Agent",
                  "Accept", "Accept-Encoding")
NUM = (int, float)
KEYS = {"status": int, "headers": dict, "body": str, "file": str, "size": int,
        "content_type": str, "location": str, "retry_after": (int, str),
        "delay": NUM, "rate": NUM, "chunk_size": int, "chunk_delay": NUM,
        "chunked": bool, "cut_after": int, "content_length": int,
        "conditional": bool, "times": int, "forever": bool}
PEAKS = ("connections", "requests")
NO_BODY = (204, 304)


def parse_script(obj):
    """Check a script; return {path: [response, ...]} or raise ValueError."""
    if not isinstance(obj, dict):
        raise ValueError("a script is a JSON object")
    script = {}
    for path, resps in obj.items():
        if not path.startswith("/") or path.startswith("/_ctl/") or \
                "*" in path[:-1]:
            raise ValueError(f"bad path '{path}'")
        if isinstance(resps, dict):
            resps = [resps]
        if not isinstance(resps, list) or \
                not all(isinstance(r, dict) for r in resps):
            raise ValueError(f"'{path}': want a list of objects")
        for r in resps:
            for key, value in r.items():
                if key not in KEYS:
                    raise ValueError(f"'{path}': unknown key '{key}'")
                if not isinstance(value, KEYS[key]) or \
                        (isinstance(value, bool) and KEYS[key] is not bool):
                    raise ValueError(f"'{path}': bad value for '{key}'")
            ra = r.get("retry_after")
            if isinstance(ra, str) and ra.startswith("+") and \
                    not ra[1:].isdigit():
                raise ValueError(f"'{path}': bad value for 'retry_after'")
        script[path] = [dict(r) for r in resps]
    return script


class State:
    """The script and the log, shared by the request threads."""

    def __init__(self, root, log_path, script):
        self.root = os.path.realpath(root)
        self.log_path = log_path
        self.script = script
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.busy = 0
        self.hosts_now = {}
        self.new_stats()
        open(log_path, "w").close()

    def new_stats(self):
        """Start the statistics again (the lock held or not yet shared)."""
        old = getattr(self, "stats", None)
        now = {k: old[k]["now"] if old else 0 for k in PEAKS}
        self.stats = {k: {"now": now[k], "peak": now[k], "total": 0}
                      for k in PEAKS}
        hosts = {h: n for h, n in self.hosts_now.items() if n}
        self.stats.update({"hosts": hosts, "bytes": 0,
                           "first": None, "last": None})
        self.seconds = {}

    def count(self, what, step, host=None):
        """One more (step 1) or one fewer (-1) connection or request."""
        with self.lock:
            s = self.stats[what]
            s["now"] += step
            s["peak"] = max(s["peak"], s["now"])
            if step > 0:
                s["total"] += 1
            if host is not None:
                n = self.hosts_now.get(host, 0) + step
                self.hosts_now[host] = n
                hosts = self.stats["hosts"]
                hosts[host] = max(hosts.get(host, 0), n)
            if what == "requests" and step > 0 and \
                    self.stats["first"] is None:
                self.stats["first"] = round(time.time(), 3)

    def sent(self, n):
        """N body bytes just went to the kernel."""
        now = time.time()
        with self.lock:
            self.stats["bytes"] += n
            self.stats["last"] = round(now, 3)
            sec = int(now)
            self.seconds[sec] = self.seconds.get(sec, 0) + n

    def read_stats(self):
        with self.lock:
            self.idle.wait_for(lambda: self.busy == 0, timeout=5)
            out = dict(self.stats)
            secs = self.seconds
            out["per_second"] = [[t, secs.get(t, 0)] for t in range(
                min(secs), max(secs) + 1)] if secs else []
            return (json.dumps(out, sort_keys=True) + "\n").encode()

    def next_response(self, full_path, path):
        with self.lock:
            stars = sorted((k for k in self.script if k.endswith("*") and
                            path.startswith(k[:-1])), key=len, reverse=True)
            queue = next((self.script[k] for k in [full_path, path] + stars
                          if self.script.get(k)), None)
            if not queue:
                return None
            resp = queue[0]
            if not resp.get("forever"):
                resp["times"] = resp.get("times", 1) - 1
                if resp["times"] <= 0:
                    queue.pop(0)
            return resp

    def log(self, entry):
        line = json.dumps(entry) + "\n"
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(line)

    def read_log(self):
        with self.lock:
            self.idle.wait_for(lambda: self.busy == 0, timeout=5)
            with open(self.log_path, "rb") as f:
                return f.read()

    def reset(self):
        with self.lock:
            self.script = {}
            open(self.log_path, "w").close()
            self.new_stats()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "daigou-test-httpd"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - base class name
        pass

    def log_error(self, format, *args):  # noqa: A002
        sys.stderr.write("httpd.py: " + (format % args) + "\n")

    def setup(self):
        super().setup()
        self.counted = False
        if self.server.sndbuf:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF,
                                       self.server.sndbuf)

    def finish(self):
        try:
            super().finish()
        finally:
            if self.counted:
                self.server.state.count("connections", -1)

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def dispatch(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length > 0 else b""
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith("/_ctl/"):
            self.control(state, split.path, data)
            return
        if not self.counted:
            self.counted = True
            state.count("connections", 1)
        host = self.headers.get("Host", "")
        with state.lock:
            state.busy += 1
        state.count("requests", 1, host)
        self.entry = {"time": round(time.time(), 3), "method": self.command,
                      "path": self.path, "status": 0, "bytes": 0}
        self.logged = False
        try:
            resp = state.next_response(self.path, split.path)
            self.entry["scripted"] = resp is not None
            self.entry["headers"] = {h: self.headers[h] for h in LOGGED_HEADERS
                                     if h in self.headers}
            self.answer(state, resp or {}, split.path)
        except (BrokenPipeError, ConnectionResetError,
                ConnectionAbortedError) as e:
            self.entry["error"] = e.strerror or str(e) or type(e).__name__
            self.close_connection = True
        finally:
            if not self.logged:
                state.log(self.entry)
            state.count("requests", -1, host)
            with state.lock:
                state.busy -= 1
                state.idle.notify_all()

    def control(self, state, path, data):
        status, body = 200, b"ok\n"
        if path == "/_ctl/log" and self.command == "GET":
            body = state.read_log()
        elif path == "/_ctl/reset" and self.command == "POST":
            state.reset()
        elif path == "/_ctl/stats" and self.command == "GET":
            body = state.read_stats()
        elif path == "/_ctl/stats" and self.command == "POST":
            with state.lock:
                state.new_stats()
        elif path == "/_ctl/script" and self.command == "POST":
            try:
                script = parse_script(json.loads(data.decode("utf-8")))
                with state.lock:
                    state.script.update(script)
            except ValueError as e:  # JSONDecodeError is a ValueError
                status, body = 400, f"bad script: {e}\n".encode()
        else:
            status, body = 404, b"no such control request\n"
        self.wfile.write(b"HTTP/1.1 %d %s\r\n" % (status, self.responses[
            status][0].encode()) + b"Content-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def answer(self, state, resp, path):
        status = resp.get("status", 302 if "location" in resp else 200)
        headers = {}  # lower-case name -> (name, value)

        def put(name, value):
            headers[name.lower()] = (name, value)

        body, file_path = None, None
        if "body" in resp:
            body = resp["body"].encode("utf-8")
        elif "size" in resp:
            body = resp["size"]
        elif "file" in resp:
            file_path = resp["file"]
        elif 200 <= status < 300:
            file_path = urllib.parse.unquote(path)
        elif status not in NO_BODY:
            reason = self.responses.get(status, ("Unknown",))[0]
            body = f"{status} {reason}\n".encode()
        if file_path is not None:
            full = os.path.realpath(os.path.join(state.root,
                                                 file_path.lstrip("/")))
            if not full.startswith(state.root + os.sep) or \
                    not os.path.isfile(full):
                status, body = 404, b"404 Not Found\n"
            else:
                with open(full, "rb") as f:
                    body = f.read()
                mtime = int(os.stat(full).st_mtime)
                etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
                put("Content-Type", TYPES.get(os.path.splitext(full)[1],
                                              "application/octet-stream"))
                put("ETag", etag)
                put("Last-Modified", email.utils.formatdate(mtime,
                                                            usegmt=True))
                for name, value in resp.get("headers", {}).items():
                    if name.lower() == "etag" and value is not None:
                        etag = str(value).removeprefix("W/")
                if resp.get("conditional", True) and status == 200 and \
                        self.not_modified(etag, mtime):
                    status, body = 304, None
        if status == 304:
            headers.pop("content-type", None)
        elif body is not None and "content-type" not in headers:
            put("Content-Type", "text/plain" if isinstance(body, bytes)
                else "application/octet-stream")
        if "content_type" in resp:
            put("Content-Type", resp["content_type"])
        if "location" in resp:
            put("Location", resp["location"])
        if "retry_after" in resp:
            ra = resp["retry_after"]
            if isinstance(ra, str) and ra.startswith("+"):
                ra = email.utils.formatdate(time.time() + int(ra[1:]),
                                            usegmt=True)
            put("Retry-After", str(ra))
        self.send(status, headers, body, resp)

    def not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims is None:
            return False
        try:
            return mtime <= email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False

    def send(self, status, headers, body, resp):
        """Write the response, applying the timing and framing faults."""
        size = 0 if body is None else (
            body if isinstance(body, int) else len(body))
        chunked = bool(resp.get("chunked"))
        cut = resp.get("cut_after")
        send_body = self.command != "HEAD" and status not in NO_BODY
        if chunked:
            headers["transfer-encoding"] = ("Transfer-Encoding", "chunked")
        elif status not in NO_BODY:
            headers["content-length"] = ("Content-Length", str(
                resp.get("content_length", size)))
        for name, value in resp.get("headers", {}).items():
            if value is None:
                headers.pop(name.lower(), None)
            else:
                headers[name.lower()] = (name, str(value))
        headers["date"] = ("Date", email.utils.formatdate(usegmt=True))
        headers["server"] = ("Server", self.server_version)
        if cut is not None or self.close_connection:
            self.close_connection = True
            headers["connection"] = ("Connection", "close")
        reason = self.responses.get(status, ("Unknown",))[0]
        head = "HTTP/1.1 %d %s\r\n" % (status, reason) + "".join(
            "%s: %s\r\n" % nv for nv in headers.values()) + "\r\n"
        self.entry["status"] = status

        def writes():  # (seconds to wait, data, body bytes in it)
            yield resp.get("delay", 0), head.encode("latin-1"), 0
            if not send_body:
                return
            rate = resp.get("rate")
            step = resp.get("chunk_size") or \
                (max(1, int(rate) // 10) if rate else 16384)
            end = size if cut is None else min(cut, size)
            for off in range(0, end, step):
                n = min(step, end - off)
                piece = b"x" * n if isinstance(body, int) \
                    else body[off:off + n]
                wait = (n / rate if rate else 0) + \
                    (resp.get("chunk_delay", 0) if off else 0)
                if chunked:
                    piece = b"%x\r\n%s\r\n" % (n, piece)
                yield wait, piece, n
            if chunked and cut is None:
                yield 0, b"0\r\n\r\n", 0

        pending = None
        for item in writes():
            if pending:
                self.emit(*pending, last=False)
            pending = item
        self.emit(*pending, last=cut is None)
        if cut is not None:
            self.entry["cut"] = True
            self.flush_log()
            self.connection.shutdown(socket.SHUT_RDWR)

    def emit(self, wait, data, n, last):
        self.pause(wait)
        self.entry["bytes"] += n
        if last:
            self.flush_log()
        self.wfile.write(data)
        if n:
            self.server.state.sent(n)

    def flush_log(self):
        self.server.state.log(self.entry)
        self.logged = True

    def pause(self, seconds):
        """Sleep, but notice a client that hangs up meanwhile."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if select.select([self.connection], [], [], left)[0]:
                try:
                    peek = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    peek = b""
                if not peek:
                    raise ConnectionAbortedError("client closed")
                time.sleep(min(left, 0.05))  # a pipelined request waits


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self):
        # HTTPServer.server_bind would look the host name up.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def watch_parent(ppid):
    # Stop when the test script dies without killing us.
    while os.getppid() == ppid:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def main():
    ap = argparse.ArgumentParser(description="local HTTP test server")
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script")
    ap.add_argument("--sndbuf", type=int, default=0)
    args = ap.parse_args()
    script = {}
    if args.script:
        try:
            with open(args.script, encoding="utf-8") as f:
                script = parse_script(json.load(f))
        except (OSError, ValueError) as e:
            sys.exit(f"httpd.py: {args.script}: {e}")

    def stop(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = Server(("127.0.0.1", 0), Handler)
    server.state = State(args.root, args.log, script)
    server.sndbuf = args.sndbuf
    threading.Thread(target=watch_parent, args=(os.getppid(),),
                     daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_port)
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
