#!/usr/bin/env python3
"""scgi-client.py - a small SCGI client for the tests of pay-ingest --scgi.

ADDR is a unix socket path (with a '/') or HOST:PORT.

  request ADDR METHOD BODY [NAME=VALUE ...]
      one request: CONTENT_LENGTH first, SCGI=1, REQUEST_METHOD, then the
      headers given, then the body (a file); prints the answer with CR
      removed, or "(closed, no answer)". With SCGI_SENT set, that file
      is created once the request is sent.
  raw ADDR FILE
      the bytes of FILE as they are; prints the answer as request does.
  stall ADDR BODY N READY
      the first N bytes of a POST of BODY, then READY is created and the
      connection held until the server closes it; prints the answer
      (none is expected) and how it ended.
  hold DB HELD RELEASE
      takes the database's write lock (BEGIN IMMEDIATE), creates HELD,
      waits until RELEASE exists, commits.
  inherit SOCKPATH -- COMMAND...
      becomes COMMAND (the same process) with a listening unix socket
      on descriptor 3, LISTEN_FDS=1 and LISTEN_PID its pid, as
      systemd's socket units pass it.
"""
import os
import socket
import sqlite3
import sys
import time


def connect(addr):
    if "/" in addr:
        s = socket.socket(socket.AF_UNIX)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    s.settimeout(60)
    return s


def answer(s):
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except ConnectionResetError:
        return "(reset)"
    if not out:
        return "(closed, no answer)"
    return out.decode("utf-8", "replace").replace("\r", "")


def netstring_request(method, body, extra):
    pairs = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1"),
             ("REQUEST_METHOD", method)]
    for kv in extra:
        k, v = kv.split("=", 1)
        pairs.append((k, v))
    hs = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs)
    return str(len(hs)).encode() + b":" + hs + b"," + body


def main():
    cmd = sys.argv[1]
    if cmd == "request":
        addr, method, path = sys.argv[2:5]
        body = open(path, "rb").read()
        s = connect(addr)
        s.sendall(netstring_request(method, body, sys.argv[5:]))
        if os.environ.get("SCGI_SENT"):
            open(os.environ["SCGI_SENT"], "w").close()
        sys.stdout.write(answer(s))
    elif cmd == "raw":
        s = connect(sys.argv[2])
        s.sendall(open(sys.argv[3], "rb").read())
        sys.stdout.write(answer(s))
    elif cmd == "stall":
        addr, path, n, ready = sys.argv[2:6]
        s = connect(addr)
        s.sendall(netstring_request("POST", open(path, "rb").read(),
                                    [])[:int(n)])
        open(ready, "w").close()
        print(answer(s))
    elif cmd == "hold":
        db, held, release = sys.argv[2:5]
        con = sqlite3.connect(db, isolation_level=None, timeout=30)
        con.execute("BEGIN IMMEDIATE")
        open(held, "w").close()
        while not os.path.exists(release):
            time.sleep(0.02)
        con.execute("COMMIT")
        con.close()
    elif cmd == "inherit":
        path = sys.argv[2]
        argv = sys.argv[4:]
        ls = socket.socket(socket.AF_UNIX)
        ls.bind(path)
        ls.listen(64)
        os.dup2(ls.fileno(), 3)
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
        os.execvpe(argv[0], argv, env)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
