"""wire.py — the broker's wire protocol for the shell tests' Python helpers.

Mirrors common/protocol.h: a 16-byte header (magic, version, type, serial,
length) and 4-byte aligned attributes (type, length, data).
"""
import struct

MAGIC, VERSION, REPLY = 0x42435049, 1, 100
OPEN, INFO, LIST, PURGE, RELOAD, STATUS = 1, 2, 3, 4, 5, 6
A_ERROR, A_MESSAGE, A_NAME, A_ACCESS = 1, 2, 3, 4
A_REQUESTS, A_LAST = 36, 42
ACCESS_SEND, ACCESS_RECV = 1, 2


def attr(typ, data):
    pad = (4 - len(data) % 4) % 4
    return struct.pack("=HH", typ, len(data)) + data + b"\0" * pad


def packet(typ, attrs=b"", serial=1):
    return struct.pack("=IHHII", MAGIC, VERSION, typ, serial, len(attrs)) + attrs


def open_request(name, access, last=False, serial=1):
    a = attr(A_NAME, name.encode() + b"\0") + attr(A_ACCESS, struct.pack("=I", access))
    if last:
        a += attr(A_LAST, b"")
    return packet(OPEN, a, serial)


def status_request(last=False, serial=1):
    return packet(STATUS, attr(A_LAST, b"") if last else b"", serial)


def reply_error(data):
    """The ERROR attribute of a reply packet, or None."""
    if len(data) < 16:
        return None
    attrs, off = data[16:], 0
    while off + 4 <= len(attrs):
        t, l = struct.unpack("=HH", attrs[off:off + 4])
        if t == A_ERROR and l == 4:
            return struct.unpack("=I", attrs[off + 4:off + 8])[0]
        off += 4 + l + (4 - l % 4) % 4
    return None
