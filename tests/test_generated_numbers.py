"""Numbers in the Markdown are generated from the committed summaries
(``benchmarks.reports.numbers``): the text and the summaries agree, and a doctored number is
caught. The small runs written here are synthetic (made-up metrics, shaped like
``summary.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.reports import numbers

REPO = Path(__file__).resolve().parents[1]


def test_every_block_in_the_repository_matches_its_summary():
    stale = numbers.run(REPO, check=True)
    assert stale == {}, ("run `python -m benchmarks.reports.numbers`: "
                         + "; ".join(f"{p.name}: {s}" for p, specs in stale.items()
                                     for s in specs))


def test_the_markdown_has_blocks_to_check():
    files = {p.relative_to(REPO).as_posix(): p.read_text().count("<!-- numbers:")
             for p in numbers.markdown_files(REPO)}
    assert files["reports/README.md"] >= 20 and files["docs/training.md"] >= 10
    assert files["docs/results.md"] >= 15  # the results the README once held


def test_a_doctored_number_in_the_real_text_is_caught():
    text = (REPO / "reports" / "README.md").read_text()
    block = "<!-- numbers:value pretrain_vs_scratch/scratch_seed42 matbench_jdft2d cloud -->"
    start = text.index(block) + len(block)
    value = text[start:text.index("<!--", start)]
    doctored = text[:start] + f"{float(value) + 0.01:.2f}" + text[start + len(value):]
    fixed, changed = numbers.fill(doctored, REPO)
    assert changed == [block[len("<!-- numbers:"):-len(" -->")]]
    assert fixed == text


def synthetic_root(tmp_path: Path) -> Path:
    run = tmp_path / "reports" / "toy"
    run.mkdir(parents=True)
    models = {"cloud": {"summary": {"mae": {"mean": 12.3456, "std": 1.5}},
                        "extra_folds": {"original split": {"mae": 11.0}}},
              "dummy": {"summary": {"mae": {"mean": 0.51234, "std": 0.02}}}}
    (run / "summary.json").write_text(json.dumps(
        {"tasks": {"matbench_jdft2d": {"models": models}}}))
    return tmp_path


def test_a_table_block_is_filled_and_then_checked(tmp_path):
    root = synthetic_root(tmp_path)
    (root / "docs").mkdir()
    doc = root / "docs" / "results.md"
    doc.write_text("Intro.\n\n<!-- numbers:results toy split=yes -->\nold\n<!-- /numbers -->\n"
                   "Inline: <!-- numbers:value toy matbench_jdft2d dummy -->9<!-- /numbers -->.\n")
    (root / "README.md").write_text("No blocks here: 1.23 stays as it is.\n")
    assert numbers.main(["--root", str(root), "--check"]) == 1
    assert "old" in doc.read_text()  # --check writes nothing
    assert numbers.main(["--root", str(root)]) == 0
    text = doc.read_text()
    assert "| `cloud` | 12.35 ± 1.50 | 11.00 |" in text
    assert "| `dummy` | 0.512 ± 0.020 | — |" in text
    assert "Inline: <!-- numbers:value toy matbench_jdft2d dummy -->0.512<!-- /numbers -->." in text
    assert numbers.main(["--root", str(root), "--check"]) == 0
    assert (root / "README.md").read_text() == "No blocks here: 1.23 stays as it is.\n"
    doc.write_text(text.replace("12.35 ± 1.50", "12.36 ± 1.50"))
    assert numbers.main(["--root", str(root), "--check"]) == 1


def test_a_block_naming_a_missing_model_is_an_error(tmp_path, capsys):
    root = synthetic_root(tmp_path)
    (root / "docs").mkdir()
    (root / "docs" / "x.md").write_text(
        "<!-- numbers:value toy matbench_jdft2d nope -->1<!-- /numbers -->\n")
    assert numbers.main(["--root", str(root), "--check"]) == 2
    assert "no model 'nope'" in capsys.readouterr().err
    with pytest.raises(numbers.BlockError, match="unknown kind"):
        numbers.render("bogus toy")


def test_paper_rows_come_from_the_reference_table():
    body = numbers.render("paper 1 rows=CLOUD;CLOUD-DEBYE_(pretrained,_fine-tuned)")
    assert "| CLOUD | 0.16 ± 0 | 0.15 ± 0 |" in body
    assert "| CLOUD-DEBYE (pretrained, fine-tuned) | 0.057 ± 0.001 | 0.055 ± 0.003 |" in body
    assert numbers.render("paper_value S3 CLOUD matbench_dielectric") == "0.3038"
    assert numbers.render("paper_value 1 CLOUD-DEBYE_(scratch) U digits=3") == "0.110"
