# SPDX-License-Identifier: GPL-2.0-or-later
"""Pictures for the in-lab tests: images in and out (Pillow), the guests' test
pattern, and a minimal VNC (RFB 3.8) client that fetches one full frame.

Pixels are bytes, 3 per pixel (R, G, B), row by row.
"""
import socket
import struct

# What tests/kmod/sim/guest/draw.c puts on the screen, quadrant by quadrant
# (top left, top right, bottom left, bottom right).
PATTERN = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


def read_image(path):
    """(width, height, pixels) of an image file (PNG, PPM: what QEMU's
    screendump writes), with Debian's Pillow."""
    from PIL import Image
    with Image.open(path) as img:
        rgb = img.convert("RGB")
        return rgb.width, rgb.height, rgb.tobytes()


def write_png(path, w, h, px):
    """A PNG of the pixels."""
    from PIL import Image
    Image.frombytes("RGB", (w, h), px).save(path)


def check_pattern(w, h, px):
    """What is wrong with the pattern on (w, h, px): an empty list if nothing."""
    bad = []
    for q in range(4):
        x0, y0 = (q % 2) * (w // 2), (q // 2) * (h // 2)
        total = good = 0
        # every 7th pixel of the quadrant, away from its edges
        for y in range(y0 + 4, y0 + h // 2 - 4, 7):
            for x in range(x0 + 4, x0 + w // 2 - 4, 7):
                i = (y * w + x) * 3
                total += 1
                good += tuple(px[i:i + 3]) == PATTERN[q]
        if good < total * 0.99:
            i = ((y0 + h // 4) * w + x0 + w // 4) * 3
            bad.append(f"quadrant {q}: {good}/{total} pixels are {PATTERN[q]}, "
                       f"its centre is {tuple(px[i:i + 3])}")
    return bad


def _recv(s, n):
    buf = b""
    while len(buf) < n:
        part = s.recv(n - len(buf))
        if not part:
            raise ConnectionError("the VNC server closed the connection")
        buf += part
    return buf


def vnc_frame(host, port, timeout=30):
    """(width, height, pixels) of one full frame from a VNC server that asks
    for no password (security type None), in the Raw encoding."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        version = _recv(s, 12)
        if not version.startswith(b"RFB 003."):
            raise ValueError(f"not a VNC server: {version!r}")
        s.sendall(b"RFB 003.008\n")
        types = _recv(s, _recv(s, 1)[0])
        if 1 not in types:
            raise ValueError(f"the server wants authentication: security types {list(types)}")
        s.sendall(b"\x01")
        if struct.unpack(">I", _recv(s, 4))[0] != 0:
            raise ValueError("security handshake failed")
        s.sendall(b"\x01")                                  # ClientInit: shared
        w, h = struct.unpack(">HH", _recv(s, 4))
        _recv(s, 16)                                        # the server's pixel format
        _recv(s, struct.unpack(">I", _recv(s, 4))[0])       # desktop name
        # 32 bits per pixel, little-endian, 8 bits each of red, green, blue
        s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        s.sendall(struct.pack(">BxHi", 2, 1, 0))            # SetEncodings: Raw only
        s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))  # a full, non-incremental update
        px = bytearray(w * h * 3)
        msg = _recv(s, 1)[0]
        while msg != 0:                                     # skip bells, colour maps
            if msg == 2:
                pass
            elif msg == 3:
                _recv(s, 3)
                _recv(s, struct.unpack(">I", _recv(s, 4))[0])
            else:
                raise ValueError(f"unexpected VNC message {msg}")
            msg = _recv(s, 1)[0]
        _recv(s, 1)
        for _ in range(struct.unpack(">H", _recv(s, 2))[0]):
            x, y, rw, rh, enc = struct.unpack(">HHHHi", _recv(s, 12))
            if enc != 0:
                raise ValueError(f"rectangle in encoding {enc}, asked for Raw only")
            data = _recv(s, rw * rh * 4)
            for row in range(rh):
                line = data[row * rw * 4:(row + 1) * rw * 4]     # B, G, R, X
                rgb = bytearray(rw * 3)
                rgb[0::3], rgb[1::3], rgb[2::3] = line[2::4], line[1::4], line[0::4]
                i = ((y + row) * w + x) * 3
                px[i:i + rw * 3] = rgb
        return w, h, bytes(px)
