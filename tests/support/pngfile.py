"""8-bit RGB PNG files as the tests read and write them, with the standard
library only.

    png_bytes(rgb, width, height, level)   an RGB file of interleaved bytes,
                                           every row of filter type 0
    chunk(kind, body)     one chunk, to build files that are not
    write_png(path, width, height, rgb, level)
    read_png(path)        (width, height, interleaved RGB bytes) of a
                          non-interlaced 8-bit RGB or RGBA file, any filter
                          (alpha dropped)
    read_png_rgb(path)    the same with values in [0, 1]

Readers raise ValueError on anything else.
"""

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind, body):
    """A chunk: length, kind, body and CRC."""
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def png_bytes(rgb, width, height, level=-1):
    """An 8-bit RGB PNG of interleaved values (0 to 255), compressed at zlib
    `level` (-1: zlib's default)."""
    stride = 3 * width
    raw = b"".join(b"\x00" + bytes(rgb[y * stride:(y + 1) * stride]) for y in range(height))
    return (SIGNATURE
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, level))
            + chunk(b"IEND", b""))


def write_png(path, width, height, rgb, level=-1):
    with open(path, "wb") as f:
        f.write(png_bytes(rgb, width, height, level))


def read_png(path):
    """(width, height, interleaved RGB bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != SIGNATURE:
        raise ValueError("%s: not a PNG file" % path)
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if header is None:
        raise ValueError("%s: no IHDR" % path)
    width, height, depth, ctype, _, _, interlace = header
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("%s: unsupported PNG variant" % path)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                if ftype == 1:
                    pred = a
                elif ftype == 2:
                    pred = b
                elif ftype == 3:
                    pred = (a + b) // 2
                elif ftype == 4:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                else:
                    raise ValueError("%s: bad filter type %d" % (path, ftype))
                line[i] = (line[i] + pred) & 255
        out += line if bpp == 3 else b"".join(bytes(line[i:i + 3]) for i in range(0, stride, 4))
        prev = line
    return width, height, bytes(out)


def read_png_rgb(path):
    """(width, height, interleaved RGB values in [0, 1])."""
    width, height, rgb = read_png(path)
    return width, height, [v / 255.0 for v in rgb]
