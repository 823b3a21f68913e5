"""Why a value is withheld, in words: one sentence per reason code, in both languages.

The suppression rule (:mod:`streams.audit.suppression`) gives every withheld value a reason
code. A reader must be told the truth of each: a value withheld so that another cannot be
worked out was made from many cases, and widening the filter does not bring it back; a value
withheld for few cases may come back with a wider filter. The page, the front page, the
exports and ``kawal stats`` all say a code with these words, so no channel says another thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.audit.suppression import (
    COMPLEMENTARY,
    REASONS,
    SAME_CASES,
    SMALL_COUNT,
    SMALL_GROUP,
    SMALL_REASONS,
    SMALL_SELECTION,
    reasons,
    withheld,
)

#: Reason code -> a few words for a withheld cell, per language.
SHORT: dict[str, dict[str, str]] = {
    SMALL_COUNT: {"id": "sedikit kasus", "en": "few cases"},
    SMALL_GROUP: {"id": "kelompok kecil", "en": "small group"},
    SMALL_SELECTION: {"id": "sedikit kasus terpilih", "en": "few cases chosen"},
    COMPLEMENTARY: {"id": "melindungi angka lain", "en": "protects another figure"},
    SAME_CASES: {"id": "ditahan di tabel lain", "en": "withheld elsewhere"},
}

#: Reason code -> why, per language; ``{k}`` is K.
WHY: dict[str, dict[str, str]] = {
    SMALL_COUNT: {
        "id": "Ditahan karena menghitung kurang dari {k} kasus (atau dihitung dari angka "
        "seperti itu): angka ini dapat mengungkap siapa orangnya.",
        "en": "Withheld because it counts fewer than {k} cases (or is computed from such a "
        "count): it could identify the person.",
    },
    SMALL_GROUP: {
        "id": "Ditahan karena kelompok barisnya berisi kurang dari {k} kasus: tidak satu pun "
        "angka baris itu ditampilkan.",
        "en": "Withheld because its row's group holds fewer than {k} cases: none of the row's "
        "values is shown.",
    },
    SMALL_SELECTION: {
        "id": "Ditahan karena saringan memilih kurang dari {k} kasus: tidak ada angka yang "
        "dihitung darinya ditampilkan.",
        "en": "Withheld because the filters choose fewer than {k} cases: nothing computed from "
        "them is shown.",
    },
    COMPLEMENTARY: {
        "id": "Ditahan walaupun berasal dari cukup banyak kasus: jika ditampilkan, angka lain "
        "yang ditahan dapat dihitung dari total, angka lain di barisnya, atau angka yang "
        "membatasinya.",
        "en": "Withheld though made from enough cases: shown, it would let another withheld "
        "figure be worked out from the totals, the row's other counts or the figures bounding "
        "it.",
    },
    SAME_CASES: {
        "id": "Ditahan karena tabel lain (atau halaman depan) menghitung kasus yang sama dan "
        "menahan angka ini di sana: jika ditampilkan di sini, angka itu akan terungkap.",
        "en": "Withheld because another table (or the front page) counts the same cases and "
        "withholds this figure there: shown here, it would give that one away.",
    },
}

#: What a reader can do about a value withheld for few cases, on a filtered view only.
WIDEN: dict[str, str] = {
    "id": "Saringan yang lebih luas (satu provinsi, seluruh pemilihan, rentang hari yang lebih "
    "panjang) dapat menampilkan angka yang ditahan karena sedikit kasus.",
    "en": "A wider filter (a province, a whole election, a longer range of days) may show the "
    "figures withheld for few cases.",
}

#: What withheld means at all: true of every reason code.
SUMMARY: dict[str, str] = {
    "id": "Ditahan: angka dari kurang dari {k} kasus tidak diterbitkan, begitu pula angka yang "
    "akan mengungkap angka seperti itu.",
    "en": "Withheld: no figure from fewer than {k} cases is published, nor one that would give "
    "such a figure away.",
}


def why(code: str, locale: str, min_cases: int) -> str:
    """The sentence saying why a value of reason ``code`` is withheld."""
    return WHY[code][locale].format(k=min_cases)


def summary(locale: str, min_cases: int) -> str:
    """What withheld means, true of every reason (``suppression.reason`` of the exports)."""
    return SUMMARY[locale].format(k=min_cases)


def every_why(min_cases: int) -> dict[str, dict[str, str]]:
    """Each reason code -> its sentence in both languages, for the exports."""
    return {
        code: {locale: why(code, locale, min_cases) for locale in WHY[code]} for code in REASONS
    }


def codes_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The reason codes of the withheld values of ``rows``, in the order of :data:`REASONS`."""
    found = {code for row in rows for code in reasons(row).values()}
    return [code for code in REASONS if code in found]


def widening_helps(codes: Iterable[str], filtered: bool) -> bool:
    """Whether to tell the reader a wider filter may help.

    Only where a value is withheld for few cases (never for the secondary or the twins rule,
    made from many cases), and only on a filtered view: there is nothing to widen otherwise.
    """
    return filtered and any(code in SMALL_REASONS for code in codes)


def listed(row: Mapping[str, Any]) -> str:
    """The withheld columns of ``row`` with their codes: ``followed_up=complementary ...``.

    The form of the CSV's ``withheld_because`` column and of ``kawal stats``' text: words a
    script splits on spaces and ``=``.
    """
    return " ".join(f"{column}={code}" for column, code in sorted(reasons(row).items()))


def withheld_lines(rows: list[dict[str, Any]], key: str) -> list[str]:
    """Under a text table, why each row's withheld cells are withheld.

    Args:
        rows: the table's rows as the view holds them.
        key: the column naming a row (``agency``), or '' for a table of one row; a handling
            stage is named by its ``stage``.
    """
    lines = []
    for row in rows:
        if withheld(row):
            name = row.get("stage") or (row.get(key) if key else None) or ""
            lines.append(f"  withheld {name + ': ' if name else ''}{listed(row)}".rstrip())
    return lines


def legend(rows: list[dict[str, Any]], min_cases: int) -> list[str]:
    """What withheld means and each reason code the rows give, in English; none if none."""
    codes = codes_of(rows)
    if not codes and not any(withheld(row) for row in rows):
        return []
    return [
        summary("en", min_cases),
        *(f"  {code}: {why(code, 'en', min_cases)}" for code in codes),
    ]


def page_words(locale: str, min_cases: int) -> dict[str, dict[str, str]]:
    """Each reason code -> its ``short`` words and its ``why`` sentence in ``locale``.

    The key '' stands for a withheld value without a code (a view older than the codes): its
    words are :func:`summary`'s, true of every reason.
    """
    found = {
        code: {"short": SHORT[code][locale], "why": why(code, locale, min_cases)}
        for code in REASONS
    }
    return found | {"": {"short": "", "why": summary(locale, min_cases)}}


def noted(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The reason codes a note under a table of ``rows`` says; [] where none is withheld.

    A value withheld without a code (a view older than the codes) adds '', whose words are
    :func:`summary`'s.
    """
    rows = list(rows)
    coded = all(set(reasons(row)) >= set(withheld(row)) for row in rows)
    return codes_of(rows) + ([] if coded else [""])
