"""The noise of a generated portrait: a 64-bit engine seed, exported and imported as a short string.

    an-<13 base32 characters of the seed><1 checksum character>      seed 7 is "an-aaaaaaaaaaaaok"

The alphabet is RFC 4648's base32 in lower case (no padding), read case-insensitively; the checksum is the
seed's CRC-32 modulo 32, so a mistyped or truncated string is refused instead of silently drawing another face.
"""

from __future__ import annotations

import base64
import secrets
import zlib

from ..errors import BadRequest

PREFIX = "an-"
SEED_BITS = 64
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_BODY_LEN = 13  # ceil(64 / 5)
_MASK = (1 << SEED_BITS) - 1


def random_seed() -> int:
    return secrets.randbits(SEED_BITS)


def _checksum(raw: bytes) -> str:
    return _ALPHABET[zlib.crc32(raw) % 32]


def to_string(seed: int) -> str:
    seed = check_seed(seed)
    raw = seed.to_bytes(8, "big")
    body = base64.b32encode(raw).decode().rstrip("=").lower()
    return PREFIX + body + _checksum(raw)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 1 << SEED_BITS:
        raise BadRequest(f"a noise seed is an integer from 0 to 2^{SEED_BITS} - 1, got {seed!r}")
    return seed


def from_string(text: str) -> int:
    """The seed a noise string stands for; BadRequest for anything that is not one."""
    example = to_string(7)
    if not isinstance(text, str):
        raise BadRequest(f"noise must be a string like {example!r}, got {type(text).__name__}")
    clean = text.strip().lower()
    body = clean[len(PREFIX):]
    if not clean.startswith(PREFIX) or len(body) != _BODY_LEN + 1 or any(c not in _ALPHABET for c in body):
        raise BadRequest(f"{text!r} is not a noise string: expected {PREFIX!r} and {_BODY_LEN + 1} characters "
                         f"of a-z, 2-7 (like {example!r})")
    try:
        raw = base64.b32decode(body[:_BODY_LEN].upper() + "===")
    except ValueError as exc:  # binascii.Error: a final character with stray low bits
        raise BadRequest(f"{text!r} is not a valid noise string") from exc
    if _checksum(raw) != body[-1] or to_string(int.from_bytes(raw, "big")) != clean:
        raise BadRequest(f"noise {text!r} fails its checksum: it was mistyped or cut short")
    return int.from_bytes(raw, "big")


def candidate(seed: int, index: int) -> int:
    """The seed of a request's index-th candidate: the noise itself first, then unrelated-looking neighbours
    (splitmix64 of seed and index), each with a noise string of its own."""
    if index == 0:
        return seed
    z = (seed + index * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def resolve(noise: str | int | None) -> int:
    """A seed from a noise string, a plain seed (int or digits), or None (a fresh random one)."""
    if noise is None:
        return random_seed()
    if isinstance(noise, str) and noise.strip().isdigit():
        return check_seed(int(noise.strip()))
    if isinstance(noise, str):
        return from_string(noise)
    return check_seed(noise)
