"""Protostructure labels -> SCOPE strings, without any atomic structure.

Two label forms are understood (``protostructure_to_scope`` detects which):

* Wren / aviary tuple labels, one entry per site orbit, ``element @ mult-letter-sg``::

      "('Br @ 24-e-225', 'Rb @ 8-c-225', 'U @ 4-a-225')"

* AFLOW-style protostructure labels (aviary, matbench-discovery)::

      "AB2C_oP16_62_c_2c_d:Cu-O-Zr"

  ``<anonymous formula>_<pearson symbol>_<sg>_<block>_<block>...:<El>-<El>-...`` with one
  Wyckoff block per element of the chemical system, in the same order. In a block each
  letter is one orbit, a count before a letter repeats it (``2c`` = two ``c`` orbits,
  ``ab2c`` = a, b, c, c).

The SCOPE Wyckoff part lists each Wyckoff symbol once, in order of first appearance; the
composition sums the multiplicities of each element's orbits (order of first appearance).
``canonical=True`` sorts the symbols by letter and the elements by atomic number.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from cloud.scope.elements import ATOMIC_NUMBER
from cloud.scope.errors import ParseError, UnknownElementError
from cloud.scope.format import Scope, composition_pairs
from cloud.scope.wyckoff import LETTERS, letter_index, multiplicity, wyckoff_letters

# one orbit: (element, multiplicity, Wyckoff letter, space group number)
Orbit = tuple[str, int, str, int]

_WREN_ENTRY = re.compile(r"^\s*([A-Za-z]+)\s*@\s*(\d+)\s*-\s*([A-Za-z])\s*-\s*(\d+)\s*$")
_AFLOW = re.compile(
    r"^(?P<formula>(?:[A-Z][0-9]*)+)_(?P<pearson>[a-z][A-Z]\d+)_(?P<sg>\d+)"
    r"_(?P<blocks>[0-9a-zA-Z_]+):(?P<chemsys>[A-Za-z]+(?:-[A-Za-z]+)*)$"
)
_BLOCK = re.compile(rf"(\d*)([{LETTERS}])")
_FORMULA_TERM = re.compile(r"([A-Z])(\d*)")
# crystal family letter of the Pearson symbol -> last space group number of the family
_FAMILY_END = {"a": 2, "m": 15, "o": 74, "t": 142, "h": 194, "c": 230}


def _element(symbol: str, label: str) -> str:
    if symbol not in ATOMIC_NUMBER:
        raise UnknownElementError(f"unknown element {symbol!r} in {label!r}")
    return symbol


def _space_group(text: str, label: str) -> int:
    number = int(text)
    if not 1 <= number <= 230:
        raise ParseError(f"space group {number} is not in 1..230 in {label!r}")
    return number


def _check_letter(number: int, letter: str, label: str) -> None:
    if letter not in wyckoff_letters(number):
        raise ParseError(
            f"space group {number} has no Wyckoff letter {letter!r} "
            f"(letters: {''.join(wyckoff_letters(number))}) in {label!r}"
        )


def parse_wren_label(text: str | Sequence[str]) -> list[Orbit]:
    """Wren tuple label (string, or the tuple itself) -> [(element, mult, letter, sg)].

    The multiplicity given in the label must equal the table's (conventional cell).
    """
    label = text if isinstance(text, str) else repr(tuple(text))
    entries: object = text
    if isinstance(text, str):
        try:
            entries = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ParseError(f"not a Wren label (tuple of 'El @ m-l-sg'): {text!r}") from exc
        if isinstance(entries, str):
            entries = (entries,)
    if not isinstance(entries, (tuple, list)) or not entries:
        raise ParseError(f"a Wren label is a non-empty tuple of 'El @ m-l-sg': {label!r}")
    orbits: list[Orbit] = []
    for entry in entries:
        m = _WREN_ENTRY.match(entry) if isinstance(entry, str) else None
        if m is None:
            raise ParseError(f"bad Wren entry {entry!r} (expected 'El @ m-l-sg') in {label!r}")
        element = _element(m.group(1), label)
        mult, letter, number = int(m.group(2)), m.group(3), _space_group(m.group(4), label)
        _check_letter(number, letter, label)
        expected = multiplicity(number, letter)
        if mult != expected:
            raise ParseError(
                f"{entry!r}: Wyckoff position {letter} of space group {number} has "
                f"multiplicity {expected}, not {mult}"
            )
        orbits.append((element, mult, letter, number))
    groups = sorted({o[3] for o in orbits})
    if len(groups) > 1:
        raise ParseError(f"mixed space groups {groups} in one label: {label!r}")
    return orbits


def _parse_block(block: str, number: int, label: str) -> list[str]:
    """``"ab2c"`` -> ``["a", "b", "c", "c"]`` (letters checked against the group)."""
    if not block or _BLOCK.sub("", block):
        raise ParseError(f"bad Wyckoff block {block!r} in {label!r}")
    letters: list[str] = []
    for count, letter in _BLOCK.findall(block):
        if count and (count.startswith("0") or int(count) == 0):
            raise ParseError(f"bad count {count!r} in Wyckoff block {block!r} of {label!r}")
        _check_letter(number, letter, label)
        letters.extend([letter] * (int(count) if count else 1))
    return letters


def _check_formula(formula: str, amounts: list[int], label: str) -> None:
    """The anonymous formula (A, B, C, ... in block order) must match the block amounts."""
    terms = _FORMULA_TERM.findall(formula)
    if [t[0] for t in terms] != [chr(ord("A") + i) for i in range(len(terms))]:
        raise ParseError(f"bad anonymous formula {formula!r} in {label!r}")
    if len(terms) != len(amounts):
        raise ParseError(
            f"formula {formula!r} has {len(terms)} elements but the label has "
            f"{len(amounts)} Wyckoff blocks: {label!r}"
        )
    counts = [int(n) if n else 1 for _, n in terms]
    # same ratio: amounts[i] * counts[0] == counts[i] * amounts[0]
    if any(a * counts[0] != c * amounts[0] for a, c in zip(amounts, counts, strict=True)):
        raise ParseError(
            f"formula {formula!r} does not match the Wyckoff multiplicities {amounts}: {label!r}"
        )


def parse_aflow_label(text: str) -> list[Orbit]:
    """AFLOW-style protostructure label -> [(element, mult, letter, sg)], one per orbit."""
    label = text.strip() if isinstance(text, str) else text
    m = _AFLOW.match(label) if isinstance(label, str) else None
    if m is None:
        raise ParseError(
            "not an AFLOW protostructure label "
            f"('<formula>_<pearson>_<sg>_<wyckoffs>:<El-El-...>'): {text!r}"
        )
    number = _space_group(m.group("sg"), label)
    family = next(f for f, end in _FAMILY_END.items() if number <= end)
    if m.group("pearson")[0] != family:
        raise ParseError(
            f"Pearson symbol {m.group('pearson')!r} does not fit group {number}: {label!r}"
        )
    blocks = m.group("blocks").split("_")
    elements = [_element(el, label) for el in m.group("chemsys").split("-")]
    if len(set(elements)) != len(elements):
        raise ParseError(f"repeated element in the chemical system of {label!r}")
    if len(blocks) != len(elements):
        raise ParseError(f"{len(blocks)} Wyckoff blocks but {len(elements)} elements in {label!r}")
    orbits: list[Orbit] = []
    amounts: list[int] = []
    for element, block in zip(elements, blocks, strict=True):
        letters = _parse_block(block, number, label)
        mults = [multiplicity(number, letter) for letter in letters]
        orbits.extend(
            (element, k, letter, number) for k, letter in zip(mults, letters, strict=True)
        )
        amounts.append(sum(mults))
    _check_formula(m.group("formula"), amounts, label)
    return orbits


def _is_wren(label: str | Sequence[str]) -> bool:
    return not isinstance(label, str) or "@" in label or label.lstrip().startswith(("(", "["))


def parse_label(label: str | Sequence[str]) -> list[Orbit]:
    """Either label form -> [(element, mult, letter, sg)]."""
    if isinstance(label, str) and not label.strip():
        raise ParseError("empty protostructure label")
    return parse_wren_label(label) if _is_wren(label) else parse_aflow_label(label)


def protostructure_parts(
    label: str | Sequence[str], canonical: bool = False
) -> tuple[int, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(space group number, Wyckoff symbols, composition pairs) of a label."""
    orbits = parse_label(label)
    number = orbits[0][3]
    symbols: dict[str, str] = {}  # letter -> symbol, first appearance order
    amounts: dict[str, int] = {}
    for element, mult, letter, _ in orbits:
        symbols.setdefault(letter, f"{mult}{letter}")
        amounts[element] = amounts.get(element, 0) + mult
    letters = list(symbols)
    if canonical:
        letters.sort(key=letter_index)
        amounts = {el: amounts[el] for el in sorted(amounts, key=ATOMIC_NUMBER.__getitem__)}
    return number, tuple(symbols[k] for k in letters), composition_pairs(amounts)


def protostructure_to_scope(label: str | Sequence[str], canonical: bool = False) -> Scope:
    """SCOPE of a protostructure label (Wren tuple or AFLOW form, detected automatically)."""
    from cloud.scope.degraef import generator_string

    number, wyckoff, composition = protostructure_parts(label, canonical=canonical)
    return Scope(generator_string(number), wyckoff, composition)
