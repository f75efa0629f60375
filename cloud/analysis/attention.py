"""[CLS] attention analysis of CLOUD (paper Sec. "attention scores", Fig. S2).

The paper takes the first hidden layer's attention from ``[CLS]`` to the other tokens,
aggregates it over heads, ranks the tokens and reports, for k = 1..5,

* ``p1`` - the share of sequences with at least one space-group token in the top k;
* ``p2`` - the mean share of space-group tokens among the top k;

with one-sample t-tests against 0.5 and 95 % confidence intervals compared with the mean
share of space-group tokens per sequence (the *base rate*, ~0.64 on log_gvrh).

Choices made here (see :func:`topk_statistics` for the statistics):

* **Sections.** Each word of a SCOPE string is labelled by the part it is in:
  ``space_group`` (generator string), ``wyckoff``, ``composition`` (element *and* fraction
  tokens), ``separator`` (``|``); ``[CLS]``/``[SEP]``/``[PAD]`` are ``special``. ``[MASK]``
  and ``[UNK]`` stand for a word and keep their part's label. Separators and specials are
  excluded from ranking and from the base rate: the paper speaks of "the other remaining
  tokens" and the question is which *content* part [CLS] looks at.
* **Head aggregation.** Mean over heads. The paper says "aggregated across attention heads";
  mean and sum give the same ranking, and the mean keeps each row a distribution (sums to 1).
* **Ties** in the ranking go to the earlier position (stable sort); ``k`` larger than the
  number of eligible tokens is capped at that number.
* **Small samples.** Below :data:`~cloud.analysis.significance.MIN_N_FOR_P` tested sequences
  no t statistic or p-value is reported, only "n too small (n = k < 30)" (the reason for
  the threshold is in :mod:`cloud.analysis.significance`).
* **Ablated inputs** (``cloud.scope.ablations``) have fewer parts: ``parts`` names the parts a
  string has, in order (e.g. ``("space_group", "composition")`` without Wyckoff symbols);
  reports cover the sections present.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cloud.analysis.attention_maps import (  # noqa: F401  (re-exported)
    SECTIONS,
    SPECIAL_WORDS,
    cls_attention,
    encoded_sections,
    input_max_length,
    layer_attentions,
    token_sections,
)
from cloud.analysis.significance import MIN_N_FOR_P, p_values_withheld, t_interval, ttest
from cloud.logging_setup import quiet_third_party

EXCLUDED = frozenset({"special", "separator"})
DEFAULT_KS = (1, 2, 3, 4, 5)
TEST_KEYS = ("p1_t_", "p1_p_", "p2_t_", "p2_p_")  # the t statistics and p-values of a row


# ----------------------------------------------------------------------------- statistics


def per_sequence_topk(
    attn: Sequence[np.ndarray], sections: Sequence[Sequence[str]], section: str, k: int
) -> pd.DataFrame:
    """Per-sequence top-k quantities for one section (sequences without eligible tokens are
    dropped): ``hit`` (>= 1 section token in the top k), ``share`` (section share of the top
    k), ``base`` (section share of the eligible tokens) and ``chance`` (probability of a hit
    when the k tokens are drawn uniformly: ``1 - C(n-s, k) / C(n, k)``)."""
    if section not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}, got {section!r}")
    records = []
    for i, (a, labels) in enumerate(zip(attn, sections, strict=True)):
        a = np.asarray(a, dtype=float)
        if a.shape != (len(labels),):
            raise ValueError(f"sequence {i}: {a.shape[0]} weights but {len(labels)} labels")
        keep = np.array([lab not in EXCLUDED for lab in labels], dtype=bool)
        n = int(keep.sum())
        if n == 0:
            continue
        target = np.array([lab == section for lab in labels], dtype=bool)[keep]
        s, kk = int(target.sum()), min(k, n)
        top = np.argsort(-a[keep], kind="stable")[:kk]
        in_top = int(target[top].sum())
        records.append(
            {
                "index": i,
                "hit": float(in_top > 0),
                "share": in_top / kk,
                "base": s / n,
                "chance": 1.0 - math.comb(n - s, kk) / math.comb(n, kk),
            }
        )
    return pd.DataFrame.from_records(records, columns=["index", "hit", "share", "base", "chance"])


def topk_statistics(
    attn: Sequence[np.ndarray],
    sections: Sequence[Sequence[str]],
    section: str = "space_group",
    ks: Sequence[int] = DEFAULT_KS,
    level: float = 0.95,
) -> pd.DataFrame:
    """p1/p2 of ``section`` among the top-k attended eligible tokens, one row per k.

    Columns: ``p1``/``p2`` with t-based CIs (``*_ci_low``/``*_ci_high``); two-sided one-sample
    t-tests of the per-sequence values against 0.5 (``*_t_half``/``*_p_half``, the paper's
    null) and against the *mean* base rate (``*_t_base``/``*_p_base``: the paper compares the
    CIs with the dataset's average share, 0.64); ``p2_t_paired``/``p2_p_paired``: paired test
    of each sequence's share against its *own* base rate (the exact null of uniform attention,
    as a robustness check); ``p1_chance`` and ``p1_t_chance``/``p1_p_chance``: the hit
    probability under uniform attention (paired), since for k > 1 the base rate understates it.
    ``n_sequences``: the sequences tested; below :data:`MIN_N_FOR_P` every t statistic and
    p-value is NaN and ``p_values_withheld`` says why (else it is ``None``).
    """
    rows = []
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        d = per_sequence_topk(attn, sections, section, int(k))
        base = float(d["base"].mean()) if len(d) else math.nan
        row: dict[str, float | int | str] = {
            "section": section,
            "k": int(k),
            "n_sequences": len(d),
            "base_rate": base,
        }
        for name, col in (("p1", "hit"), ("p2", "share")):
            x = d[col].to_numpy()
            row[name] = float(x.mean()) if len(x) else math.nan
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = t_interval(x, level)
            row[f"{name}_t_half"], row[f"{name}_p_half"] = ttest(x, 0.5)
            row[f"{name}_t_base"], row[f"{name}_p_base"] = ttest(x, base)
        row["p2_t_paired"], row["p2_p_paired"] = ttest((d["share"] - d["base"]).to_numpy(), 0.0)
        row["p1_chance"] = float(d["chance"].mean()) if len(d) else math.nan
        row["p1_t_chance"], row["p1_p_chance"] = ttest((d["hit"] - d["chance"]).to_numpy(), 0.0)
        row["p_values_withheld"] = p_values_withheld(len(d))
        if row["p_values_withheld"]:  # too few sequences: no t statistic, no p-value
            row.update({key: math.nan for key in row if key.startswith(TEST_KEYS)})
        rows.append(row)
    return pd.DataFrame(rows)


def _json_safe(value):
    """Floats that JSON cannot hold (inf, nan) become ``None``; numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_from_attention(
    attn: Sequence[np.ndarray],
    sections: Sequence[Sequence[str]],
    ks: Sequence[int] = DEFAULT_KS,
    layer: int = 0,
) -> dict:
    """The JSON-ready report (see :func:`attention_report`) from precomputed attention;
    sections no sequence has (e.g. Wyckoff in an ablated input) are left out."""
    present = {lab for labels in sections for lab in labels}
    tables = {s: topk_statistics(attn, sections, s, ks) for s in SECTIONS if s in present}
    return _json_safe(
        {
            "layer": layer,
            "head_aggregation": "mean",
            "excluded_tokens": sorted(EXCLUDED),
            "n_sequences": len(attn),
            "ks": [int(k) for k in ks],
            "tests": "two-sided one-sample t-tests (scipy.stats.ttest_1samp); 95% t-based CIs",
            "min_n_for_p_values": MIN_N_FOR_P,
            "p_values_withheld": p_values_withheld(len(attn)),
            "sections": {
                s: {
                    "base_rate": float(t["base_rate"].iloc[0]) if len(t) else None,
                    "table": t.to_dict(orient="records"),
                }
                for s, t in tables.items()
            },
        }
    )


def attention_report(
    model,
    tokenizer,
    texts: Sequence[str],
    layer: int = 0,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 64,
    parts: Sequence[str] = SECTIONS,
) -> dict:
    """Top-k statistics of all three sections for ``texts`` (JSON-serialisable dict):
    ``{"layer", "head_aggregation", "n_sequences", "ks", "sections": {name: {"base_rate",
    "table": [row per k]}}}``; non-finite numbers (e.g. ``t = inf``) are ``None``."""
    attn = cls_attention(model, tokenizer, texts, layer=layer, batch_size=batch_size)
    sections = encoded_sections(tokenizer, texts, input_max_length(model, tokenizer), parts)
    return report_from_attention(attn, sections, ks, layer)


# ----------------------------------------------------------------------------------- CLI


def __getattr__(name: str):
    """Lazy re-export of the plotting functions (matplotlib is imported only when needed)."""
    if name in ("plot_head_layer_map", "plot_topk", "head_layer_map"):
        from cloud.analysis import attention_plots

        return getattr(attention_plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_model(model_dir: str | Path):
    """Load a saved CLOUD model (its ``architectures`` class first, then the others, then
    ``AutoModelForMaskedLM``) with eager attention."""
    from transformers import AutoModelForMaskedLM

    import cloud.model as cm  # registers model_type "cloud" with the Auto classes

    classes = {
        c.__name__: c for c in (cm.CloudForRegression, cm.CloudForDebye, cm.CloudForMaskedLM)
    }
    config_file = Path(model_dir) / "config.json"
    archs = json.loads(config_file.read_text()).get("architectures") or []
    candidates = [classes[a] for a in archs if a in classes]
    candidates += [c for c in classes.values() if c not in candidates] + [AutoModelForMaskedLM]
    errors = []
    for cls in candidates:
        try:
            return cls.from_pretrained(model_dir, attn_implementation="eager")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            errors.append(f"{cls.__name__}: {exc}")
    raise RuntimeError(f"cannot load a model from {model_dir}:\n" + "\n".join(errors))


def load_tokenizer(model_dir: str | Path):
    """The tokenizer saved with the model (``tokenizer.json``), else :func:`build_tokenizer`."""
    if (Path(model_dir) / "tokenizer.json").exists():
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(model_dir)
    from cloud.tokenizer import build_tokenizer

    return build_tokenizer()


def main(argv: Sequence[str] | None = None) -> dict:
    """``python -m cloud.analysis.attention --model DIR --scope-csv FILE --out DIR``."""
    p = argparse.ArgumentParser(
        prog="python -m cloud.analysis.attention",
        description="[CLS] attention to SCOPE sections (p1/p2, t-tests).",
        epilog="Example:\n  python -m cloud.analysis.attention "
               "--model cloud/pretrained/cloud-small-offline "
               "--scope-csv runs/scope/jdft2d.csv --limit 500 --out runs/attention",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="saved model directory")
    p.add_argument("--scope-csv", required=True, help="CSV with a SCOPE string column")
    p.add_argument("--column", default="scope", help="SCOPE column (default: scope)")
    p.add_argument("--limit", type=int, default=None, help="use the first N rows")
    p.add_argument("--layer", type=int, default=0, help="hidden layer (0 = first)")
    p.add_argument("--ks", type=int, nargs="+", default=list(DEFAULT_KS))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--example", type=int, default=0, help="row plotted in the head/layer map")
    p.add_argument("--out", required=True, help="output directory")
    args = p.parse_args(argv)
    quiet_third_party()

    from cloud.analysis.attention_plots import plot_head_layer_map, plot_topk

    texts = pd.read_csv(args.scope_csv)[args.column].dropna().astype(str).tolist()
    texts = texts[: args.limit] if args.limit is not None else texts
    if not texts:
        raise SystemExit(f"no SCOPE strings in {args.scope_csv}")
    model, tokenizer = load_model(args.model), load_tokenizer(args.model)
    report = attention_report(model, tokenizer, texts, args.layer, args.ks, args.batch_size)
    example = texts[min(args.example, len(texts) - 1)]
    report["source"] = {
        "model": str(args.model),
        "scope_csv": str(args.scope_csv),
        "column": args.column,
        "limit": args.limit,
        "example": example,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "attention.json").write_text(json.dumps(report, indent=2) + "\n")
    plot_head_layer_map(model, tokenizer, example, out / "head_layer_map.png", layer=args.layer)
    plot_topk(report, out / "topk.png")
    print(f"wrote {out / 'attention.json'}, head_layer_map.png, topk.png ({len(texts)} strings)")
    return report


if __name__ == "__main__":
    main()
