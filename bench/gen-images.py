#!/usr/bin/env python3
"""Product images for img-sync's benchmark: random bytes behind a real
JPEG or PNG header, laid out as a supplier's server would hold them.

  gen-images.py --out DIR --small N --large M

writes DIR/<product_id>/<name>: N small images of 100 KiB, four to a
product (P00001/P00001-1.jpg, P00001/P00001-2.png, ...; JPEG and PNG in
turn), and M large ones of 5 MiB, one to a product (L0001/L0001.jpg).
Prints the manifest on stdout, one "product_id<TAB>path<TAB>bytes" line
per image (path relative to DIR), small images first. The bytes after
the header are random (os.urandom): nothing compresses them.
"""
import argparse
import os
import struct
import sys
import zlib

SMALL = 100 * 1024
LARGE = 5 * 1024 * 1024

# JPEG: SOI and a JFIF APP0 segment (version 1.1, no thumbnail).
JPEG = (b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00"
        + b"\x01\x01\x00\x00\x01\x00\x01\x00\x00")


def png_header(width, height):
    """PNG's signature and an IHDR chunk (8-bit RGB) with its CRC."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk) & 0xffffffff))


PNG = png_header(800, 800)


def write(path, header, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(header)
        left = size - len(header)
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--small", type=int, required=True)
    ap.add_argument("--large", type=int, required=True)
    a = ap.parse_args()
    out = sys.stdout
    for i in range(a.small):
        pid = "P%05d" % (i // 4 + 1)
        ext, header = ("jpg", JPEG) if i % 2 == 0 else ("png", PNG)
        rel = "%s/%s-%d.%s" % (pid, pid, i % 4 + 1, ext)
        write(os.path.join(a.out, rel), header, SMALL)
        out.write("%s\t%s\t%d\n" % (pid, rel, SMALL))
    for j in range(a.large):
        pid = "L%04d" % (j + 1)
        rel = "%s/%s.jpg" % (pid, pid)
        write(os.path.join(a.out, rel), JPEG, LARGE)
        out.write("%s\t%s\t%d\n" % (pid, rel, LARGE))


if __name__ == "__main__":
    main()
