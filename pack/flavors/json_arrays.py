"""JSON documents whose large arrays of numbers are read straight into numpy.

``orjson`` builds a Python object per number: a 60 MB body of numbers becomes several hundred MB of
floats and lists before it is one array. ``loads`` finds every array of numbers of at least
``MIN_ARRAY_BYTES`` that is the value of a ``"data"``, ``"inputs"`` or ``"instances"`` key, reads it
a slice of rows at a time (orjson on the slice, then into the preallocated array, so only one slice's
Python objects live at once and they stay in the CPU cache), and parses the rest of the document with
each such array replaced by a random placeholder.

The result equals ``orjson.loads(body)`` with those lists (flat, or lists of equally long rows)
replaced by numpy arrays of the same values: orjson parses every number, so the grammar and the
rounding are orjson's. Anything else (strings, null, booleans, ragged or deeper nesting, integers
past int64, a placeholder that does not land as the value of its key) falls back to plain
``orjson.loads`` of the whole body, so errors and results never depend on the fast path.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import numpy as np
import orjson

MIN_ARRAY_BYTES = 64 * 1024
SLICE_BYTES = 16 * 1024
KEYS = ("data", "inputs", "instances")

_KEY = re.compile(rb'"(data|inputs|instances)"\s*:\s*\[')
_SPACE = b" \t\r\n"
_END_2D = re.compile(rb"\]\s*\]")
Buffer = bytes | bytearray


def loads(body: Buffer | str) -> Any:
    """Parse a JSON document (see the module docstring).

    Raises:
        orjson.JSONDecodeError: the document is not valid JSON.
    """
    if len(body) < MIN_ARRAY_BYTES:
        return orjson.loads(body)
    raw = body.encode() if isinstance(body, str) else body
    spans = _numeric_spans(raw)
    if not spans:
        return orjson.loads(body)
    arrays = []
    for _key, start, end in spans:
        array = _read_array(raw, start, end)
        if array is None:
            return orjson.loads(body)
        arrays.append(array)
    token = secrets.token_hex(8)
    pieces, position = [], 0
    for index, (_key, start, end) in enumerate(spans):
        pieces += [raw[position:start], b'"\\u0000%s:%d"' % (token.encode(), index)]
        position = end
    pieces.append(raw[position:])
    try:
        document = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        return orjson.loads(body)  # raises the error of the real document
    placeholders = {f"\x00{token}:{index}": (span[0], arrays[index]) for index, span in enumerate(spans)}
    if not _substitute(document, placeholders):
        return orjson.loads(body)
    return document


def _numeric_spans(raw: Buffer) -> list[tuple[str, int, int]]:
    """``(key, start, end)`` of each large array of numbers that is the value of one of ``KEYS``."""
    spans: list[tuple[str, int, int]] = []
    match = _KEY.search(raw)
    while match is not None:
        start = match.end() - 1  # the '['
        end = None if _escaped(raw, match.start()) else _array_end(raw, start)
        if end is not None and end - start >= MIN_ARRAY_BYTES:
            spans.append((match.group(1).decode(), start, end))
            match = _KEY.search(raw, end)  # keys inside the array are not values of their own
        else:
            match = _KEY.search(raw, match.end())
    return spans


def _escaped(raw: Buffer, quote: int) -> bool:
    """True when the quote at ``quote`` follows an odd number of backslashes (it is inside a string)."""
    count = 0
    while quote - count - 1 >= 0 and raw[quote - count - 1] == 0x5C:
        count += 1
    return count % 2 == 1


def _array_end(raw: Buffer, start: int) -> int | None:
    """One past the ``]`` closing the flat or 2-D array opening at ``start`` (None: no end found).

    For rows: numbers hold no quote, so the rows end before the next ``"`` (one fast scan for a
    single byte); the last ``]]`` before it is taken. If the rows really end earlier, ``_row_pieces``
    finds a row followed by no comma and the document goes to orjson whole.
    """
    first = start + 1
    while first < len(raw) and raw[first] in _SPACE:
        first += 1
    if first < len(raw) and raw[first] == 0x5B:  # '[': rows
        quote = raw.find(b'"', first)
        close = raw.rfind(b"]]", first, quote if quote >= 0 else len(raw))
        if close >= 0:
            return close + 2
        found = _END_2D.search(raw, first)
        return found.end() if found is not None else None
    close = raw.find(b"]", first)
    return close + 1 if close >= 0 else None


def _read_array(raw: Buffer, start: int, end: int) -> np.ndarray | None:
    """The numbers of ``raw[start:end]`` as one array, read a slice at a time (None: not a flat or
    rectangular 2-D array of numbers that fit int64 or float64)."""
    flat = _is_flat(raw, start)
    pieces = _flat_pieces(raw, start, end) if flat else _row_pieces(raw, start, end)
    if pieces is None:
        return None
    parts: list[np.ndarray] = []
    for piece in pieces:
        text = b"[" + bytes(piece) + b"]"
        if b"t" in text or b"f" in text:  # true/false (null and strings fail the dtype check below)
            return None
        try:
            part = np.array(orjson.loads(text))
        except (orjson.JSONDecodeError, ValueError):
            return None
        if part.dtype.kind not in "if" or part.ndim != (1 if flat else 2) or not len(part):
            return None
        if parts and part.shape[1:] != parts[0].shape[1:]:
            return None
        parts.append(part)
    return np.concatenate(parts) if parts else None  # int and float blocks: float, as np.array would


def _is_flat(raw: Buffer, start: int) -> bool:
    first = start + 1
    while raw[first] in _SPACE:
        first += 1
    return bool(raw[first] != 0x5B)


def _flat_pieces(raw: Buffer, start: int, end: int) -> list[memoryview] | None:
    """Slices of a flat array's content (without its brackets), each cut at a comma (None: a comma
    right before the closing bracket)."""
    view = memoryview(raw)
    pieces, position, stop = [], start + 1, end - 1
    while position < stop:
        cut = raw.find(b",", min(position + SLICE_BYTES, stop), stop)
        if cut == stop - 1:
            return None
        cut = stop if cut < 0 else cut
        pieces.append(view[position:cut])
        position = cut + 1
    return pieces


def _row_pieces(raw: Buffer, start: int, end: int) -> list[memoryview] | None:
    """Slices of whole rows of a 2-D array's content (``[..],[..]``), each cut after a row's ``]``
    (None: two rows without a comma between them)."""
    view = memoryview(raw)
    pieces, position, stop = [], start + 1, end - 1
    while raw[position] in _SPACE:
        position += 1
    while position < stop:
        cut = raw.find(b"]", min(position + SLICE_BYTES, stop - 1), stop)
        if cut < 0 or cut >= stop - 1:
            pieces.append(view[position:stop])
            break
        pieces.append(view[position : cut + 1])
        position = cut + 1
        while position < stop and raw[position] in _SPACE:
            position += 1
        if position >= stop:
            break
        if raw[position] != 0x2C:  # ','
            return None
        position += 1
        while position < stop and raw[position] in _SPACE:
            position += 1
        if position >= stop:  # a comma after the last row
            return None
    return pieces


def _substitute(document: Any, placeholders: dict[str, tuple[str, np.ndarray]]) -> bool:
    """Put each array where its placeholder is; True when every placeholder was found exactly once,
    as the value of its own key."""
    found = 0
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and value in placeholders:
                    wanted, array = placeholders[value]
                    if key != wanted:
                        return False
                    node[key] = array
                    found += 1
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            for value in node:
                if isinstance(value, str) and value in placeholders:
                    return False
                if isinstance(value, (dict, list)):
                    stack.append(value)
    return found == len(placeholders)


__all__ = ["KEYS", "MIN_ARRAY_BYTES", "SLICE_BYTES", "loads"]
