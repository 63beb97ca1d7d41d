"""A streamed Horizon book as text: what changed since the pair's last one, decoding only that.

Horizon's `/order_book` stream sends the whole book, as compact JSON, on every change:
`{"bids":[{level},{level},...],"asks":[...],"base":{...},"counter":{...}}`. Decoding all of it
costs many times what the few levels that changed cost, so `BookText` keeps the last book's text
cut into its frame (everything but the two arrays' contents) and its two sides, each cut (when
first needed) into its levels as written ("units": each after the first with its leading comma),
compares the next text with it (C-speed string comparisons, from each end of each side) and
decodes only the units whose text differs.

A text is taken this way only when the result is the one decoding it whole gives:
- its frame is the very text of a frame checked once: no backslash, and decoding it with a marker
  level in each array gives `bids` and `asks` holding that marker and nothing else, so whatever
  run of objects stands in each array's place is exactly that side;
- each side is a run of objects: the same text as the last book's side (which was one), or units
  each either the same text as one of the last book's (one whole level) or decoded now: with no
  whitespace the separators between objects read exactly `},{`, so when the decoder finds as many
  objects in the new units as they are, no `},{` was inside a string and each unit is one level;
- each level reads the fast way (`level_rows_fast`: integer `price_r`), as the last book's did.
Anything else (another layout, a frame that changed, whitespace, a level read the careful way)
raises NotFast or gives None, and the caller decodes the whole text.
"""
from itertools import accumulate, compress, count, repeat
from operator import add, ne, not_
from typing import Any, Dict, List, Optional, Tuple

from hummingbot.connector.exchange.stellar.stellar_book_levels import Change, Row, level_rows_fast, span_change

try:  # Hummingbot ships ujson (as the SSE reader uses), which decodes faster than the json module.
    from ujson import loads as json_loads
except ImportError:  # pragma: no cover - fallback for environments without ujson
    from json import loads as json_loads

# A side as written: its text (the array's content); its units and where each starts (then its end),
# or None, None until they are first needed.
Side = Tuple[str, Optional[List[str]], Optional[List[int]]]
Frame = Tuple[str, str, str]   # before the bids' content, between the two sides' contents, after the asks'

_PROBE_KEY = "stellar-connector-probe"
_PROBES = (f'{{"{_PROBE_KEY}":0}}', f'{{"{_PROBE_KEY}":1}}')


class NotFast(Exception):
    """This text must be decoded whole."""


class BookText:
    """The last book of a pair as Horizon wrote it, cut for comparing the next one with."""

    __slots__ = ("text", "frame", "sizes", "bids", "asks")

    def __init__(self, text: str, frame: Frame, bids: Side, asks: Side) -> None:
        self.text, self.frame, self.bids, self.asks = text, frame, bids, asks
        self.sizes = tuple(map(len, frame))

    @classmethod
    def of(cls, text: str, book: Dict[str, Any], checked_frame: Optional[Frame] = None) -> Optional["BookText"]:
        """The cut of a text that was decoded whole into `book`, or None when the next one could not be
        compared with it (another layout, a level not read the fast way). `checked_frame`: a frame
        already known good, which need not be checked again. Each side's text is all of its array's
        content: it has no backslash and an even number of quotes, so it does not end inside a
        string, and the `]` after it (the first one) closes the array."""
        i = text.find("[") + 1
        j = text.find("]", i) if i else -1
        k = text.find("[", j) + 1 if j >= 0 else 0
        end = text.find("]", k) if k else -1
        if end < 0:
            return None
        bids, asks = text[i:j], text[k:end]
        if "\\" in bids or "\\" in asks or bids.count('"') % 2 or asks.count('"') % 2:
            return None
        frame = (text[:i], text[j:k], text[end:])
        if frame != checked_frame and not _frame_is_sound(frame):
            return None
        try:
            level_rows_fast(book["bids"], True)
            level_rows_fast(book["asks"], False)
        except (KeyError, TypeError, ZeroDivisionError):
            return None
        return cls(text, frame, (bids, None, None), (asks, None, None))

    def change(self, text: str, rows: Tuple[List[Row], List[Row]],
               ordered: Tuple[Optional[bool], Optional[bool]]) -> Tuple["BookText", Change, Change]:
        """The next text's cut and each side's change (`side_change`'s answer), given the rows and order
        of the last book. Raises NotFast when the text must be decoded whole."""
        if text == self.text:
            return self, (rows[0], [], ordered[0]), (rows[1], [], ordered[1])
        head, middle, tail = self.frame
        start, middle_size, tail_size = self.sizes
        bids_end = text.find("]", start)
        asks_start = bids_end + middle_size
        asks_end = len(text) - tail_size
        if not (bids_end >= 0 and asks_start <= asks_end and text.startswith(head) and text.startswith(middle, bids_end)
                and text.endswith(tail)):
            raise NotFast
        bids, bid_change = _side(self.bids, rows[0], ordered[0], text, start, bids_end, True)
        asks, ask_change = _side(self.asks, rows[1], ordered[1], text, asks_start, asks_end, False)
        new = BookText.__new__(BookText)
        new.text, new.frame, new.sizes, new.bids, new.asks = text, self.frame, self.sizes, bids, asks
        return new, bid_change, ask_change


def _frame_is_sound(frame: Frame) -> bool:
    """No backslash (so a key in it is written as it reads), no probe key, and a marker level in place of
    each side's content is the whole of `bids` and of `asks`."""
    head, middle, tail = frame
    if any("\\" in part or _PROBE_KEY in part for part in frame):
        return False
    try:
        probe = json_loads(head + _PROBES[0] + middle + _PROBES[1] + tail)
    except ValueError:
        return False
    return type(probe) is dict and probe.get("bids") == [{_PROBE_KEY: 0}] and probe.get("asks") == [{_PROBE_KEY: 1}]


def _cut(text: str) -> List[str]:
    """The units of a run of levels: cut before each `,{` that follows a `}`. NotFast when the text has
    whitespace (so separators might not read `},{`) or the NUL it is cut at (both, as all control
    characters, are not printable)."""
    if not text:
        return []
    if " " in text or not text.isprintable():
        raise NotFast
    return text.replace("},{", "}\x00,{").split("\x00")


def _units(side: str, levels: int) -> Tuple[List[str], List[int]]:
    """A side's units and where each starts. NotFast unless there is one a level."""
    units = _cut(side)
    if len(units) != levels:
        raise NotFast
    return units, list(accumulate(map(len, units), initial=0))


def _decode(text: str, units: int, is_bid: bool) -> List[Row]:
    """The rows of `units` levels written as `text` (a run of units, its leading comma if any included)."""
    try:
        levels = json_loads("[" + (text[1:] if text[:1] == "," else text) + "]")
        if len(levels) != units:
            raise NotFast
        return level_rows_fast(levels, is_bid)
    except (ValueError, KeyError, TypeError):
        raise NotFast from None


def _side(old: Side, old_rows: List[Row], old_ordered: Optional[bool], text: str, start: int, end: int,
          is_bid: bool) -> Tuple[Side, Change]:
    """One side of the new text, text[start:end], against the old side: its cut and its change. Written
    out for the usual change (one level's amount: one unit for one); `_span` does the others."""
    old_text, units, offsets = old
    size = end - start
    if size == len(old_text) and text.startswith(old_text, start):
        return old, (old_rows, [], old_ordered)
    side = text[start:end]
    if units is None:   # the last side was read whole
        first, last = old_text.find("},{") + 1, old_text.rfind("},{") + 1
        if first and not side.startswith(old_text[:first]) and not side.endswith(old_text[last:]):
            return _whole(side, is_bid)   # both ends changed again: likely all again, so not cut
        units, offsets = _units(old_text, len(old_rows))
    n = len(units)
    if n and not side.startswith(units[0]):
        head = 0   # the best level changed: the usual case, and cheaper than the scan's set-up
    else:
        head = next(compress(count(), map(not_, map(side.startswith, units, offsets))), n)
    if head == n:
        return _span(side, units, offsets, old_text, old_rows, old_ordered, head, n, is_bid)
    rest = old_text[offsets[head + 1]:]
    if not side.endswith(rest):
        return _span(side, units, offsets, old_text, old_rows, old_ordered, head, None, is_bid)
    new = side[offsets[head]:size - len(rest)]
    if not new or new[0] != ("," if head else "{") or "},{" in new or " " in new or not new.isprintable():
        return _span(side, units, offsets, old_text, old_rows, old_ordered, head, head + 1, is_bid)
    try:   # a text without `},{` decoded into one object is one whole level
        level = json_loads(new[1:] if head else new)
        rational = level["price_r"]
        price = rational["n"] / rational["d"]
        amount = float(level["amount"])
    except (ValueError, KeyError, TypeError):
        raise NotFast from None
    row = (price, amount / price) if is_bid else (price, amount)
    cut = units.copy()
    cut[head] = new
    delta = size - len(old_text)
    cut_side = (side, cut, offsets if not delta else offsets[:head + 1] + [o + delta for o in offsets[head + 1:]])
    if price != old_rows[head][0]:   # the level's price changed too
        return cut_side, span_change(old_rows, old_ordered, head, head + 1, [row], is_bid, [head])
    rows = old_rows.copy()
    rows[head] = row
    return cut_side, (rows, [row], old_ordered)


def _span(side: str, units: List[str], offsets: List[int], old_text: str, old_rows: List[Row],
          old_ordered: Optional[bool], head: int, stop: Optional[int], is_bid: bool) -> Tuple[Side, Change]:
    """`_side` for any change: the old units before `head` are where they were, and those from `stop` on
    (when None: as many as the new side ends with) are at its end, shifted by the change in length."""
    n = len(units)
    delta = len(side) - len(old_text)
    if stop is None:
        if head == 0 and n > 2 and not side.endswith(units[-1]) and (
                delta or not side.startswith(units[n // 2], offsets[n // 2])):
            return _whole(side, is_bid)   # first, middle and last levels changed: likely all
        ends = map(add, reversed(offsets[head + 2:]), repeat(delta))
        kept = next(compress(count(), map(not_, map(side.endswith, reversed(units[head + 1:]), repeat(0), ends))),
                    n - head - 1)
        stop = n - kept
    while stop < n and offsets[stop] + delta < offsets[head]:   # what is kept at both ends may not overlap
        stop += 1
    new = side[offsets[head]:offsets[stop] + delta]
    if (new.startswith(",") or (not new and stop < n)) if head == 0 else (new and not new.startswith(",")):
        raise NotFast   # not a run of units (a side would start with a comma, or a unit lack one)
    new_units = _cut(new)
    if len(new_units) == stop - head:   # as many levels as before: only the units that differ are read
        positions = list(compress(range(head, stop), map(ne, new_units, units[head:stop])))
        if len(positions) == n and n > 1:
            return _whole(side, is_bid, new_units)
        parsed = _decode("".join([new_units[i - head] for i in positions]), len(positions), is_bid)
    elif head == 0 and stop == n:
        return _whole(side, is_bid, new_units)
    else:
        positions = None
        parsed = _decode(new, len(new_units), is_bid)
    cut = units[:head] + new_units + units[stop:]
    return (side, cut, list(accumulate(map(len, cut), initial=0))), span_change(
        old_rows, old_ordered, head, stop, parsed, is_bid, positions)


def _whole(side: str, is_bid: bool, units: Optional[List[str]] = None) -> Tuple[Side, Change]:
    """Every level changed (or likely did): the side decoded whole, no changes named (the whole book is
    applied). Without `units` it is cut when next needed: decoding it shows it is a run of objects."""
    try:
        rows = level_rows_fast(json_loads("[" + side + "]"), is_bid)
    except (ValueError, KeyError, TypeError):
        raise NotFast from None
    if units is None:
        return (side, None, None), (rows, None, None)
    if len(rows) != len(units):
        raise NotFast
    return (side, units, list(accumulate(map(len, units), initial=0))), (rows, None, None)
