"""Words and numbers in the reader's language: values, units, money, dates and text templates.

Everything a face prints for a person (explanations, finding messages, reports) says a value
through this module, so an Indonesian text never shows ``true``, ``female`` or ``2024-01-01`` and
an English one never shows ``perempuan``: booleans become *ya/tidak*, enum values the schema's
``labels``, money ``Rp600.000`` / ``Rp600,000`` and dates ``1 Januari 2024`` / ``1 January 2024``
(both through Babel's locale data), quantities their unit in words.

Titles and messages are templates: ``{param.bps.savings_threshold}`` is the value of that
parameter in force (with its unit), ``{name}`` the value of a field or rule of the record, so an
override, a plugin or a what-if shows its own numbers. :func:`template_names` lists the
placeholders of a text so the loader can refuse an unknown one.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from babel.numbers import format_decimal

if TYPE_CHECKING:
    from .schema import Field

LANGS = ("id", "en")
_LOCALES = {"id": "id_ID", "en": "en_GB"}

#: unit → (Indonesian, English) pattern; ``{n}`` is the formatted number, ``{rp}`` the amount
#: of money. A unit not listed here is printed after the number as written in the rule file.
_UNITS: dict[str, tuple[str, str]] = {
    "IDR": ("{rp}", "{rp}"),
    "IDR/year": ("{rp} per tahun", "{rp} a year"),
    "IDR/month": ("{rp} per bulan", "{rp} a month"),
    "IDR/person/month": ("{rp} per orang per bulan", "{rp} a person a month"),
    "m2": ("{n} m²", "{n} m²"),
    "m2/person": ("{n} m² per orang", "{n} m² a person"),
    "year": ("{n} tahun", "{n} years"),
    "months": ("{n} bulan", "{n} months"),
    "times/week": ("{n} kali seminggu", "{n} times a week"),
    "sets/year": ("{n} stel setahun", "{n} sets a year"),
    "meals/day": ("{n} kali makan sehari", "{n} meals a day"),
    "decile": ("desil {n}", "decile {n}"),
    "persons": ("{n} orang", "{n} persons"),
    "pregnancies": ("{n} kehamilan", "{n} pregnancies"),
    "children": ("{n} anak", "{n} children"),
    "criteria": ("{n} kriteria", "{n} criteria"),
    "clients/year": ("{n} penerima layanan setahun", "{n} clients a year"),
    "reports": ("{n} laporan", "{n} reports"),
    "reports/12 months": ("{n} laporan dalam 12 bulan", "{n} reports in 12 months"),
    "meetings/12 months": ("{n} pertemuan dalam 12 bulan", "{n} meetings in 12 months"),
    "programmes": ("{n} program", "{n} programmes"),
    "sources": ("{n} sumber", "{n} sources"),
    "points": ("{n} poin", "{n} points"),
    "points/person": ("{n} poin per orang", "{n} points a person"),
    "points/decile": ("{n} poin per desil", "{n} points a decile"),
    "points/criterion": ("{n} poin per kriteria", "{n} points a criterion"),
    "flags": ("{n} tanda", "{n} flags"),
}

_BOOL = {"id": ("ya", "tidak"), "en": ("yes", "no")}
_BLANK = {"id": "tidak diisi", "en": "blank"}
_UNKNOWN = {"id": "belum diketahui", "en": "not known"}

#: ``{param.a.b}``, ``{name}``, and ``{...:number}`` for the bare number without its unit
_PLACEHOLDER = re.compile(
    r"\{(param\.[A-Za-z_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?|[A-Za-z_][A-Za-z0-9_]*)(?::(number))?\}")
#: English units said of one thing
_SINGULAR = {"years": "year", "times": "time", "sets": "set", "meals": "meal",
             "persons": "person", "children": "child", "reports": "report",
             "programmes": "programme", "sources": "source", "points": "point", "flags": "flag",
             "pregnancies": "pregnancy", "clients": "client", "months": "month",
             "meetings": "meeting", "criteria": "criterion"}


def _locale(lang: str) -> str:
    """The Babel locale of a language of :data:`LANGS`; a locale (``en_US``) as it is."""
    return _LOCALES.get(lang) or (lang if "_" in lang else _LOCALES["en"])


def number(value: float | int, lang: str, *, decimals: int | None = None) -> str:
    """A number with the locale's grouping and decimal mark: up to two decimals (``1.500,5`` /
    ``1,500.5``), or exactly ``decimals``. The one place numbers are formatted for people
    (Babel): reasons, explanations, tables, charts and reports all come here.

    Args:
        value: the number.
        lang: a language of :data:`LANGS`, or a Babel locale (``id_ID``, ``en_US``).
        decimals: the number of decimals to show (``None``: up to two, none for a whole
            number).
    """
    if decimals is None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        fmt = "#,##0.##"
    else:
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=fmt, locale=_locale(lang)))


def money(value: float | int, lang: str) -> str:
    """Rupiah, whole: ``Rp600.000`` in Indonesian, ``Rp600,000`` in English."""
    return "Rp" + str(format_decimal(round(value), format="#,##0", locale=_locale(lang)))


def date(value: datetime.date, lang: str) -> str:
    """A date in words: ``1 Januari 2024`` / ``1 January 2024``."""
    return str(format_date(value, format="d MMMM y", locale=_locale(lang)))


def boolean(value: bool, lang: str) -> str:
    """``ya``/``tidak`` or ``yes``/``no``."""
    yes, no = _BOOL.get(lang, _BOOL["en"])
    return yes if value else no


def blank(lang: str) -> str:
    """What a field left blank is called."""
    return _BLANK.get(lang, _BLANK["en"])


def unknown(lang: str) -> str:
    """What an outcome not yet known is called."""
    return _UNKNOWN.get(lang, _UNKNOWN["en"])


def quantity(value: float | int, unit: str, lang: str) -> str:
    """A number with its unit in words (``Rp600.000 per bulan``, ``8 m²``, ``60 tahun``)."""
    pattern = _UNITS.get(unit)
    if pattern is None:
        shown = number(value, lang)
        return f"{shown} {unit}" if unit else shown
    text = pattern[0] if lang == "id" else pattern[1]
    if lang != "id" and value == 1:
        text = " ".join(_SINGULAR.get(w, w) for w in text.split(" "))
    return text.format(n=number(value, lang), rp=money(value, lang) if "{rp}" in text else "")


def value(v: Any, lang: str, *, field: Field | None = None, unit: str = "") -> str:
    """Any value as a reader should hear it in ``lang``.

    Args:
        v: the value (``None`` is blank).
        lang: ``"id"`` or ``"en"``.
        field: the schema field it comes from, for enum labels.
        unit: the unit of a number (a parameter's or rule's ``unit``).
    """
    if v is None:
        return blank(lang)
    if isinstance(v, bool):
        return boolean(v, lang)
    if isinstance(v, int | float):
        return quantity(v, unit, lang)
    if isinstance(v, datetime.date):
        return date(v, lang)
    if isinstance(v, list | tuple):
        return ", ".join(value(x, lang, field=field, unit=unit) for x in v)
    if field is not None:
        word = field.value_label(v, lang)
        if word is not None:
            return word
    return str(v)


def template_names(text: str) -> list[str]:
    """The placeholders of a template, in order: ``param.x.y`` or a field/rule name."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def render(text: str, resolve: Callable[[str, bool], str | None]) -> str:
    """Fill a template: each ``{name}`` whose ``resolve(name, bare)`` is not ``None`` is
    replaced (``bare`` for ``{name:number}``: the number without its unit).

    A placeholder the resolver does not know stays as written, so a literal brace in a title
    is never lost.
    """

    def sub(m: re.Match[str]) -> str:
        got = resolve(m.group(1), m.group(2) == "number")
        return m.group(0) if got is None else got

    return _PLACEHOLDER.sub(sub, text)
