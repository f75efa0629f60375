"""Numbers in Markdown, generated from the committed summaries they come from.

A generated block sits between two HTML comments; the opening one names what to show::

    <!-- numbers:results phonon_cpu tasks=cv,u metric=mae_over_mad -->
    | model | cv | u |
    ...
    <!-- /numbers -->

Kinds (``RUN`` is a folder of ``reports/``; options are ``key=value``):

- ``results RUN [tasks=..] [models=..] [metric=..] [digits=auto] [std=yes] [split=no]`` — a
  table, one row per model and one column per task, of the mean ± std over the folds of
  ``reports/RUN/summary.json`` (metric: each task's primary metric; ``split=yes`` adds the
  phonon tasks' original-split fold, reported apart). ``digits``: decimals (default: 2 for
  values of 10 and more, else 3).
- ``value RUN TASK MODEL [metric=..] [stat=mean] [digits=auto] [split=no]`` — one number, on
  the same line as its markers (it can sit inside a sentence).
- ``paper TABLE [rows=..] [columns=..] [digits=..]`` — rows of one of the paper's tables as
  ``benchmarks/reference/paper_results.json`` restates them (``1``, ``S3``, ``S6``).
- ``paper_value TABLE ROW COLUMN [digits=..]`` — one number of the paper's tables, inline.
- ``scaling RUN`` — the scaling-law fit of ``reports/RUN/fit.json`` beside the paper's.
- ``paired RUN FILE [digits=auto]`` — the paired comparison ``reports/RUN/FILE`` (written by
  ``python -m benchmarks.reports.compare ... --json``), inline: A − B with its 95 % interval
  and p-value.
- ``attention RUN TASK MODEL`` — the layer-0 [CLS] attention shares of
  ``reports/RUN/TASK/attention_MODEL.json`` by section, with their p-values.

``python -m benchmarks.reports.numbers`` rewrites every block of the Markdown files
(``README.md``, ``docs/*.md``, ``reports/README.md``); ``--check`` rewrites nothing and
exits 1 listing every block whose text differs from what the summaries give. A file without
blocks is left alone.

Example:
  python -m benchmarks.reports.numbers
  python -m benchmarks.reports.numbers --check
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARKDOWN = ("README.md", "docs/*.md", "reports/README.md")
BLOCK = re.compile(r"<!-- numbers:(?P<spec>[^>]*?) -->(?P<body>.*?)<!-- /numbers -->", re.S)
METRIC_NAMES = {"mae": "MAE", "mae_over_mad": "MAE/MAD", "full/F1": "F1", "rmse": "RMSE"}


class BlockError(ValueError):
    """A block whose opening comment names something the summaries do not have."""


@dataclass(frozen=True)
class Spec:
    kind: str
    args: tuple[str, ...]
    options: dict

    @classmethod
    def parse(cls, text: str) -> Spec:
        words = text.split()
        if not words:
            raise BlockError("empty block name")
        args = tuple(w for w in words[1:] if "=" not in w)
        options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        return cls(words[0], args, options)

    def option(self, key: str, default=None):
        return self.options.get(key, default)

    def items(self, key: str) -> list[str] | None:
        """A list option: ``a,b,c``, or ``a;b;c`` when an item has a comma; ``_`` stands
        for a space where a name has one (a paper row)."""
        value = self.options.get(key)
        if not value:
            return None
        return value.split(";") if ";" in value else value.split(",")


def decimals(value: float, digits: str | int | None) -> int:
    """``digits`` decimals; by default 2 for values of 10 and more, else 3."""
    if digits not in (None, "auto"):
        return int(digits)
    return 2 if value is not None and abs(value) >= 10 else 3


def fmt(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def _json(path: Path) -> dict:
    if not path.exists():
        raise BlockError(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
                         f"no such file")
    return json.loads(path.read_text())


def summary(root: Path, run: str) -> dict:
    return _json(root / "reports" / run / "summary.json")


def primary_metric(task: str) -> str:
    from benchmarks.tasks import all_tasks

    return next((t.primary_metric for t in all_tasks() if t.name == task), "mae")


def model_entry(root: Path, run: str, task: str, model: str) -> dict:
    tasks = summary(root, run)["tasks"]
    if task not in tasks or model not in tasks[task].get("models", {}):
        raise BlockError(f"reports/{run}/summary.json has no model {model!r} on task {task!r}")
    return tasks[task]["models"][model]


def stat(entry: dict, metric: str, which: str = "mean", split: bool = False) -> float:
    """One statistic of a model's metric: over the folds, or (``split``) the one extra fold
    reported apart (the phonon tasks' original train/test split)."""
    if split:
        extra = entry.get("extra_folds") or {}
        if len(extra) != 1:
            raise BlockError(f"no single extra fold in {entry.get('description')!r}")
        return next(iter(extra.values()))[metric]
    if metric not in entry.get("summary", {}):
        raise BlockError(f"no metric {metric!r} in {entry.get('description')!r}")
    return entry["summary"][metric][which]


def results_table(spec: Spec, root: Path) -> str:
    (run,) = spec.args
    tasks_doc = summary(root, run)["tasks"]
    tasks = spec.items("tasks") or [t for t, e in tasks_doc.items() if e.get("models")]
    models = spec.items("models") or list(dict.fromkeys(
        m for t in tasks for m in tasks_doc.get(t, {}).get("models", {})))
    digits = spec.option("digits")
    with_std = spec.option("std", "yes") == "yes"
    split = spec.option("split", "no") == "yes"
    metrics = {t: spec.option("metric") or primary_metric(t) for t in tasks}
    names = sorted({METRIC_NAMES.get(m, m) for m in metrics.values()})
    head = [f"{task} ({METRIC_NAMES.get(metrics[task], metrics[task])})" if len(names) > 1
            else task for task in tasks]
    if split:
        head += [f"{task}, original split" for task in tasks]
    lines = [f"| model | {' | '.join(head)} |", "|---" * (len(head) + 1) + "|"]
    for model in models:
        cells = []
        for task in tasks:
            entry = tasks_doc.get(task, {}).get("models", {}).get(model)
            if entry is None:
                cells.append("—")
                continue
            mean = stat(entry, metrics[task])
            places = decimals(mean, digits)
            text = fmt(mean, places)
            if with_std:
                text += f" ± {fmt(stat(entry, metrics[task], 'std'), places)}"
            cells.append(text)
        for task in tasks if split else []:
            entry = tasks_doc.get(task, {}).get("models", {}).get(model)
            ran = entry is not None and entry.get("extra_folds")  # not every model ran it
            split_value = stat(entry, metrics[task], split=True) if ran else None
            cells.append(fmt(split_value, decimals(split_value, digits)) if ran else "—")
        lines.append(f"| `{model}` | {' | '.join(cells)} |")
    metric_text = " / ".join(names)
    return (f"{metric_text}, mean ± std over the folds of `reports/{run}/`:\n\n"
            if with_std else f"{metric_text}, mean over the folds of `reports/{run}/`:\n\n"
            ) + "\n".join(lines)


def value(spec: Spec, root: Path) -> str:
    run, task, model = spec.args
    metric = spec.option("metric") or primary_metric(task)
    entry = model_entry(root, run, task, model)
    number = stat(entry, metric, spec.option("stat", "mean"),
                  split=spec.option("split", "no") == "yes")
    return fmt(number, decimals(number, spec.option("digits")))


def paper(spec: Spec, root: Path) -> str:
    from benchmarks.reference import paper_table

    (name,) = spec.args
    df = paper_table(name)
    by_key = {str(r).replace(" ", "_"): r for r in df.index}
    wanted = spec.items("rows") or list(by_key)
    columns = spec.items("columns") or list(dict.fromkeys(c[0] for c in df.columns))
    digits = spec.option("digits")
    missing = [r for r in wanted if r not in by_key]
    if missing:
        raise BlockError(f"paper table {name}: no rows {missing}; rows: {list(by_key)}")
    rows = [by_key[r] for r in wanted]

    def cell(row, col) -> str:
        mean, std = df.loc[row, (col, "mean")], df.loc[row, (col, "std")]
        if digits is None:
            return f"{mean:g}" + ("" if math.isnan(std) else f" ± {std:g}")
        d = int(digits)
        return fmt(mean, d) + ("" if math.isnan(std) else f" ± {fmt(std, d)}")

    lines = [f"| paper, Table {name} | {' | '.join(columns)} |",
             "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {row} | {' | '.join(cell(row, c) for c in columns)} |" for row in rows]
    return "\n".join(lines)


def paper_value(spec: Spec, root: Path) -> str:
    from benchmarks.reference import paper_table

    name, row, column = spec.args
    df = paper_table(name)
    by_key = {str(r).replace(" ", "_"): r for r in df.index}
    if row not in by_key or (column, "mean") not in df.columns:
        raise BlockError(f"paper table {name}: no row {row!r} or column {column!r}")
    number = float(df.loc[by_key[row], (column, "mean")])
    digits = spec.option("digits")
    return f"{number:g}" if digits is None else fmt(number, int(digits))


def scaling(spec: Spec, root: Path) -> str:
    (run,) = spec.args
    fit = _json(root / "reports" / run / "fit.json")
    ours, boot = fit["fit"], fit["bootstrap"]
    ref = fit["paper"]
    rows = [("alpha", ours["alpha"], boot["alpha"], ref["fit"]["alpha"]),
            ("beta", ours["beta"], boot["beta"], ref["fit"]["beta"]),
            ("a (N_opt ∝ C^a)", fit["compute_optimal"]["a"], boot["a"],
             ref["compute_optimal"]["a"]),
            ("b (D_opt ∝ C^b)", fit["compute_optimal"]["b"], boot["b"],
             ref["compute_optimal"]["b"])]
    lines = [f"Fit of `reports/{run}/fit.json` ({fit['n_points']} points, status "
             f"`{fit['status']}`):", "",
             f"| parameter | this run | {int(100 * boot['level'])} % bootstrap | paper |",
             "|---|---|---|---|"]
    lines += [f"| {name} | {ours_v:.3f} | {lo:.2f} – {hi:.2f} | {paper_v:.3f} |"
              for name, ours_v, (lo, hi), paper_v in rows]
    return "\n".join(lines)


def attention(spec: Spec, root: Path) -> str:
    run, task, model = spec.args
    report = _json(root / "reports" / run / task / f"attention_{model}.json")
    lines = [f"[CLS] attention, layer {report['layer']}, {report['n_sequences']} test "
             f"crystals (`reports/{run}/{task}/attention_{model}.md`):", "",
             "| section | top-1 share (p1) | base rate | p vs base rate |", "|---|---|---|---|"]
    for section, entry in report["sections"].items():
        row = next(r for r in entry["table"] if r["k"] == 1)
        p = row.get("p1_p_base")
        lines.append(f"| {section} | {100 * row['p1']:.1f} % | {100 * entry['base_rate']:.1f} % "
                     f"| {'—' if p is None else f'{p:.2g}'} |")
    return "\n".join(lines)


def paired(spec: Spec, root: Path) -> str:
    run, name = spec.args
    c = _json(root / "reports" / run / name)
    lo, hi = c["ci95"]
    digits = decimals(max(abs(c["delta"]), abs(lo), abs(hi)), spec.option("digits"))
    return (f"{c['delta']:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}], "
            f"p = {c['p_value']:.2g}")


KINDS: dict[str, Callable[[Spec, Path], str]] = {
    "results": results_table, "value": value, "paper": paper, "paper_value": paper_value,
    "paired": paired, "scaling": scaling, "attention": attention,
}
INLINE = frozenset({"value", "paper_value", "paired"})


def render(spec_text: str, root: Path = REPO) -> str:
    """The body a block's opening comment asks for (without the markers)."""
    spec = Spec.parse(spec_text)
    if spec.kind not in KINDS:
        raise BlockError(f"unknown kind {spec.kind!r}; choose from {sorted(KINDS)}")
    try:
        text = KINDS[spec.kind](spec, root)
    except (KeyError, ValueError, TypeError) as exc:
        raise BlockError(f"numbers:{spec_text}: {exc}") from exc
    return text if spec.kind in INLINE else f"\n{text}\n"


def fill(text: str, root: Path = REPO) -> tuple[str, list[str]]:
    """``text`` with every block regenerated, and the specs of the blocks that changed."""
    changed = []

    def one(match: re.Match) -> str:
        body = render(match["spec"], root)
        if body != match["body"]:
            changed.append(match["spec"])
        return f"<!-- numbers:{match['spec']} -->{body}<!-- /numbers -->"

    return BLOCK.sub(one, text), changed


def markdown_files(root: Path = REPO) -> list[Path]:
    return [p for pattern in MARKDOWN for p in sorted(root.glob(pattern)) if p.is_file()]


def run(root: Path = REPO, check: bool = False) -> dict[Path, list[str]]:
    """Fill (or with ``check`` only compare) every block; file -> the blocks that differ."""
    stale = {}
    for path in markdown_files(root):
        text = path.read_text(encoding="utf-8")
        if "<!-- numbers:" not in text:
            continue
        new, changed = fill(text, root)
        if changed:
            stale[path] = changed
            if not check:
                from cloud.fileio import write_text_atomic

                write_text_atomic(path, new)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.reports.numbers",
        description="Fill the numbers blocks of the Markdown from the committed summaries.",
        epilog="Example:\n  python -m benchmarks.reports.numbers\n"
               "  python -m benchmarks.reports.numbers --check",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 when a block differs from the summaries")
    p.add_argument("--root", type=Path, default=REPO, help="repository root")
    args = p.parse_args(argv)
    try:
        stale = run(args.root, args.check)
    except BlockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, specs in stale.items():
        for spec in specs:
            verb = "differs from the summaries" if args.check else "regenerated"
            print(f"{path.relative_to(args.root)}: numbers:{spec} {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
