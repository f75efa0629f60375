"""Protostructure labels (Wren tuples, AFLOW-style) -> SCOPE parts."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from cloud.scope.format import format_fraction
from cloud.scope.protostructure import (
    parse_aflow_label,
    parse_wren_label,
    protostructure_parts,
    protostructure_to_scope,
)
from cloud.scope.wyckoff import letter_index

DATA = Path("/work/shared/data/protostructures")
FILES = ["mp-wyk-test.csv.gz", "taata-wyk-test.csv.gz", "taata-wyk-train.csv.gz"]
RB2UBR6 = "('Br @ 24-e-225', 'Rb @ 8-c-225', 'U @ 4-a-225')"


@pytest.fixture(scope="module", params=FILES)
def table(request) -> pd.DataFrame:
    path = DATA / request.param
    if not path.exists():
        pytest.skip(f"data not available: {path}")
    return pd.read_csv(path)


def _expected_fractions(formula: str) -> dict[str, str]:
    from pymatgen.core import Composition

    frac = Composition(formula).fractional_composition
    return {str(el): format_fraction(x) for el, x in frac.items()}


def _aflow_from_wren(text: str) -> str:
    """Write an AFLOW-style label for the same orbits (test helper, alphabetical elements)."""
    orbits = parse_wren_label(text)
    number = orbits[0][3]
    per_element: dict[str, Counter] = {}
    for element, _, letter, _ in orbits:
        per_element.setdefault(element, Counter())[letter] += 1
    elements = sorted(per_element)
    blocks = [
        "".join(
            f"{n if n > 1 else ''}{k}"
            for k, n in sorted(per_element[el].items(), key=lambda kv: letter_index(kv[0]))
        )
        for el in elements
    ]
    amounts = [sum(m for e, m, _, _ in orbits if e == el) for el in elements]
    g = amounts[0]
    for a in amounts:
        while a:
            g, a = a, g % a
    formula = "".join(f"{chr(65 + i)}{a // g if a // g > 1 else ''}" for i, a in enumerate(amounts))
    family = next(
        f for f, end in zip("amothc", (2, 15, 74, 142, 194, 230), strict=True) if number <= end
    )
    pearson = f"{family}P{sum(amounts)}"
    return f"{formula}_{pearson}_{number}_{'_'.join(blocks)}:{'-'.join(elements)}"


# ------------------------------------------------------------------------- real data


def test_every_row_converts_and_matches_composition(table):
    failures, mismatches = [], []
    for formula, label in zip(table["composition"], table["wyckoff"], strict=True):
        try:
            _, wyckoff, composition = protostructure_parts(label)
        except ValueError as exc:
            failures.append((label, str(exc)))
            continue
        assert len(wyckoff) == len(set(wyckoff))
        if dict(composition) != _expected_fractions(formula):
            mismatches.append((formula, label, composition))
    assert failures == [], f"{len(failures)} rows failed, e.g. {failures[:5]}"
    assert mismatches == [], f"{len(mismatches)} composition mismatches, e.g. {mismatches[:5]}"


def test_aflow_form_agrees_with_wren_form_on_real_rows(table):
    for label in table["wyckoff"].iloc[::7]:
        aflow = _aflow_from_wren(label)
        assert protostructure_parts(aflow, canonical=True) == protostructure_parts(
            label, canonical=True
        ), (label, aflow)


# --------------------------------------------------------------------- hand-checked


def test_rb2ubr6():
    number, wyckoff, composition = protostructure_parts(RB2UBR6)
    assert number == 225
    assert wyckoff == ("24e", "8c", "4a")
    assert composition == (("Br", "0.67"), ("Rb", "0.22"), ("U", "0.11"))
    _, wyckoff, composition = protostructure_parts(RB2UBR6, canonical=True)
    assert wyckoff == ("4a", "8c", "24e")
    assert [el for el, _ in composition] == ["Br", "Rb", "U"]


def test_wren_parse_and_shared_symbols():
    label = "('N @ 4-a-33', 'N @ 4-a-33', 'Ti @ 4-a-33', 'Zn @ 4-a-33', 'Zn @ 4-a-33')"
    assert parse_wren_label(label)[0] == ("N", 4, "a", 33)
    number, wyckoff, composition = protostructure_parts(label)
    assert (number, wyckoff) == (33, ("4a",))  # listed once although five orbits share it
    assert composition == (("N", "0.4"), ("Ti", "0.2"), ("Zn", "0.4"))
    # the tuple itself works too
    assert protostructure_parts(("Cu @ 4-a-225",))[1:] == (("4a",), (("Cu", "1.0"),))


def test_canonical_orders_letters_and_atomic_numbers():
    label = "('O @ 3-d-221', 'K @ 1-b-221', 'Gd @ 1-a-221')"
    assert protostructure_parts(label)[1:] == (
        ("3d", "1b", "1a"),
        (("O", "0.6"), ("K", "0.2"), ("Gd", "0.2")),
    )
    assert protostructure_parts(label, canonical=True)[1:] == (
        ("1a", "1b", "3d"),
        (("O", "0.6"), ("K", "0.2"), ("Gd", "0.2")),
    )
    label = "('Gd @ 1-a-221', 'K @ 1-b-221', 'O @ 3-d-221')"
    assert [el for el, _ in protostructure_parts(label, canonical=True)[2]] == ["O", "K", "Gd"]


@pytest.mark.parametrize(
    ("label", "number", "wyckoff", "composition"),
    [
        ("AB_cF8_225_a_b:Cl-Na", 225, ("4a", "4b"), (("Cl", "0.5"), ("Na", "0.5"))),
        ("A_cF4_225_a:Cu", 225, ("4a",), (("Cu", "1.0"),)),
        ("A2B_tP6_136_f_a:O-Ti", 136, ("4f", "2a"), (("O", "0.67"), ("Ti", "0.33"))),
        ("AB_hP4_186_b_b:O-Zn", 186, ("2b",), (("O", "0.5"), ("Zn", "0.5"))),
        ("A_hR2_166_c:Bi", 166, ("6c",), (("Bi", "1.0"),)),
        ("AB3_cF16_225_a_bc:Al-Fe", 225, ("4a", "4b", "8c"), (("Al", "0.25"), ("Fe", "0.75"))),
        ("A2B_oP12_62_2c_c:Co-Si", 62, ("4c",), (("Co", "0.67"), ("Si", "0.33"))),
        (
            "A2BC4_cF56_227_d_a_e:Al-Mg-O",
            227,
            ("16d", "8a", "32e"),
            (("Al", "0.29"), ("Mg", "0.14"), ("O", "0.57")),
        ),
        (
            "AB3C_cP5_221_a_c_b:Ca-O-Ti",
            221,
            ("1a", "3c", "1b"),
            (("Ca", "0.2"), ("O", "0.6"), ("Ti", "0.2")),
        ),
        ("A_oP8_47_A:Cu", 47, ("8A",), (("Cu", "1.0"),)),  # Pmmm's 27th letter
    ],
)
def test_aflow_examples(label, number, wyckoff, composition):
    assert protostructure_parts(label) == (number, wyckoff, composition)


def test_aflow_block_counts():
    orbits = parse_aflow_label("A2B_oP12_62_2c_c:Co-Si")
    assert [(el, letter) for el, _, letter, _ in orbits] == [("Co", "c"), ("Co", "c"), ("Si", "c")]
    orbits = parse_aflow_label("AB3_cF16_225_a_bc:Al-Fe")
    assert [m for _, m, _, _ in orbits] == [4, 4, 8]


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello", "not an AFLOW"),
        ("AB_cF8_225_a_b", "not an AFLOW"),  # no chemical system
        ("AB_cF8_225_a_m:Cl-Na", "no Wyckoff letter 'm'"),
        ("AB_cF8_225_a_b:Cl-Xx", "unknown element 'Xx'"),
        ("AB_cF8_225_a:Cl-Na", "1 Wyckoff blocks but 2 elements"),
        ("AB2_cF8_225_a_b:Cl-Na", "does not match"),
        ("AB_tF8_225_a_b:Cl-Na", "Pearson"),
        ("AB_cF8_231_a_b:Cl-Na", "not in 1..230"),
        ("AB_cF8_225_a_0b:Cl-Na", "bad count"),
        ("AB_cF8_225_a_b:Cl-Cl", "repeated element"),
        ("()", "non-empty tuple"),
        ("('Br @ 24-e-225'", "not a Wren label"),
        ("('Br 24-e-225',)", "bad Wren entry"),
        ("('Br @ 24-e',)", "bad Wren entry"),
        ("('Xx @ 24-e-225',)", "unknown element 'Xx'"),
        ("('Br @ 12-e-225',)", "multiplicity 24, not 12"),
        ("('Br @ 24-z-225',)", "no Wyckoff letter 'z'"),
        ("('Br @ 1-a-0',)", "not in 1..230"),
        ("('Br @ 24-e-225', 'Rb @ 3-c-221')", "mixed space groups"),
        ("(1, 2)", "bad Wren entry"),
    ],
)
def test_malformed_raises(label, message):
    with pytest.raises(ValueError, match=message):
        protostructure_parts(label)


def test_no_pymatgen_import():
    code = "import sys, cloud.scope.protostructure; assert 'pymatgen' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------- full SCOPE string


def test_scope_string():
    degraef = pytest.importorskip("cloud.scope.degraef")
    scope = protostructure_to_scope(RB2UBR6)
    assert scope.generator == degraef.generator_string(225)
    assert str(scope).split(" | ")[1:] == ["24e 8c 4a", "Br 0.67 Rb 0.22 U 0.11"]
    scope = protostructure_to_scope("AB_cF8_225_a_b:Cl-Na", canonical=True)
    assert str(scope) == f"{' '.join(degraef.generator_string(225))} | 4a 4b | Na 0.5 Cl 0.5"
