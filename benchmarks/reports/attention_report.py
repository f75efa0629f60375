"""[CLS] attention analysis of fine-tuned CLOUD models inside benchmark runs.

A CLOUD model config with ``attention: true`` (or a dict of :data:`DEFAULTS` overrides)
makes the model function call :func:`fold_attention` while the fold's fine-tuned model is
alive (the runner deletes fold weights afterwards): the [CLS] attention of ``layer`` on the
fold's test strings, per sequence, goes into ``fold_<k>.json`` under ``attention`` together
with the fold's own p1/p2 report and the layers x heads map of one example material. After
the fold loop the runner calls :func:`write_attention_report`, which pools the test
sequences of all folds run (each material is in one test fold) and writes
``<task>/attention_<model>.json`` and ``.md``, ``attention_<model>_topk.png`` (p1/p2 vs k)
and ``attention_<model>_head_layer.png`` (the paper's Fig. S2 for the example).

The statistics (sections, ranking, p1/p2, base rates, t-tests and CIs) are those of
:mod:`cloud.analysis.attention`; this module only runs them per fold and pools the folds.
Per-sequence weights are stored with 9 significant digits (float32 round trip), so the
pooled ranking is the one the fold saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cloud.analysis.significance import MIN_N_FOR_P
from cloud.fileio import write_json_atomic

DEFAULTS = {"layer": 0, "ks": [1, 2, 3, 4, 5], "example": None, "batch_size": 64}
# one character per token label in the stored per-sequence section strings
CODES = {"special": "x", "separator": "|", "space_group": "g", "wyckoff": "w", "composition": "c"}
_LABELS = {c: label for label, c in CODES.items()}


def attention_options(value) -> dict | None:
    """A model config's ``attention`` value -> options (``None``: analysis off).

    ``true`` gives :data:`DEFAULTS`; a dict overrides them (``layer``: hidden layer, 0 =
    first; ``ks``; ``example``: id of the material in the head x layer map, default the
    first test row of each fold; ``batch_size``)."""
    if value in (None, False):
        return None
    if value is True:
        return dict(DEFAULTS)
    if not isinstance(value, dict):
        raise ValueError(f"attention must be true/false or a mapping, not {value!r}")
    unknown = set(value) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown attention options {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    opts = {**DEFAULTS, **value}
    opts["ks"] = [int(k) for k in opts["ks"]]
    return opts


def fold_attention(model, tokenizer, ids: Sequence[str], texts: Sequence[str], options: dict,
                   parts: Sequence[str]) -> dict:
    """The attention record of one fold: options, the fold's report, its example map and
    the per-sequence weights and section codes that :func:`write_attention_report` pools."""
    from cloud.analysis.attention import (
        cls_attention,
        encoded_sections,
        input_max_length,
        report_from_attention,
    )
    from cloud.analysis.attention_plots import head_layer_data

    layer, ks = int(options["layer"]), options["ks"]
    attn = cls_attention(model, tokenizer, texts, layer=layer,
                         batch_size=int(options["batch_size"]))
    sections = encoded_sections(tokenizer, texts, input_max_length(model, tokenizer), parts)
    ids = [str(i) for i in ids]
    pick = ids.index(options["example"]) if options["example"] in ids else 0
    example = head_layer_data(model, tokenizer, texts[pick], layer, parts=parts)
    return {"options": options, "parts": list(parts),
            "report": report_from_attention(attn, sections, ks, layer),
            "example": {"id": ids[pick], **example},
            "sequences": {"ids": ids,
                          "sections": ["".join(CODES[s] for s in labels) for labels in sections],
                          "weights": [[float(f"{w:.9g}") for w in a] for a in attn]}}


def pooled(records: Sequence[dict]) -> tuple[list[np.ndarray], list[list[str]], list[str]]:
    """Per-sequence weights, section labels and ids of the fold records, concatenated."""
    attn, sections, ids = [], [], []
    for rec in records:
        seq = rec["sequences"]
        attn += [np.asarray(w, dtype=float) for w in seq["weights"]]
        sections += [[_LABELS[c] for c in codes] for codes in seq["sections"]]
        ids += list(seq["ids"])
    return attn, sections, ids


def _per_fold(records: dict[int, dict]) -> dict:
    return {str(k): {s: {"base_rate": e["base_rate"],
                         "p1": [r["p1"] for r in e["table"]],
                         "p2": [r["p2"] for r in e["table"]]}
                     for s, e in rec["report"]["sections"].items()}
            for k, rec in records.items()}


def write_attention_report(task_dir: Path, task: str, model: str, results: dict[int, dict],
                           description: str = "") -> Path | None:
    """Pool the folds' ``attention`` records of ``model`` and write the JSON, markdown and
    the two plots into ``task_dir``; returns the JSON path (``None``: no fold has one)."""
    from cloud.analysis.attention import report_from_attention
    from cloud.analysis.attention_plots import draw_head_layer_map, plot_topk

    records = {k: r["attention"] for k, r in sorted(results.items()) if r.get("attention")}
    if not records:
        return None
    first = next(iter(records.values()))
    layer, ks = first["options"]["layer"], first["options"]["ks"]
    if any(r["options"]["layer"] != layer or r["options"]["ks"] != ks for r in records.values()):
        raise ValueError(f"{task}/{model}: folds were analysed with different layers or ks")
    attn, sections, ids = pooled(records.values())
    report = report_from_attention(attn, sections, ks, layer)
    wanted = first["options"].get("example")
    example = next((r["example"] for r in records.values() if r["example"]["id"] == wanted),
                   first["example"])
    stem = f"attention_{model}"
    report.update(task=task, model=model, description=description, folds=list(records),
                  parts=first["parts"], per_fold=_per_fold(records),
                  example={"id": example["id"], "text": example["text"],
                           "grid": example["grid"]},
                  plots={"topk": f"{stem}_topk.png", "head_layer": f"{stem}_head_layer.png"})
    task_dir.mkdir(parents=True, exist_ok=True)
    path = write_json_atomic(task_dir / f"{stem}.json", report, default=None, newline=True)
    title = f"{task} — {model}"
    plot_topk(report, task_dir / report["plots"]["topk"], title=title)
    draw_head_layer_map(example, task_dir / report["plots"]["head_layer"],
                        title=f"{title}: {example['id']} (fold test row)")
    (task_dir / f"{stem}.md").write_text(attention_markdown(report))
    return path


def _num(x, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _p(x, withheld: str | None = None) -> str:
    """A p-value cell; ``withheld``: why the row has none (too few sequences)."""
    if withheld:
        return withheld
    return "—" if x is None else f"{x:.2g}"


def attention_markdown(report: dict) -> str:
    """The pooled report as markdown: one table per section (p1, p2 with 95 % CIs and the
    t-tests against 0.5 and the base rate), the per-fold values and the two plots."""
    lines = [f"# [CLS] attention: {report['task']} — {report['model']}", "",
             f"Model: {report.get('description') or report['model']}; layer {report['layer']} "
             f"(0 = first), heads aggregated by {report['head_aggregation']}; "
             f"{report['n_sequences']} test sequences pooled over folds "
             f"{', '.join(map(str, report['folds']))}; input parts: "
             f"{' | '.join(report['parts'])}. [CLS], [SEP] and '|' are not ranked.", "",
             "p1 = P(at least one token of the section in the top k); p2 = mean share of the "
             "section in the top k; base rate = mean share of the section's tokens per "
             "sequence. p-values: two-sided one-sample t-tests against 0.5 and against the "
             "base rate; CIs: 95 %, t-based. n = sequences tested; p-values only for n >= "
             f"{report.get('min_n_for_p_values', MIN_N_FOR_P)} (cloud/analysis/significance.py"
             " says why), else the cell says that n is too small.", ""]
    for section, entry in report["sections"].items():
        lines += [f"## {section} (base rate {_num(entry['base_rate'])})", "",
                  "| k | n | p1 [95% CI] | p(p1=0.5) | p(p1=base) | p1 by chance "
                  "| p2 [95% CI] | p(p2=0.5) | p(p2=base) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in entry["table"]:
            why = r.get("p_values_withheld")
            lines.append(
                f"| {r['k']} | {r['n_sequences']} "
                f"| {_num(r['p1'])} [{_num(r['p1_ci_low'])}, {_num(r['p1_ci_high'])}]"
                f" | {_p(r['p1_p_half'], why)} | {_p(r['p1_p_base'], why)} "
                f"| {_num(r['p1_chance'])} "
                f"| {_num(r['p2'])} [{_num(r['p2_ci_low'])}, {_num(r['p2_ci_high'])}] "
                f"| {_p(r['p2_p_half'], why)} | {_p(r['p2_p_base'], why)} |")
        lines.append("")
    lines += ["## Per fold (p1 / p2 at k = " + ", ".join(map(str, report["ks"])) + ")", "",
              "| fold | section | base rate | p1 | p2 |", "|---|---|---|---|---|"]
    for fold, sections in report["per_fold"].items():
        for section, e in sections.items():
            lines.append(f"| {fold} | {section} | {_num(e['base_rate'])} | "
                         f"{' '.join(_num(v, 2) for v in e['p1'])} | "
                         f"{' '.join(_num(v, 2) for v in e['p2'])} |")
    ex = report["example"]
    lines += ["", f"![p1 and p2 vs k]({report['plots']['topk']})", "",
              f"Layers x heads map of [CLS] -> space-group attention for `{ex['id']}` "
              f"(`{ex['text']}`):", "", f"![head x layer map]({report['plots']['head_layer']})",
              ""]
    return "\n".join(lines)
