"""Input ablations of CLOUD: transforms of SCOPE strings (``generator | wyckoff | composition``).

Each ablation is a function of one space-separated SCOPE string (paper or canonical) and is
applied to the train and test strings of a fold before tokenization, so that the ablated
model has the same architecture, encoder and training as CLOUD (benchmark models
``cloud_sg_number``, ``cloud_no_wyckoff``, ``cloud_no_composition``; the fourth ablation,
paper vs canonical SCOPE, is the runner's per-model ``scope_mode`` and needs no transform):

* ``sg_number`` - the space-group number instead of the generator string (MatInFormer-like),
  e.g. ``2 2 5 | 4a 4b | Na 0.5 Cl 0.5`` for rock salt;
* ``no_wyckoff`` - SCOPE without the Wyckoff part: ``generator | composition``;
* ``no_composition`` - SCOPE without the composition part: ``generator | wyckoff``.

A removed part is dropped together with its ``|`` (no empty part is left); :func:`kept_parts`
says which parts a transformed string has, in order, so that analyses (the [CLS] attention's
section labels) can read it.

**How the number is written.** The number is spelled as three digit tokens, zero-padded
(``0 1 2`` for 12), from the digits ``0``-``9`` the grammar-built tokenizer already has
rather than new ``sg1``..``sg230`` tokens. Reasons: the
vocabulary, and so the committed pretrained encoder (its saved 441-token tokenizer) and
every checkpoint, stay valid without resizing embeddings or new randomly initialised rows;
the fine-tuning code needs no tokenizer option; and the fixed width puts each decimal place
at a fixed position, as the generator string's fixed layout does. The cost: the number is
three tokens instead of one, and the digit tokens are shared with the generator string's
flags and counts (as ``O`` is shared by translations and oxygen), so the model must compose
the group from digits rather than look it up; 1-digit and 3-digit groups also get the same
length (no length cue).

**Which number.** A generator string is mapped back to its space group with the inverse of
:func:`cloud.scope.degraef.generator_table` (the one place that maps groups to strings).
The paper's own table differs from it for three groups (typos or another origin choice,
see ``tests/test_generators.py``: ``KNOWN_DIFFERENCES``); its strings for these three are
accepted as well (``PAPER_GENERATOR_STRINGS``), since the paper's precomputed SCOPE strings
use them for materials of exactly those groups.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cloud.scope.format import SEPARATOR
from cloud.scope.space_group import space_group_number

PARTS = ("space_group", "wyckoff", "composition")  # the three parts, in SCOPE order
UNKNOWN = "[UNK]"  # written in place of a part a transform could not compute

def _split(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(SEPARATOR)]
    if len(parts) != len(PARTS):
        raise ValueError(f"a SCOPE string has {len(PARTS)} parts separated by "
                         f"'{SEPARATOR}': {text!r}")
    return parts


def _join(parts: Sequence[str]) -> str:
    return f" {SEPARATOR} ".join(parts)


def sg_number(text: str) -> str:
    """Generator string -> space-group number as three digit tokens (``2 2 5``)."""
    generator, wyckoff, composition = _split(text)
    number = space_group_number(generator.replace(" ", ""))
    return _join([" ".join(f"{number:03d}"), wyckoff, composition])


def no_wyckoff(text: str) -> str:
    """Drop the Wyckoff part and its separator: ``generator | composition``."""
    generator, _, composition = _split(text)
    return _join([generator, composition])


def no_composition(text: str) -> str:
    """Drop the composition part and its separator: ``generator | wyckoff``."""
    generator, wyckoff, _ = _split(text)
    return _join([generator, wyckoff])


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "sg_number": sg_number,
    "no_wyckoff": no_wyckoff,
    "no_composition": no_composition,
}
DESCRIPTIONS = {
    "sg_number": "ablation: space-group number (3 digit tokens) instead of the generator string",
    "no_wyckoff": "ablation: SCOPE without Wyckoff symbols",
    "no_composition": "ablation: SCOPE without composition",
}
_KEPT = {
    "sg_number": PARTS,
    "no_wyckoff": ("space_group", "composition"),
    "no_composition": ("space_group", "wyckoff"),
}


def _check(name: str | None) -> None:
    if name is not None and name not in TRANSFORMS:
        raise ValueError(f"unknown input transform {name!r}; choose from {sorted(TRANSFORMS)}")


def kept_parts(name: str | None) -> tuple[str, ...]:
    """The parts a string has after transform ``name`` (``None``: no transform), in order."""
    _check(name)
    return PARTS if name is None else _KEPT[name]


def transform_texts(
    name: str | None, ids: Sequence[str], texts: Sequence[str]
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Apply transform ``name`` to every string; a row that fails keeps its place with
    ``[UNK]`` as its only token and gets an error ``(id, "input_transform", message)``."""
    _check(name)
    if name is None:
        return list(texts), []
    fn = TRANSFORMS[name]
    out, errors = [], []
    for i, text in zip(ids, texts, strict=True):
        try:
            out.append(fn(text))
        except ValueError as exc:
            out.append(UNKNOWN)
            errors.append((str(i), "input_transform", f"{name}: {exc}"))
    return out, errors
