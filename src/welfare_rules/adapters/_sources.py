"""Sources: every kind of input turned into a stream of raw text batches.

A raw batch is a table of text columns named by the source's own headers, the 1-based data row
number of each of its rows, and the rows the source itself could not split into cells (too few or
too many cells), which never reach the table. Files are streamed in chunks; in-memory objects are
sliced. Typed columns (Parquet, DataFrames, SQL results) are turned into text here so that one set
of parsers validates every source the same way.
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..errors import DataError, did_you_mean
from ..formatting import number

REPLACEMENT = "\ufffd"
SNIFF_BYTES = 1 << 16


class FastReaderFailed(Exception):
    """pyarrow's CSV reader gave up on a damaged file; the tolerant reader takes over."""


@attrs.frozen
class SQLSource:
    """A SQL query to read rows from.

    Args:
        query: the ``SELECT`` to run.
        connection: a DuckDB connection, a database URL for SQLAlchemy
            (``"postgresql+psycopg://..."``, ``"sqlite:///file.db"``), or a SQLAlchemy
            ``Engine``/``Connection``.
    """

    query: str
    connection: Any


@attrs.define
class RawBatch:
    """Text cells of consecutive source rows.

    Attributes:
        table: one string column per source header (null = absent cell).
        rows: the 1-based data row number of each table row.
        rejected: ``(row, column, value, reason)`` for rows that could not be split into cells.
        blank: blank or whitespace-only lines (or sheet rows) skipped: not rows, but counted.
    """

    table: pa.Table
    rows: pa.Array
    rejected: list[tuple[int, str, str, str]] = attrs.field(factory=list)
    blank: int = 0  # blank or whitespace-only lines skipped since the previous batch


@attrs.define
class OpenedSource:
    """A source ready to stream: its display name, headers and batches."""

    name: str
    headers: list[str]
    batches: Iterator[RawBatch]
    total: int | None = None          # progress total (bytes for files, rows otherwise)
    position: Callable[[], int] = lambda: 0
    encoding: str | None = None
    fallback: Callable[[], OpenedSource] | None = None  # a slower, more tolerant reader
    notes: list[str] = attrs.field(factory=list)  # warnings about how it was read
    closers: list[Callable[[], None]] = attrs.field(factory=list)  # the handles it holds

    def close(self) -> None:
        """Release the file handles, workbooks and connections the source holds, whether or not
        its batches were read to the end (the reader calls this in a ``finally``)."""
        close = getattr(self.batches, "close", None)
        try:
            if close is not None:
                close()  # a generator: its own ``finally`` and ``with`` blocks run
        finally:
            for closer in reversed(self.closers):
                closer()
            self.closers.clear()


def unique_headers(names: Sequence[Any], source: str = "the source") -> list[str]:
    """Headers as text, blank ones named by position.

    Raises:
        DataError: a header written twice (compared trimmed, in any case): which value would
            be meant is a guess, so the file is refused, naming the header and both columns.
    """
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = "" if raw is None else str(raw).strip()
        if not name:
            name = f"column_{i + 1}"
        key = " ".join(name.split()).upper()
        if key in seen:
            raise DataError(f"{source}: the header '{name}' appears twice (columns "
                            f"{seen[key] + 1} and {i + 1}); rename or remove one of them")
        seen[key] = i
        out.append(name)
    return out


# --- text conversion of typed columns --------------------------------------------------------

def _py_to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        text = str(value.isoformat())
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def to_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A typed Arrow column as text cells (null stays null; NaN becomes null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    typ = arr.type
    if pa.types.is_dictionary(typ):
        arr = arr.dictionary_decode()
        typ = arr.type
    if pa.types.is_string(typ):
        return arr
    if pa.types.is_floating(typ):
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, typ), arr)
    if pa.types.is_timestamp(typ):
        midnight = pc.equal(pc.cast(pc.floor_temporal(arr, unit="day"), typ), arr)
        as_date = pc.cast(pc.cast(arr, pa.date32()), pa.string())
        return pc.if_else(pc.fill_null(midnight, True), as_date, pc.cast(arr, pa.string()))
    if (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ)
            or pa.types.is_date(typ) or pa.types.is_decimal(typ) or pa.types.is_null(typ)
            or pa.types.is_large_string(typ)):
        return pc.cast(arr, pa.string())
    return pa.array([_py_to_text(v) for v in arr.to_pylist()], pa.string())


def _text_table(table: pa.Table | pa.RecordBatch, headers: list[str]) -> pa.Table:
    cols = [to_text(table.column(i)) for i in range(table.num_columns)]
    return pa.Table.from_arrays(cols, names=headers)


def _arrow_batches(batches: Iterator[pa.RecordBatch], headers: list[str]) -> Iterator[RawBatch]:
    start = 1
    for b in batches:
        if b.num_rows == 0:
            continue
        rows = sequence(start, b.num_rows)
        start += b.num_rows
        yield RawBatch(_text_table(b, headers), rows)


def open_arrow(reader: pa.RecordBatchReader, name: str, total: int | None) -> OpenedSource:
    headers = unique_headers(reader.schema.names, name)
    count = [0]

    def batches() -> Iterator[RawBatch]:
        for raw in _arrow_batches(iter(reader), headers):
            count[0] += raw.table.num_rows
            yield raw

    return OpenedSource(name, headers, batches(), total, lambda: count[0])


def _table_reader(table: pa.Table, chunk_size: int) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema,
                                             table.to_batches(max_chunksize=chunk_size))


# --- CSV ---------------------------------------------------------------------------------------

class _Transcoder(io.RawIOBase):
    """Reads bytes in any encoding and hands out UTF-8. Bytes that do not decode become U+FFFD,
    which later marks their row as undecodable; a bad byte never stops the read."""

    def __init__(self, raw: BinaryIO, encoding: str):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = b""
        self._eof = False
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        while len(self._pending) < want and not self._eof:
            chunk = self._raw.read(1 << 20)
            self.consumed += len(chunk)
            if not chunk:
                self._eof = True
                text = self._decoder.decode(b"", final=True)
            else:
                text = self._decoder.decode(chunk)
            self._pending += text.replace("\x00", REPLACEMENT).encode("utf-8")
        n = min(want, len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


#: delimiters sniffed when an adapter declares none, and how messages name them
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated",
                   "|": "pipe-separated"}
#: encodings sniffed when an adapter declares none (UTF-16 only with its byte-order mark)
ENCODINGS = ("utf-8", "cp1252", "utf-16")
_FAMILY_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "legacy": "not UTF-8 (a Windows code "
                 "page such as windows-1252)"}


@attrs.frozen
class Sniffed:
    """What the first bytes of a file say about its encoding.

    Attributes:
        encoding: the codec to read it with.
        note: a sentence for the load's warnings when the choice was not clear-cut (UTF-8
            with stray bytes), else None.
    """

    encoding: str
    note: str | None = None


def utf8_evidence(sample: bytes, complete: bool = True) -> tuple[int, int]:
    """``(valid, invalid)``: the non-ASCII characters that decode as UTF-8 and the byte
    sequences that do not, in ``sample`` (a multi-byte character cut at the end of an
    incomplete sample counts as neither)."""
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(sample, final=complete)
    invalid = text.count(REPLACEMENT)
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return non_ascii - invalid, invalid


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise DataError(f"unknown encoding '{name}'") from None


def _family(codec: str) -> str:
    return "utf-8" if codec in ("utf-8", "utf-8-sig") else (
        "utf-16" if codec.startswith("utf-16") else "legacy")


def sniff_encoding(sample: bytes, accepted: Sequence[str] = (), *, complete: bool = True,
                   where: str = "the file", adapter: str = "") -> Sniffed:
    """The encoding of a file from its first bytes, among those an adapter accepts.

    Strict UTF-8 first: a byte-order mark decides (UTF-8, UTF-16); bytes that decode as UTF-8
    are UTF-8; bytes that mostly do (more valid non-ASCII characters than invalid sequences)
    are UTF-8 with stray bytes, whose rows the pipeline quarantines; anything else is the
    legacy Windows code page (windows-1252, or the adapter's declared single-byte encoding).

    Args:
        sample: the file's first bytes (with non-ASCII ones, if the file has any).
        accepted: the encodings the adapter declares; empty = any of :data:`ENCODINGS`.
        complete: ``sample`` is the whole file (a cut character at its end is then an error).
        where: the file, for messages.
        adapter: the adapter's name, for messages.

    Raises:
        DataError: the file is plainly in an encoding the adapter does not accept.
    """
    allowed = [_codec(e) for e in accepted]
    if sample.startswith(codecs.BOM_UTF8):
        found, note = "utf-8-sig", None
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found, note = "utf-16", None
    else:
        valid, invalid = utf8_evidence(sample, complete)
        if not allowed and not valid and not invalid:
            return Sniffed("utf-8")  # ASCII: every accepted encoding reads it alike
        if not valid and not invalid:
            return Sniffed(next((e for e in allowed if _family(e) != "utf-16"), allowed[0]))
        if invalid == 0:
            found, note = "utf-8", None
        elif valid > invalid:
            found = "utf-8"
            note = (f"{where}: read as UTF-8, although {number(invalid)} byte sequence(s) in its "
                    f"first {number(len(sample))} bytes are not UTF-8 ({number(valid)} non-ASCII "
                    "characters are); the rows holding such bytes are quarantined")
        else:
            found, note = "cp1252", None
    if not allowed:
        return Sniffed(found, note)
    family = _family(found)
    for enc in allowed:
        if _family(enc) == family:
            # a UTF-8 file with a byte-order mark read as declared 'utf-8' keeps the mark out
            return Sniffed(found if family != "legacy" else enc, note)
    expects = ", ".join(allowed)
    named = f" '{adapter}'" if adapter else ""
    raise DataError(f"{where}: the file looks {_FAMILY_NAMES[family]}"
                    + (" (it starts with a byte-order mark)" if found in ("utf-8-sig", "utf-16")
                       else "") + f"; the adapter{named} expects {expects}")


def sniff_delimiter(header_line: str, accepted: Sequence[str] = (), *,
                    where: str = "the file", adapter: str = "") -> str:
    """The delimiter that splits the header line, among those the adapter accepts.

    Raises:
        DataError: the header splits only at a delimiter the adapter does not accept ("the file
            looks comma-separated; the adapter expects ';'"), instead of a column-by-column
            complaint about a header that was never split.
    """
    pool = tuple(accepted) or DELIMITERS
    counts = {d: header_line.count(d) for d in dict.fromkeys((*pool, *DELIMITERS))}
    best = max(pool, key=lambda d: counts[d])
    if counts[best]:
        return best
    other = max(DELIMITERS, key=lambda d: counts[d])
    if accepted and counts[other]:
        named = f" '{adapter}'" if adapter else ""
        expects = " or ".join(repr(d) for d in accepted)
        raise DataError(f"{where}: the file looks {DELIMITER_NAMES[other]} (its header splits "
                        f"at {other!r}); the adapter{named} expects {expects} (save the file "
                        "with one of those, or declare the delimiter in the adapter)")
    return pool[0]


def _evidence(fh: BinaryIO, sample: bytes) -> tuple[bytes, bool]:
    """Bytes to sniff the encoding from: the sample, or — when it is all ASCII — the first
    stretch further on that is not (an export whose accented names start on row 3,000 must not
    be sniffed from its ASCII head alone). The second value: the evidence ends the file."""
    if not sample.isascii() or len(sample) < SNIFF_BYTES:
        return sample, len(sample) < SNIFF_BYTES
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            return sample, True
        if not chunk.isascii():
            first = next(i for i, b in enumerate(chunk) if b > 0x7F)
            start = max(0, first - 4)
            piece = chunk[start:start + SNIFF_BYTES]
            if len(piece) < SNIFF_BYTES:
                piece += fh.read(SNIFF_BYTES - len(piece))
            return piece, len(piece) < SNIFF_BYTES


def open_csv(path: Path, *, delimiters: Sequence[str] = (), encodings: Sequence[str] = (),
             chunk_size: int, fast: bool = True, adapter: str = "") -> OpenedSource:
    """Open a CSV file for streaming (pyarrow's reader; the ``csv`` module as a fallback).

    Args:
        path: the file.
        delimiters: the delimiters the adapter accepts (sniffed among them); empty = any.
        encodings: the encodings the adapter accepts (sniffed among them); empty = any.
        chunk_size: rows per batch.
        fast: pyarrow's reader (True) or the tolerant line-by-line reader.
        adapter: the adapter's name, for messages.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            sample = fh.read(SNIFF_BYTES)
            evidence, complete = _evidence(fh, sample)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    sniffed = sniff_encoding(evidence, encodings, complete=complete, where=str(path),
                             adapter=adapter)
    enc = sniffed.encoding
    text = sample.decode(enc, errors="replace").replace("\x00", REPLACEMENT)
    text = text.removeprefix("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise DataError(f"{path}: the file is empty or its first line is blank (no header)")
    delim = sniff_delimiter(first, delimiters, where=str(path), adapter=adapter)
    try:
        header_cells = next(csv.reader([first], delimiter=delim))
    except csv.Error as exc:
        raise DataError(f"{path}: cannot read the header line: {exc}") from None
    headers = unique_headers(header_cells, str(path))
    lines = text.count("\n") or 1
    bytes_per_row = max(16, len(sample) // lines)
    block = min(64 << 20, max(1 << 14, bytes_per_row * chunk_size))
    fh = path.open("rb")
    stream = _Transcoder(fh, enc)
    opened = OpenedSource(str(path), headers, iter(()), size, lambda: stream.consumed, enc,
                          closers=[stream.close])
    if sniffed.note:
        opened.notes.append(sniffed.note)
    if fast and len(headers) > 1:
        opened.batches = _pyarrow_csv(stream, headers, delim, block)
        opened.fallback = lambda: open_csv(path, delimiters=(delim,), encodings=(enc,),
                                           chunk_size=chunk_size, fast=False, adapter=adapter)
    else:
        opened.batches = _python_csv(stream, headers, delim, chunk_size)
    return opened


def sequence(start: int, count: int) -> pa.Array:
    """``start, start + 1, ...`` as an int64 array, built without a Python list."""
    if count == 0:
        return pa.array([], pa.int64())
    ones = pc.fill_null(pa.nulls(count, pa.int64()), 1)
    return pc.add(pc.cumulative_sum(ones), start - 1)


def _row_numbers(base: int, count: int, skipped: list[int]) -> pa.Array:
    """Numbers for ``count`` good rows starting at ``base``, leaving out the numbers of rows the
    parser rejected (``skipped``, ascending)."""
    numbers = sequence(base, count)
    for s in skipped:
        if s >= base:
            numbers = pc.add(numbers, pc.cast(pc.greater_equal(numbers, s), pa.int64()))
    return numbers


def _blank(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(col), ""), True)


def _blank_rows(table: pa.Table) -> pa.Array | pa.ChunkedArray:
    """Rows whose every cell is blank (an empty line, or only delimiters and spaces). Only the
    rows whose first cell is blank are looked at further: the check costs one column."""
    blank = _blank(table.column(0))
    if not pc.any(blank).as_py():
        return blank
    for col in table.columns[1:]:
        blank = pc.and_(blank, _blank(col))
    return blank


def _pyarrow_csv(stream: _Transcoder, headers: list[str], delim: str, block: int
                 ) -> Iterator[RawBatch]:
    """pyarrow's reader, batch by batch. Row numbers: pyarrow counts every record (blank ones
    too) as ``raw``; the data row number leaves out the blank lines before it."""
    import numpy as np

    names = [f"c{i}" for i in range(len(headers))]
    rejected: list[tuple[int, str, str, str]] = []
    skipped: list[int] = []
    unnumbered = [0]
    blank_raw: list[int] = []   # raw numbers of blank records, every batch so far
    folded = [False]

    def on_invalid(row: Any) -> str:
        number = row.number
        text = str(row.text)
        if "\n" in text or "\r" in text:
            folded[0] = True  # an unclosed quote swallowed the lines after it
            return "skip"
        if number is None or number < 0:
            unnumbered[0] += 1
            return "skip"
        raw = int(number) - 1  # the header is record 1
        skipped.append(raw)
        if not text.replace(delim, "").strip():  # empty, spaces, or delimiters alone
            blank_raw.append(raw)
            return "skip"
        reason = (f"too few cells ({row.actual_columns} of {row.expected_columns}): "
                  "a truncated or broken line" if row.actual_columns < row.expected_columns
                  else f"too many cells ({row.actual_columns} of {row.expected_columns})")
        rejected.append((raw, "", text[:200], reason))
        return "skip"

    try:
        reader = pa_csv.open_csv(
            io.BufferedReader(stream, 1 << 20),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False,
                                            block_size=block),
            parse_options=pa_csv.ParseOptions(delimiter=delim, invalid_row_handler=on_invalid,
                                              newlines_in_values=False,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return
        raise FastReaderFailed(str(exc)) from exc
    base = 1
    blanks_done = 0  # blank records already reported
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except pa.ArrowInvalid as exc:
            raise FastReaderFailed(str(exc)) from exc
        if folded[0]:
            raise FastReaderFailed("an unclosed quote: the line-by-line reader resumes after it")
        if unnumbered[0]:
            raise FastReaderFailed("the CSV parser could not number a rejected row")
        if _line_break_in_a_cell(batch):
            raise FastReaderFailed("an unclosed quote folded lines into one cell: the "
                                   "line-by-line reader quarantines its line")
        raw_numbers = _row_numbers(base, batch.num_rows, sorted(skipped))
        if len(raw_numbers):
            last = int(raw_numbers[-1].as_py())
            skipped[:] = [s for s in skipped if s > last]
            base = last + 1
        table = pa.Table.from_batches([batch]).rename_columns(headers)
        blank = _blank_rows(table)
        if pc.any(blank).as_py():
            blank_raw.extend(raw_numbers.filter(blank).to_pylist())
            keep = pc.invert(blank)
            table, raw_numbers = table.filter(keep), raw_numbers.filter(keep)
        blank_raw.sort()
        sorted_blanks = np.asarray(blank_raw, dtype=np.int64)
        raw = raw_numbers.to_numpy(zero_copy_only=False)
        numbers = pa.array(raw - np.searchsorted(sorted_blanks, raw), pa.int64())
        done = [(r - int(np.searchsorted(sorted_blanks, r)), c, v, why)
                for r, c, v, why in rejected]
        rejected.clear()
        new_blanks = len(blank_raw) - blanks_done
        blanks_done = len(blank_raw)
        yield RawBatch(table, numbers, done, new_blanks)
    if folded[0]:
        raise FastReaderFailed("an unclosed quote: the line-by-line reader resumes after it")
    if rejected or len(blank_raw) > blanks_done:
        sorted_blanks = np.asarray(sorted(blank_raw), dtype=np.int64)
        done = [(r - int(np.searchsorted(sorted_blanks, r)), c, v, why)
                for r, c, v, why in rejected]
        yield RawBatch(pa.table({h: pa.array([], pa.string()) for h in headers}),
                       pa.array([], pa.int64()), done, len(blank_raw) - blanks_done)


def _line_break_in_a_cell(batch: pa.RecordBatch) -> bool:
    """Whether a cell holds a line break. The reader runs with ``newlines_in_values=False``,
    so one can only come from a stray quote that joined the following lines into its cell;
    when the joined record happens to have the right number of cells, pyarrow reports nothing
    and the swallowed rows would be lost without a word."""
    return any(pc.any(pc.match_substring_regex(col, "[\r\n]")).as_py()
               for col in batch.columns)


#: how many lines one quoted value may span before its quote counts as never closed
MAX_QUOTED_LINES = 20


def _split_quoted(text: str, delim: str) -> list[str] | None:
    """The cells of one record holding quotes; None while a quoted value is still open."""
    try:
        recs = list(csv.reader(io.StringIO(text), delimiter=delim, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None
        recs = list(csv.reader(io.StringIO(text), delimiter=delim, strict=False))
    if not recs:
        return []
    if len(recs) > 1:  # a stray line end inside: one record only if the rest is empty
        return recs[0] if all(not r for r in recs[1:]) else None
    return recs[0]


def _swallows_a_record(span: list[tuple[int, str]], delim: str, width: int) -> bool:
    """Whether the lines a quoted value spans hold a whole record of their own: a line with a
    record's delimiters before the quote that closes the value (or with no quote at all).
    A real multi-line value (an address) does not; a stray opening quote that joined the
    following rows into one cell does, and those rows must not vanish into it."""
    return width > 1 and any(text.split('"', 1)[0].count(delim) >= width - 1
                             for _, text in span)


def _python_csv(stream: _Transcoder, headers: list[str], delim: str, chunk_size: int
                ) -> Iterator[RawBatch]:
    """The tolerant reader, line by line. A quoted value may span lines (up to
    :data:`MAX_QUOTED_LINES`) when the record it closes has the header's number of cells;
    otherwise its quote never closed: that line is quarantined with its line number and
    reading resumes at the next line, so one stray quote costs one row, not the rest of the
    file."""
    text = io.TextIOWrapper(io.BufferedReader(stream, 1 << 20), encoding="utf-8",
                            errors="replace", newline="")
    width = len(headers)
    lines = iter(text)
    if next(lines, None) is None:
        return
    line_no = [1]
    pending: collections.deque[tuple[int, str]] = collections.deque()

    def next_line() -> tuple[int, str] | None:
        if pending:
            return pending.popleft()
        line = next(lines, None)
        if line is None:
            return None
        line_no[0] += 1
        return line_no[0], line

    row = 0
    blank = 0
    cells: list[list[str]] = []
    numbers: list[int] = []
    rejected: list[tuple[int, str, str, str]] = []

    def flush() -> RawBatch:
        nonlocal blank
        cols = [pa.array([c[i] or None for c in cells], pa.string()) for i in range(width)]
        out = RawBatch(pa.Table.from_arrays(cols, names=headers),
                       pa.array(numbers, pa.int64()), list(rejected), blank)
        cells.clear()
        numbers.clear()
        rejected.clear()
        blank = 0
        return out

    while True:
        item = next_line()
        if item is None:
            break
        no, line = item
        if not line.strip():
            blank += 1
            continue
        if '"' not in line:
            rec = line.rstrip("\r\n").split(delim)
        else:
            span: list[tuple[int, str]] = []
            quoted = _split_quoted(line, delim)
            while quoted is None and len(span) < MAX_QUOTED_LINES - 1:
                more = next_line()
                if more is None:
                    break
                span.append(more)
                quoted = _split_quoted(line + "".join(t for _, t in span), delim)
            if quoted is None or (span and (len(quoted) != width
                                            or _swallows_a_record(span, delim, width))):
                pending.extendleft(reversed(span))
                row += 1
                rejected.append((row, "", line.rstrip("\r\n")[:200],
                                 f"unclosed quote on line {no} of the file (a quoted value "
                                 f"that never ends); reading resumed at line {no + 1}"))
                continue
            rec = quoted
        if not any(c.strip() for c in rec):  # only delimiters and spaces: a blank line
            blank += 1
            continue
        row += 1
        if len(rec) != width:
            what = "too few" if len(rec) < width else "too many"
            reason = (f"{what} cells ({len(rec)} of {width})"
                      + (": a truncated or broken line" if len(rec) < width else ""))
            rejected.append((row, "", delim.join(rec)[:200], reason))
            continue
        cells.append(rec)
        numbers.append(row)
        if len(cells) >= chunk_size:
            yield flush()
    if cells or rejected or blank:
        yield flush()


# --- other files -------------------------------------------------------------------------------

def open_xlsx(path: Path, *, sheet: str | None, chunk_size: int) -> OpenedSource:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise DataError(f"cannot read {path} as an Excel workbook: {exc}") from None
    closers = [wb.close]
    try:
        return _open_sheet(path, wb, sheet, chunk_size, closers)
    except BaseException:
        for closer in reversed(closers):
            closer()
        raise


def _open_sheet(path: Path, wb: Any, sheet: str | None, chunk_size: int,
                closers: list[Callable[[], None]]) -> OpenedSource:
    import openpyxl

    if sheet is not None and sheet not in wb.sheetnames:
        raise DataError(f"{path}: no sheet named '{sheet}'{did_you_mean(sheet, wb.sheetnames)} "
                        f"(the workbook has: {', '.join(wb.sheetnames)})")
    ws = wb[sheet] if sheet else wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    # the formulas themselves, row for row beside the cached values, when the workbook has any
    formula_wb = (openpyxl.load_workbook(path, read_only=True, data_only=False)
                  if _has_formulas(path) else None)
    if formula_wb is not None:
        closers.append(formula_wb.close)
    formulas: Iterator[Sequence[Any]] | None = None
    if formula_wb is not None:
        fws = formula_wb[sheet] if sheet else formula_wb.worksheets[0]
        formulas = fws.iter_rows(values_only=True)
    header: Sequence[Any] | None = None
    for values in rows:
        if formulas is not None:
            next(formulas, None)
        if any(v is not None and str(v).strip() for v in values):
            header = values
            break
    if header is None:
        raise DataError(f"{path}: the {f'sheet {sheet!r}' if sheet else 'first sheet'} has no "
                        f"header row")
    headers = unique_headers(header, str(path))
    width = len(headers)
    count = [0]

    def batches() -> Iterator[RawBatch]:
        cells: list[list[str | None]] = []
        numbers: list[int] = []
        rejected: list[tuple[int, str, str, str]] = []
        blank = [0]
        n = 0
        for values in rows:
            n += 1
            count[0] += 1
            if formulas is not None:
                uncached = _uncached(values, next(formulas, ()), headers)
                if uncached is not None:
                    rejected.append((n, *uncached))
                    continue
            texts = [_xlsx_text(v) for v in values]
            if not any(t is not None and t.strip() for t in texts):
                blank[0] += 1
                continue
            extra = [t for t in texts[width:] if t is not None and t.strip()]
            if extra:
                rejected.append((n, "", ";".join(t or "" for t in texts)[:200],
                                 f"too many cells ({width + len(extra)} of {width})"))
                continue
            texts = (texts + [None] * width)[:width]
            cells.append(texts)
            numbers.append(n)
            if len(cells) >= chunk_size:
                yield _flush_rows(headers, cells, numbers, rejected, blank)
        if cells or rejected or blank[0]:
            yield _flush_rows(headers, cells, numbers, rejected, blank)

    return OpenedSource(str(path), headers, batches(), ws.max_row, lambda: count[0],
                        closers=closers)


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula (``<f>`` elements), read from the
    zip without parsing the sheets."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with zf.open(name) as fh:
                        tail = b""
                        while chunk := fh.read(1 << 20):
                            if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                                return True
                            tail = chunk[-3:]
    except (OSError, zipfile.BadZipFile):
        return False
    return False


def _uncached(values: Sequence[Any], formulas: Sequence[Any], headers: Sequence[str]
              ) -> tuple[str, str, str] | None:
    """``(column, formula, reason)`` for the first formula cell of a row that has no cached
    value (a workbook written by a program that does not calculate): reading it as blank
    would be a silent guess."""
    for i, f in enumerate(formulas):
        is_formula = (isinstance(f, str) and f.startswith("=")) or (
            type(f).__name__ == "ArrayFormula")
        if is_formula and (i >= len(values) or values[i] is None):
            column = headers[i] if i < len(headers) else f"column_{i + 1}"
            text = f if isinstance(f, str) else str(getattr(f, "text", f))
            return (column, text[:200], "a formula without a cached value (the workbook was "
                    "saved without calculating it: open and save it in a spreadsheet program, "
                    "or export the values)")
    return None


def _xlsx_text(value: Any) -> str | None:
    """A spreadsheet cell as text. A number of 16 or more digits has been through a double
    (Excel keeps 15 significant digits), so it is shown as the decimal number it is, which the
    16-digit id check then rejects instead of trusting digits that may be lost."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return repr(float(value))
    return _py_to_text(value)


def _flush_rows(headers: list[str], cells: list[list[str | None]], numbers: list[int],
                rejected: list[tuple[int, str, str, str]], blank: list[int]) -> RawBatch:
    cols = [pa.array([c[i] for c in cells], pa.string()) for i in range(len(headers))]
    out = RawBatch(pa.Table.from_arrays(cols, names=headers), pa.array(numbers, pa.int64()),
                   list(rejected), blank[0])
    blank[0] = 0
    cells.clear()
    numbers.clear()
    rejected.clear()
    return out


def _json_header(seen: dict[str, str], key: str, source: str) -> str:
    """``key`` as a header; a key spelt another way (case, spacing) in any record of the file
    is refused, as a header written twice in a CSV is (:func:`unique_headers`)."""
    norm = " ".join(key.split()).upper()
    first = seen.setdefault(norm, key)
    if first != key:
        raise DataError(f"{source}: the keys '{first}' and '{key}' differ only in case or "
                        f"spacing; which one is meant is a guess: use one spelling")
    return key


def _records_source(name: str, records: Iterator[tuple[int, Any]], chunk_size: int,
                    total: int | None) -> OpenedSource:
    """JSON objects as rows; headers are the union of keys, taken per batch."""
    seen_headers: dict[str, str] = {}
    count = [0]

    def batches() -> Iterator[RawBatch]:
        chunk: list[tuple[int, dict[str, Any]]] = []
        rejected: list[tuple[int, str, str, str]] = []
        blank = [0]

        def flush() -> RawBatch:
            keys: dict[str, None] = {}
            for _, obj in chunk:
                keys.update(dict.fromkeys(obj))
            headers = [_json_header(seen_headers, k, name) for k in keys]
            cols = [pa.array([_py_to_text(obj.get(k)) for _, obj in chunk], pa.string())
                    for k in keys]
            out = RawBatch(pa.Table.from_arrays(cols, names=headers) if headers
                           else pa.table({}).append_column("_", pa.nulls(len(chunk), pa.string())),
                           pa.array([r for r, _ in chunk], pa.int64()), list(rejected),
                           blank[0])
            chunk.clear()
            rejected.clear()
            blank[0] = 0
            return out

        for row, obj in records:
            if obj is _BLANK_LINE:
                blank[0] += 1
                continue
            count[0] += 1
            if isinstance(obj, str):  # a line that is not JSON: the reason
                rejected.append((row, "", "", obj))
            elif not isinstance(obj, dict):
                rejected.append((row, "", _py_to_text(obj) or "", "not a JSON object"))
            else:
                chunk.append((row, {str(k): v for k, v in obj.items()}))
            if len(chunk) >= chunk_size:
                yield flush()
        if chunk or rejected or blank[0]:
            yield flush()

    return OpenedSource(name, [], batches(), total, lambda: count[0])


_BLANK_LINE = object()  # a JSON Lines line holding nothing: counted, not a row


@attrs.frozen
class Nested:
    """Child records nested in a JSON / JSON Lines file's records (``"members": [...]`` in
    each household), read as two sources of the one file.

    Attributes:
        relation: the key holding the child records (``members``).
        parent_key: the parent's key field (``id``), copied into each child record.
        link: the child's field naming its parent (``household_id``).
        children: this side reads the child records (else the parents, without ``relation``).
    """

    relation: str
    parent_key: str
    link: str
    children: bool

    def split(self, records: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        """The parent records (each without ``relation``; one without it, or with something
        else than a list, is refused with the reason) or the child records (numbered 1, 2, …
        in the order of the file, each given its parent's key; one that is not an object, or
        names another parent, is refused with the reason). A refused parent's children are
        read and then refused with it (they match no valid parent)."""
        if not self.children:
            for row, obj in records:
                if isinstance(obj, dict):
                    if self.relation not in obj:
                        obj = (f"no '{self.relation}' in this record, while the first record "
                               f"of the file has them: write '{self.relation}': [] for none")
                    elif not isinstance(obj[self.relation], list):
                        obj = f"'{self.relation}' is not a list of objects"
                    else:
                        obj = {k: v for k, v in obj.items() if k != self.relation}
                yield row, obj
            return
        n = 0
        for row, obj in records:
            kids = obj.get(self.relation) if isinstance(obj, dict) else None
            if not isinstance(kids, list):
                continue
            parent = obj.get(self.parent_key)
            for i, kid in enumerate(kids):
                n += 1
                where = f"{self.relation}[{i}] of record {number(row)}"
                if not isinstance(kid, dict):
                    yield n, f"{where}: not a JSON object"
                elif self.link in kid and _py_to_text(kid[self.link]) != _py_to_text(parent):
                    yield n, (f"{where}: {self.link} {_py_to_text(kid[self.link])} is not the "
                              f"{self.parent_key} of the record it is in "
                              f"({_py_to_text(parent)})")
                else:
                    yield n, {**kid, self.link: parent}


def first_record_has(path: Path, key: str) -> bool:
    """Whether the first record of a JSON (array) or JSON Lines file is an object holding
    ``key``; ``False`` for any other file, or one that cannot be read (its reader says why)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_bytes().decode("utf-8-sig", errors="replace"))
            first = data[0] if isinstance(data, list) and data else data
        elif suffix in (".jsonl", ".ndjson"):
            with path.open("rb") as fh:
                line = next((ln for ln in fh if ln.strip()), b"null")
            first = json.loads(line.decode("utf-8", errors="strict"))
        else:
            return False
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and key in first


def _nested(records: Iterator[tuple[int, Any]], nested: Nested | None,
            name: str) -> tuple[Iterator[tuple[int, Any]], str]:
    if nested is None:
        return records, name
    return nested.split(records), (f"{name} ({nested.relation})" if nested.children else name)


def open_json(path: Path, *, chunk_size: int, nested: Nested | None = None) -> OpenedSource:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig", errors="replace"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path} as JSON: {exc}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON array of objects")
    records, name = _nested(enumerate(data, start=1), nested, str(path))
    return _records_source(name, records, chunk_size,
                           len(data) if nested is None or not nested.children else None)


def open_jsonl(path: Path, *, chunk_size: int, nested: Nested | None = None) -> OpenedSource:
    def records() -> Iterator[tuple[int, Any]]:
        with path.open("rb") as fh:
            row = 0
            for line in fh:
                if not line.strip():
                    yield 0, _BLANK_LINE
                    continue
                row += 1
                try:
                    yield row, json.loads(line.decode("utf-8", errors="strict"))
                except UnicodeDecodeError:
                    yield row, "bytes that cannot be decoded as UTF-8"
                except ValueError as exc:
                    yield row, f"not valid JSON: {exc}"

    if not path.exists():
        raise DataError(f"cannot read {path}: no such file")
    rows, name = _nested(records(), nested, str(path))
    return _records_source(name, rows, chunk_size, None)


def open_parquet(path: Path, *, chunk_size: int) -> OpenedSource:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cannot read {path} as Parquet: {exc}") from None
    reader = pa.RecordBatchReader.from_batches(pf.schema_arrow,
                                               pf.iter_batches(batch_size=chunk_size))
    opened = open_arrow(reader, str(path), pf.metadata.num_rows)
    return opened


# --- SQL ---------------------------------------------------------------------------------------

def open_sql(src: SQLSource, *, chunk_size: int) -> OpenedSource:
    conn = src.connection
    if "duckdb" in type(conn).__module__:
        try:
            rel = conn.sql(src.query)
            reader = rel.to_arrow_reader(chunk_size)
        except Exception as exc:  # duckdb.Error subclasses are not importable by name here
            raise DataError(f"SQL query failed: {exc}") from None
        return open_arrow(reader, "<sql>", None)
    return _open_sqlalchemy(src, chunk_size)


def _open_sqlalchemy(src: SQLSource, chunk_size: int) -> OpenedSource:
    try:
        import sqlalchemy as sa
    except ImportError:
        raise DataError("reading a database URL needs SQLAlchemy: "
                        "pip install 'welfare-rules[sql]'") from None
    conn = src.connection
    closers: list[Callable[[], None]] = []  # what this reader opened, closed last first

    def close() -> None:
        for closer in reversed(closers):
            closer()
        closers.clear()

    try:
        if isinstance(conn, str):
            owned = sa.create_engine(conn)
            closers.append(owned.dispose)
            connection = owned.connect()
            closers.append(connection.close)
        elif isinstance(conn, sa.engine.Engine):
            connection = conn.connect()
            closers.append(connection.close)
        else:
            connection = conn
        result = connection.execution_options(stream_results=True).execute(sa.text(src.query))
        closers.append(result.close)
        headers = unique_headers(list(result.keys()), "<sql>")
    except sa.exc.SQLAlchemyError as exc:
        close()
        raise DataError(f"SQL query failed: {exc}") from None
    except ImportError as exc:  # the database's driver (psycopg, pymysql, ...) is not installed
        close()
        raise DataError(f"SQL source: the database driver is not installed ({exc})") from None
    except BaseException:
        close()
        raise
    count = [0]

    def batches() -> Iterator[RawBatch]:
        start = 1
        try:
            for part in result.partitions(chunk_size):
                cols = [pa.array([_py_to_text(r[i]) for r in part], pa.string())
                        for i in range(len(headers))]
                rows = pa.array(range(start, start + len(part)), pa.int64())
                start += len(part)
                count[0] += len(part)
                yield RawBatch(pa.Table.from_arrays(cols, names=headers), rows)
        finally:
            close()

    return OpenedSource("<sql>", headers, batches(), None, lambda: count[0], closers=[close])


# --- dispatch ----------------------------------------------------------------------------------

def open_source(source: Any, *, chunk_size: int, delimiters: Sequence[str] = (),
                encodings: Sequence[str] = (), sheet: str | None = None,
                adapter: str = "", nested: Nested | None = None) -> OpenedSource:
    """Open any supported source (``delimiters``/``encodings``: what the adapter accepts for
    CSV files; empty = sniffed among all; ``nested``: one side of a JSON file's nested child
    records, see :class:`Nested`).

    Raises:
        DataError: the source kind is not supported or the file cannot be read at all.
    """
    if isinstance(source, SQLSource):
        return open_sql(source, chunk_size=chunk_size)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"cannot read {path}: no such file")
        suffix = "".join(path.suffixes[-1:]).lower()
        if suffix in (".xlsx", ".xlsm"):
            return open_xlsx(path, sheet=sheet, chunk_size=chunk_size)
        if suffix in (".parquet", ".pq"):
            return open_parquet(path, chunk_size=chunk_size)
        if suffix == ".json":
            return open_json(path, chunk_size=chunk_size, nested=nested)
        if suffix in (".jsonl", ".ndjson"):
            return open_jsonl(path, chunk_size=chunk_size, nested=nested)
        return open_csv(path, delimiters=delimiters, encodings=encodings, chunk_size=chunk_size,
                        adapter=adapter)
    if isinstance(source, pa.Table):
        return open_arrow(_table_reader(source, chunk_size), "<dataframe>", source.num_rows)
    if isinstance(source, pa.RecordBatch):
        table = pa.Table.from_batches([source])
        return open_arrow(_table_reader(table, chunk_size), "<dataframe>", table.num_rows)
    if isinstance(source, pa.RecordBatchReader):
        return open_arrow(source, "<dataframe>", None)
    module = type(source).__module__
    if module.startswith("pandas"):
        return open_arrow(_table_reader(_pandas_to_arrow(source), chunk_size), "<dataframe>",
                          len(source))
    if module.startswith("polars"):
        table = source.to_arrow()
        return open_arrow(_table_reader(table, chunk_size), "<dataframe>", table.num_rows)
    if "duckdb" in module:
        try:
            reader = source.to_arrow_reader(chunk_size)
        except AttributeError:
            reader = source.fetch_record_batch(chunk_size)
        return open_arrow(reader, "<dataframe>", None)
    if hasattr(source, "__arrow_c_stream__"):
        return open_arrow(pa.RecordBatchReader.from_stream(source), "<dataframe>", None)
    raise DataError(f"cannot read a {type(source).__name__}: expected a file path, a pandas or "
                    "polars DataFrame, an Arrow table, a DuckDB relation or a SQLSource")


def _pandas_to_arrow(df: Any) -> pa.Table:
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # mixed-type object columns: take each cell's text
        cols = {str(c): pa.array([_py_to_text(v) for v in df[c].tolist()], pa.string())
                for c in df.columns}
        return pa.table(cols)
