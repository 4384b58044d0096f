"""The stored form of a record file's name.

Shared by every backend: the stored forms of names that are UTF-8 sort as the names
do, which `StateStore.changed` relies on to read a range of names (see
sources/chunks.py).
"""

from __future__ import annotations


def key_of(name: str) -> str:
    """The stored form of a file name: the name itself; for a name holding bytes that
    are not UTF-8 (which SQLite text cannot), "/" and the name's bytes in hex; for a
    name that starts with "/" (a bucket's key may, after its prefix), "/" before it. Hex
    digits are never "/", so the three forms never meet, and the stored forms of names
    that are UTF-8 sort as the names do (see records.py, `changed`)."""
    if name.isascii():
        return "/" + name if name[:1] == "/" else name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "/" + name.encode("utf-8", "surrogateescape").hex()
    return "/" + name if name[:1] == "/" else name


def name_of(key: str) -> str:
    """The file name `key_of` stored."""
    if key[:2] == "//":
        return key[1:]
    if key[:1] == "/":
        return bytes.fromhex(key[1:]).decode("utf-8", "surrogateescape")
    return key
