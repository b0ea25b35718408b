#!/usr/bin/env python3
"""Wraps an ELF in a minimal Linux bzImage, for tandem-vmm's tests.

The layout is the boot protocol's (Documentation/x86/boot.rst): "MZ", a
setup of setup_sects + 1 sectors with the setup header (setup_sects at
0x1f1, boot flag 0xaa55 at 0x1fe, "HdrS" at 0x202, version at 0x206,
payload_offset/length at 0x248/0x24c), then the protected-mode code in
which the payload lies: the compressed ELF followed by its 4-byte
little-endian unpacked size (gzip's own ISIZE is that size).

Knobs exist to break each field on purpose (the error-path tests).
"""
import argparse
import bz2
import gzip
import lzma
import struct
import sys

COMPRESSORS = {
    "gzip": lambda d: gzip.compress(d, 9, mtime=0),
    "bzip2": lambda d: bz2.compress(d, 9),
    "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                                  filters=[{"id": lzma.FILTER_X86},
                                           {"id": lzma.FILTER_LZMA2, "preset": 6}]),
    "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
}


def payload(data, comp, trailer):
    stream = COMPRESSORS[comp](data)
    if comp == "gzip":
        stream = stream[:-4]       # the ISIZE is the trailer below
    size = len(data) if trailer is None else trailer
    return stream + struct.pack("<I", size & 0xffffffff)


def bzimage(data, comp="xz", setup_sects=1, version=0x20f, boot_flag=0xaa55, trailer=None,
            payload_offset=0x40, payload_length=None, cut=0, corrupt=False):
    body = bytearray(payload(data, comp, trailer))
    if corrupt:
        for at in range(16, len(body) - 8, max(1, len(body) // 5)):
            body[at] ^= 0x5a
    sects = setup_sects or 4
    pm = (sects + 1) * 512
    out = bytearray(pm + payload_offset)
    out[0:2] = b"MZ"
    out[0x1f1] = setup_sects
    struct.pack_into("<H", out, 0x1fe, boot_flag)
    out[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", out, 0x206, version)
    struct.pack_into("<I", out, 0x248, payload_offset)
    plen = len(body) if payload_length is None else payload_length
    struct.pack_into("<I", out, 0x24c, plen & 0xffffffff)
    out += body + bytes(16)
    return bytes(out[:len(out) - cut] if cut else out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elf")
    ap.add_argument("out")
    ap.add_argument("--comp", choices=sorted(COMPRESSORS), default="xz")
    ap.add_argument("--setup-sects", type=int, default=1)
    ap.add_argument("--version", type=lambda s: int(s, 0), default=0x20f)
    ap.add_argument("--boot-flag", type=lambda s: int(s, 0), default=0xaa55)
    ap.add_argument("--trailer", type=lambda s: int(s, 0), help="unpacked size to claim")
    ap.add_argument("--payload-offset", type=lambda s: int(s, 0), default=0x40)
    ap.add_argument("--payload-length", type=lambda s: int(s, 0))
    ap.add_argument("--cut", type=int, default=0, help="drop this many bytes off the end")
    ap.add_argument("--corrupt", action="store_true", help="flip bytes inside the stream")
    a = ap.parse_args()
    with open(a.elf, "rb") as f:
        data = f.read()
    img = bzimage(data, a.comp, a.setup_sects, a.version, a.boot_flag, a.trailer,
                  a.payload_offset, a.payload_length, a.cut, a.corrupt)
    with open(a.out, "wb") as f:
        f.write(img)
    return 0


if __name__ == "__main__":
    sys.exit(main())
