"""JSONL: the lines of a file, each within the size limit, and batches of them read by pyarrow's
JSON reader into the fast path's staged tables (``intake.fast``).

The reader is given the contract's schema explicitly (money, scores and areas as decimal128(18, 6),
which reads numbers and decimal strings exactly and refuses a seventh decimal place), and refuses a
key the contract does not have, a value of the wrong JSON type, a key given twice. A block it
refuses is bisected down to the lines it refuses, which go to the slow path (``parse_json_line``:
``json.loads`` and pydantic), as do lines whose meaning the reader cannot see: an explicit ``null``
where the contract wants an object or a list (the reader cannot tell it from an absent key), a key
written with escapes, a profile line with an ``as_of`` key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import IO, Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from engine.table import ENTERPRISE_COLUMNS, PROJECT_FIELDS
from engine.vocabulary import FISCAL_FIELDS

from .fast import E_SCHEMA, FY_SCHEMA, PJ_SCHEMA, Staged, iso_date

DECIMAL = pa.decimal128(18, 6)
FAR = 10**18  # past every bound of the contract, in 10⁻⁶
_ARROW = {pl.Utf8: pa.string(), pl.Boolean: pa.bool_(), pl.Int64: pa.int64(), pl.Date: pa.string()}


def jsonl_lines(fh: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for every non-blank line; a line longer than ``limit`` bytes is read past
    in blocks and given as None (that row is an error, the others are read)."""
    fh.seek(0)
    number = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # the rest of the line, never held whole
                more = fh.readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None
            continue
        if line.strip():
            yield number, line




def line_batches(fh: IO[bytes], limit: int, size: int) -> Iterator[list[tuple[int, bytes | None]]]:
    """``jsonl_lines`` in lists of ``size`` lines (without their line feed), read in large blocks (a
    line per ``readline`` costs more than parsing it)."""
    fh.seek(0)
    number = 0
    batch: list[tuple[int, bytes | None]] = []
    carry = b""
    overlong = False  # inside a line past the limit: read past it, never held whole
    while True:
        block = fh.read(1 << 23)
        if not block:
            break
        parts = block.split(b"\n")
        tail = parts.pop()
        if parts:
            parts[0] = carry + parts[0] if not overlong else b""
            carry = b""
        else:
            if not overlong:
                carry += tail
                if len(carry) > limit:
                    overlong, carry = True, b""
            continue
        for line in parts:
            number += 1
            if overlong:
                overlong = False
                line = None  # type: ignore[assignment]
            elif len(line) > limit:
                line = None  # type: ignore[assignment]
            elif not line.strip():
                continue
            batch.append((number, line))
            if len(batch) >= size:
                yield batch
                batch = []
        carry = tail
        if len(carry) > limit:
            overlong, carry = True, b""
    if overlong or carry.strip():
        number += 1
        batch.append((number, None if overlong or len(carry) > limit else carry))
    if batch:
        yield batch


# ---- the contract's schema for the JSON reader


def _arrow_type(dtype: Any, how: str) -> pa.DataType:
    return DECIMAL if how == "micro" else _ARROW[dtype]


def _nest(paths: dict[str, pa.DataType]) -> list[pa.Field]:
    """Dotted paths → nested struct fields (``ip.class_i_count`` → ip: struct<class_i_count>)."""
    tree: dict[str, Any] = {}
    for path, t in paths.items():
        node = tree
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = t

    def build(node: dict[str, Any]) -> list[pa.Field]:
        return [pa.field(k, pa.struct(build(v)) if isinstance(v, dict) else v) for k, v in node.items()]

    return build(tree)


def _profile_fields() -> list[pa.Field]:
    paths: dict[str, pa.DataType] = {}
    for path, (dtype, how) in ENTERPRISE_COLUMNS.items():
        if path in ("certifications.hte", "certifications.tsme"):
            continue  # a certificate is an object; its presence is the object's
        paths[path] = _arrow_type(dtype, how)
    fiscal = pa.struct(
        [pa.field("year", pa.int64())]
        + [pa.field(n, DECIMAL if kind == "decimal" else pa.int64()) for n, (kind, *_r) in FISCAL_FIELDS.items()]
    )
    project = pa.struct([pa.field(n, _arrow_type(t, how)) for n, (t, how) in PROJECT_FIELDS.items()])
    fields = _nest(paths)
    fields.insert(9, pa.field("fiscal_years", pa.list_(fiscal)))
    fields.append(pa.field("projects", pa.list_(project)))
    return fields


PROFILE_FIELDS = _profile_fields()
PROFILE_KEYS = [f.name for f in PROFILE_FIELDS]
LINE_SCHEMA = pa.schema(
    [*PROFILE_FIELDS, pa.field("as_of", pa.string()), pa.field("profile", pa.struct(PROFILE_FIELDS))]
)
_PARSE = pj.ParseOptions(explicit_schema=LINE_SCHEMA, unexpected_field_behavior="error")
# a template's projects JSON cell, read as the line {"p": CELL}
PROJECTS_FIELD = next(f for f in PROFILE_FIELDS if f.name == "projects")
_PROJECTS = pj.ParseOptions(
    explicit_schema=pa.schema([pa.field("p", PROJECTS_FIELD.type)]), unexpected_field_behavior="error"
)
_READ = pj.ReadOptions(block_size=1 << 22)

# what the reader cannot see: an explicit null where the contract wants an object or a list (pydantic
# refuses it, the reader reads it as absent), a key written with escapes (``"i\u0070"``), an as_of
_CONTAINERS = "|".join(
    ["profile", "fiscal_years", "projects", *sorted({f.name for f in PROFILE_FIELDS if pa.types.is_struct(f.type)})]
)
_CONTAINER_KEYS = ["fiscal_years", "projects", *sorted({f.name for f in PROFILE_FIELDS if pa.types.is_struct(f.type)})]
_NULL_CONTAINER = rf'"(?:{_CONTAINERS})"[ \t\r]*:[ \t\r]*null'
# from a backslash to the end of its string, then a colon: only a key's backslash gets there
_ESCAPED_KEY = r'\\(?:[^"\\]|\\.)*"[ \t\r]*:'


class Lines:
    """A batch's lines joined once: the JSON reader reads slices of the block, the guards its lines
    as one Arrow array (no copy of either)."""

    def __init__(self, lines: list[bytes]) -> None:
        self.block = b"\n".join(lines)
        self.buffer = pa.py_buffer(self.block)
        self.offsets = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
        self.count = len(lines)

    def slice(self, lo: int, hi: int) -> pa.Buffer:
        return self.buffer.slice(self.offsets[lo], self.offsets[hi] - 1 - self.offsets[lo])

    def array(self) -> pa.Array:
        """Each line (with the line feed that ends it) as an element of a large_binary array."""
        offsets = pa.array(self.offsets[:-1] + [len(self.block)], pa.int64())
        return pa.Array.from_buffers(pa.large_binary(), self.count, [None, offsets.buffers()[1], self.buffer])


def object_like(line: bytes) -> bool:
    """Starts with ``{`` and ends with ``}`` (a line feed may follow): what the JSON reader is given."""
    return line[:1] == b"{" and (line[-1:] == b"}" or line[-2:] == b"}\r")


def _read(lines: Lines, lo: int, hi: int, options: pj.ParseOptions) -> pa.Table | None:
    try:
        table = pj.read_json(pa.BufferReader(lines.slice(lo, hi)), read_options=_READ, parse_options=options)
    except (pa.ArrowException, ValueError):  # the reader refuses the block (ArrowInvalid, bad UTF-8 …)
        return None
    # two objects on one line are two rows to the reader, an error to json.loads
    return table if table.num_rows == hi - lo else None


def parse_lines(lines: Lines, options: pj.ParseOptions = _PARSE) -> tuple[pa.Table | None, list[int]]:
    """The lines the reader reads (as one table, in order) and the positions of those it refuses.
    A refused block is halved until its refused lines are found (iteratively: a recursive closure
    is a reference cycle, which would keep each batch's block until the garbage collector ran)."""
    good: list[pa.Table] = []
    refused: list[int] = []
    todo = [(0, lines.count)] if lines.count else []
    while todo:
        lo, hi = todo.pop()
        table = _read(lines, lo, hi, options)
        if table is not None:
            good.append(table)
        elif hi - lo == 1:
            refused.append(lo)
        else:
            mid = (lo + hi) // 2
            todo += [(mid, hi), (lo, mid)]  # the first half next: the tables stay in order
    return (pa.concat_tables(good) if good else None), refused


def _unseen(df: pl.DataFrame, lines: Lines, kept: pl.Series | None) -> pl.Series:
    """What the reader cannot see, line by line: an explicit null where the contract wants an object
    or a list (looked for only where the reader found none), a plain profile with a ``profile`` or
    ``as_of`` key, a key written with escapes. One pass finds the lines that might have any of
    them (most batches have none); only those are looked at closely. ``kept``: the lines the
    reader read."""
    array = lines.array() if kept is None else lines.array().take(kept.to_arrow())
    # the reader has read each of these lines: each is UTF-8
    frame = df.select(
        "profile", pl.any_horizontal([pl.col(f"_p.{k}").is_null() for k in _CONTAINER_KEYS]).alias("_null")
    ).with_columns(pl.Series("_text", array).cast(pl.Utf8))
    t = pl.col("_text")
    maybe = frame.select(pl.col("_null") | t.str.contains(r'"(?:profile|as_of)"|\\')).to_series()
    unseen = pl.Series("_unseen", [False] * df.height, dtype=pl.Boolean)
    if not maybe.any():
        return unseen
    index = maybe.arg_true()
    close = frame[index].select(
        (
            (pl.col("profile").is_null() & t.str.contains(r'"(?:profile|as_of)"'))
            | t.str.contains(_ESCAPED_KEY)
            | (pl.col("_null") & t.str.contains(_NULL_CONTAINER))
        ).alias("_unseen")
    ).to_series()
    return unseen.scatter(index, close)


def stage(table: pa.Table, lines: Lines, kept: pl.Series | None, rows: list[int]) -> Staged:
    """The reader's table → the fast path's staged tables; ``kept`` are the positions in ``lines``
    of the table's rows (all of them when None), ``rows`` their numbers."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    wrapper = pl.col("profile").is_not_null()
    wrapped = df.height - df["profile"].null_count()
    flat: dict[str, pl.Expr] = {}
    for key in PROFILE_KEYS:
        inner = pl.col("profile").struct.field(key)
        # no wrapper lines (the usual file) or only wrappers: the columns as they are, not copied
        flat[key] = pl.col(key) if not wrapped else inner if wrapped == df.height else (
            pl.when(wrapper).then(inner).otherwise(pl.col(key))
        )
    df = df.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_i"),
        pl.Series("row", rows, dtype=pl.Int64),
        # a wrapper line's other keys are ignored by the per-row path: the slow path says so
        (wrapper & pl.any_horizontal([pl.col(k).is_not_null() for k in PROFILE_KEYS])).alias("_mixed"),
        **{f"_p.{k}": v for k, v in flat.items()},
    )
    df = df.with_columns(_unseen(df, lines, kept))
    as_of = iso_date(pl.col("as_of"))
    slow = pl.col("_unseen") | pl.col("_mixed") | (pl.col("as_of").is_not_null() & as_of.is_null())
    enterprise: list[pl.Expr] = []
    dates = []
    for path, dtype in E_SCHEMA.items():
        if path in ("certifications.hte", "certifications.tsme"):
            enterprise.append(_field(path).is_not_null().alias(path))
            continue
        c = _field(path)
        if dtype == pl.Date:
            dates.append((path, c))
            c = iso_date(c)
        elif path in ("innovation_score",):
            c = micro(c)
        enterprise.append(c.alias(path))
    for _path, c in dates:
        slow = slow | (c.is_not_null() & iso_date(c).is_null())
    for name in ("fiscal_years", "projects"):
        lst = pl.col(f"_p.{name}")
        slow = slow | lst.list.eval(pl.element().is_null()).list.any().fill_null(False)
    E = df.select(
        "_i",
        "row",
        as_of.alias("as_of"),
        slow.fill_null(True).alias("_slow"),
        *enterprise,
    )
    FY = _long(df, "_p.fiscal_years", FY_SCHEMA)
    PJ = _long(df, "_p.projects", PJ_SCHEMA)
    return Staged(E, FY, PJ)


def micro(c: pl.Expr) -> pl.Expr:
    """A decimal128(18, 6) as its whole number of 10⁻⁶. The reader does not hold an integer to the
    precision (9007199254740993 reads), so a value past every bound of the contract becomes ±10¹⁸,
    which the checks refuse."""
    whole = c.cast(pl.Decimal(38, 6)).to_physical()
    return (
        pl.when(whole > FAR).then(FAR).when(whole < -FAR).then(-FAR).otherwise(whole).cast(pl.Int64)
    )


def _field(path: str) -> pl.Expr:
    """A dotted contract path of the flattened line (``certifications.hte.issued_on``)."""
    head, *rest = path.split(".")
    c = pl.col(f"_p.{head}")
    for part in rest:
        c = c.struct.field(part)
    return c


def _long(df: pl.DataFrame, column: str, schema: dict[str, Any]) -> pl.DataFrame:
    """A list column of structs as one row per item, with ``_i`` and its position ``_k``."""
    items = (
        df.select("_i", pl.col(column).alias("_item"))
        .filter(pl.col("_item").list.len() > 0)
        .explode("_item")
        .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("_i").alias("_k"))
        .filter(pl.col("_item").is_not_null())
    )
    given = {f.name: f.dtype for f in items.schema["_item"].fields}  # type: ignore[union-attr]
    fields = []
    for name in schema:
        c = pl.col("_item").struct.field(name)
        if isinstance(given[name], pl.Decimal):
            c = micro(c)
        fields.append(c.alias(name))
    return items.select("_i", "_k", *fields)


def projects_cells(cells: list[str]) -> tuple[pa.Table | None, list[int]]:
    """Projects JSON cells (each a JSON array of the contract's projects) read by the JSON reader:
    a table of one list column ``p`` for the cells it reads, and the positions of those it refuses."""
    lines = Lines([b'{"p":' + c.encode() + b"}" for c in cells])
    return parse_lines(lines, _PROJECTS)


def project_items(table: pa.Table, keys: list[int]) -> tuple[pl.DataFrame, list[int]]:
    """The projects of read cells as the fast path's staged rows (``_i`` from ``keys``, ``_k`` after
    the numbered groups), and the ``_i`` of cells with a null item (the per-row path refuses it)."""
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    df = df.with_columns(pl.Series("_i", keys, dtype=pl.Int64))
    nulls = df.filter(pl.col("p").list.eval(pl.element().is_null()).list.any().fill_null(False))["_i"].to_list()
    items = _long(df, "p", PJ_SCHEMA).with_columns(pl.col("_k") + PROJECT_NUMBERS)
    return items, nulls


PROJECT_NUMBERS = 10_000  # past the numbered project groups (项目1 … 项目999)
