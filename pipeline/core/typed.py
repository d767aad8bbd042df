"""Plain data (a TOML file, a dict, command-line text) read into typed frozen dataclasses.

The config's sections are frozen dataclasses whose fields are annotated with a small set of types;
:func:`build` reads a dict into one (unknown keys and values of the wrong type are a
:class:`~pipeline.core.errors.ConfigError` naming the setting), :func:`check_fields` checks one
made in Python, :func:`convert` reads one value, and :class:`Range` bounds a numeric setting.
"""

from __future__ import annotations

import dataclasses
import decimal
import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from pipeline.core.errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
#: The largest number of bytes a size setting may name (1 PiB): far above any real cap, far below
#: what the C code sizes are handed to can hold (a 64-bit ``ssize_t``; ``max_record_bytes + 1``
#: must still fit), so a typo in a size is refused by the config check, not met mid-run.
SIZE_MAX = 1 << 50


def parse_size(text: str) -> int:
    """``"256MB"``/``"64MiB"``/``"1g"``/``"1048576"`` to bytes (binary multiples). Exact (no float
    rounding or overflow, whatever the number of digits); :data:`SIZE_MAX` is checked by
    :data:`RANGES`, which names the setting."""
    m = _SIZE.match(text) if len(text) <= 64 else None
    if not m:
        raise ConfigError(f"not a size: {clip(text)!r}", hint="use bytes or a unit: 64MB, 512k, 1G")
    return int(decimal.Decimal(m.group(1)) * _UNITS[m.group(2).lower()])


def clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "..."


class ByteCount:
    """Marks a field as a number of bytes: a config file may write it as a size (``"64MB"``)."""


#: A number of bytes. In TOML an integer, or a string with a unit as the CLI's size options take
#: (``"4GB"``, ``"512k"``, binary multiples; see :func:`parse_size`).
ByteSize = Annotated[int, ByteCount]


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take: ``low`` (excluded when ``low_open``) to ``high``,
    and 0 too when ``or_zero`` (a limit that 0 turns off)."""

    low: float
    high: float = math.inf
    low_open: bool = False
    #: What a boundary value means, for the message.
    note: str = ""
    or_zero: bool = False
    #: A number of bytes: the message shows ``low`` in MiB.
    size: bool = False

    def holds(self, value: float) -> bool:
        if self.or_zero and value == 0:
            return True
        return (value > self.low if self.low_open else value >= self.low) and value <= self.high

    def check(self, key: str, value: float) -> None:
        """A :class:`ConfigError` naming ``key`` unless ``value`` is in the range."""
        if not self.holds(value):
            raise ConfigError(f"{key} must be {self}, got {_number(value)}")

    def __str__(self) -> str:
        shown = _bytes if self.size else _number
        if self.high == math.inf:
            text = f"{'>' if self.low_open else '>='} {shown(self.low)}"
        else:
            text = f"in {'(' if self.low_open else '['}{shown(self.low)}, {shown(self.high)}]"
        text += " or 0" if self.or_zero else ""
        return f"{text} ({self.note})" if self.note else text


def _bytes(value: float) -> str:
    """A number of bytes for a message, in the largest binary unit that divides it (``256 MiB``)."""
    for unit, name in (
        (1 << 50, "PiB"),
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ):
        if value and value % unit == 0:
            return f"{_number(value / unit)} {name}"
    return _number(value)


def _number(value: float) -> str:
    """A number for a message: whole numbers in full (up to 30 digits), others as ``%g``."""
    if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
        whole = int(value)
        if abs(whole) >= 10**30:  # str() of a many-thousand-digit int raises ValueError
            return f"a number of about {whole.bit_length() * 0.30103:.0f} digits"
        return str(whole)
    return f"{value:g}"


T = TypeVar("T")


def build(cls: type[T], data: dict[str, Any], origin: str) -> T:
    """Build a (nested) frozen dataclass from a dict, rejecting unknown keys with a clear message
    and values that are not of their field's annotated type (see :func:`_value`)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a table, got {_shown(data)}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    extra = set(data) - set(known)
    if extra:
        raise ConfigError(f"{origin}: unknown key(s) {sorted(extra)}", hint=_known_hint(sorted(extra), known))
    hints = get_type_hints(cls, include_extras=True)
    kwargs = {
        name: convert(hints[name], value, f"{origin}.{name}", loading=True) for name, value in data.items()
    }
    return cls(**kwargs)


def known(cls: type[Any], values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``values``, or a :class:`ConfigError` naming the keys ``cls`` has no field for."""
    known = {f.name for f in fields(cls)}
    extra = sorted(set(values) - known)
    if extra:
        raise ConfigError(
            f"unknown setting(s) {[prefix + k for k in extra]}", hint=_known_hint(extra, known, prefix)
        )
    return values


def _known_hint(extra: Iterable[str], known: Iterable[str], prefix: str = "") -> str:
    """The known keys, after the ones close to each unknown key (``worker``: ``workers``)."""
    names = sorted(known)
    guesses = [f"{prefix + close[0]!r} for {prefix + k!r}" for k in extra if (close := closest(k, names))]
    meant = f"did you mean {', '.join(guesses)}? " if guesses else ""
    return f"{meant}known: {[prefix + k for k in names]}"


def closest(name: str, names: Iterable[str]) -> list[str]:
    """The names close to a mistyped ``name`` (``worker`` -> ``workers``), best first."""
    return difflib.get_close_matches(name, sorted(names), n=2, cutoff=0.6)


def check_fields(obj: object, origin: str) -> None:
    """Refuse a field of ``obj`` (a config dataclass, recursively) that is not of its annotated
    type: what ``Config(...)`` or :func:`dataclasses.replace` were given in Python."""
    hints = get_type_hints(type(obj), include_extras=True)
    for f in fields(obj):  # type: ignore[arg-type]
        hint, value, where = hints[f.name], getattr(obj, f.name), f"{origin}{f.name}"
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, hint):
            check_fields(value, f"{where}.")
        else:
            convert(hint, value, where, loading=False)


def convert(hint: Any, value: Any, where: str, *, loading: bool) -> Any:
    """``value`` as a field annotated ``hint`` holds it, or a :class:`ConfigError` naming ``where``.

    The types are those of the config dataclasses: ``bool``; ``int`` (not a bool, not a float:
    ``99.9`` is not silently cut to 99); ``float`` (an int is fine; finite); ``str``;
    ``Literal[...]`` (one of its values); ``tuple[X, ...]``; :data:`ByteSize`; unions of these
    with ``None``; nested dataclasses. ``loading`` (a TOML file or a dict): a list for a tuple,
    a size string for a :data:`ByteSize`.
    """
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if loading:
            return build(hint, value, where)
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: expected {hint.__name__}, got {_shown(value)}")
        return value
    members = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for member in members:
        ok, converted = _accepts(member, value, where, loading)
        if ok:
            return converted
    shown = [m for m in members if m is not NoneType]  # a TOML file cannot write None
    if all(get_origin(m) is Literal for m in shown):
        choices = [c for m in shown for c in get_args(m)]
        raise ConfigError(f"{where}: {_shown(value)} is not one of {choices}")
    wanted = " or ".join(_described(m, loading) for m in shown)
    raise ConfigError(f"{where}: expected {wanted}, got {_shown(value)}")


def _accepts(member: Any, value: Any, where: str, loading: bool) -> tuple[bool, Any]:
    """Whether ``value`` is a ``member`` of a field's type, and the value to store."""
    origin = get_origin(member)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if member is NoneType:
        return value is None, None
    if origin is Literal:
        return any(type(value) is type(c) and value == c for c in get_args(member)), value
    if origin is Annotated and get_args(member)[1:] == (ByteCount,):
        if loading and isinstance(value, str):
            try:
                return True, parse_size(value)
            except ConfigError:
                return False, None
        return is_int, value
    if member is bool:
        return isinstance(value, bool), value
    if member is int:
        return is_int, value
    if member is float:
        number = is_int or isinstance(value, float)
        return number and math.isfinite(value), float(value) if number else None
    if member is str:
        return isinstance(value, str), value
    if origin is tuple and get_args(member)[1:] == (...,):
        if not isinstance(value, tuple | list if loading else tuple):
            return False, None
        item = get_args(member)[0]
        return True, tuple(convert(item, v, f"{where}[{i}]", loading=loading) for i, v in enumerate(value))
    raise TypeError(f"{where}: config field type {member!r} is not supported")


def _described(member: Any, loading: bool) -> str:
    """What a config file (or, not ``loading``, Python code) must give for ``member``."""
    origin = get_origin(member)
    if origin is Literal:
        choices = get_args(member)
        return repr(choices[0]) if len(choices) == 1 else f"one of {list(choices)}"
    if origin is Annotated:
        return "a whole number of bytes or a size such as '64MB'" if loading else "a whole number of bytes"
    if origin is tuple:
        return f"a {'list' if loading else 'tuple'} of {_described(get_args(member)[0], loading)[2:]}s"
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "a string"}
    return names[member]


def _shown(value: Any) -> str:
    """``value`` for a message: its repr, with its type when the repr does not say it."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list {value!r}"
    return repr(value)
