"""Figures of the [CLS] attention analysis (matplotlib, Agg backend).

* :func:`plot_head_layer_map` - one material, layers x heads map of the attention [CLS] pays
  to the space-group tokens (summed over them), next to the head-mean attention per token of
  one layer (the paper's Fig. S2 shows the per-head/per-layer attention of NaI).
* :func:`plot_topk` - p1 and p2 against k for every section, with 95 % CIs and base rates.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cloud.analysis.attention_maps import (  # noqa: E402
    SECTIONS,
    encoded_sections,
    layer_attentions,
)

COLORS = {
    "space_group": "tab:red",
    "wyckoff": "tab:blue",
    "composition": "tab:green",
    "separator": "0.6",
    "special": "0.3",
}


def _single(model, tokenizer, text: str, parts=SECTIONS) -> tuple[np.ndarray, list, list]:
    """[CLS] rows ``[layers, heads, tokens]``, section labels and token strings of one text."""
    rows = next(iter(layer_attentions(model, tokenizer, [text], batch_size=1)))
    labels = encoded_sections(tokenizer, [text], rows.shape[-1], parts)[0]
    tokens = tokenizer.convert_ids_to_tokens(tokenizer(text)["input_ids"])[: rows.shape[-1]]
    return rows, labels, tokens


def head_layer_map(model, tokenizer, text: str, section: str = "space_group") -> np.ndarray:
    """``[layers, heads]``: attention from [CLS] to the tokens of ``section``, summed over them."""
    rows, labels, _ = _single(model, tokenizer, text)
    mask = np.array([lab == section for lab in labels], dtype=bool)
    return rows[:, :, mask].sum(axis=-1)


def head_layer_data(
    model, tokenizer, text: str, layer: int = 0, section: str = "space_group", parts=SECTIONS
) -> dict:
    """What :func:`draw_head_layer_map` draws, as JSON-ready lists: ``grid`` (layers x heads,
    [CLS] -> ``section`` summed over its tokens), ``per_token`` (head-mean [CLS] attention
    in ``layer``), ``tokens``, ``labels``; so a fold can store it and a report draw it later."""
    rows, labels, tokens = _single(model, tokenizer, text, parts)
    mask = np.array([lab == section for lab in labels], dtype=bool)
    return {"text": text, "layer": layer, "section": section, "tokens": tokens,
            "labels": labels, "grid": rows[:, :, mask].sum(axis=-1).tolist(),
            "per_token": rows[layer].mean(axis=0).tolist()}


def plot_head_layer_map(
    model, tokenizer, text: str, path: str | Path, layer: int = 0, section: str = "space_group"
) -> np.ndarray:
    """Save the layers x heads map of [CLS] -> ``section`` attention for one SCOPE string
    (left) and the head-mean [CLS] attention per token in ``layer`` (right); returns the map."""
    return draw_head_layer_map(head_layer_data(model, tokenizer, text, layer, section), path)


def draw_head_layer_map(data: dict, path: str | Path, title: str | None = None) -> np.ndarray:
    """Draw :func:`head_layer_data`'s output (``title`` above both panels); returns the map."""
    grid, tokens, labels = np.asarray(data["grid"], float), data["tokens"], data["labels"]
    section, layer = data["section"], data["layer"]
    n_layers, n_heads = grid.shape

    fig, (ax0, ax1) = plt.subplots(
        1,
        2,
        figsize=(4 + 0.35 * len(tokens), 3.2 + 0.15 * n_layers),
        gridspec_kw={"width_ratios": [max(n_heads, 3), max(len(tokens) / 2, 6)]},
    )
    im = ax0.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto", origin="lower")
    ax0.set_xticks(range(n_heads), [str(h) for h in range(n_heads)])
    ax0.set_yticks(range(n_layers), [str(i) for i in range(n_layers)])
    ax0.set_xlabel("head")
    ax0.set_ylabel("layer")
    ax0.set_title(f"[CLS] -> {section} (sum)")
    fig.colorbar(im, ax=ax0, fraction=0.046)
    if grid.size <= 144:  # up to the paper's 12 x 12: write the values into the cells
        for (i, j), v in np.ndenumerate(grid):
            ax0.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6, color="w")
    per_token = np.asarray(data["per_token"], float)
    ax1.bar(range(len(tokens)), per_token, color=[COLORS[lab] for lab in labels])
    ax1.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
    ax1.set_ylabel(f"[CLS] attention, layer {layer} (head mean)")
    ax1.set_title("red: space group, blue: Wyckoff, green: composition", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return grid


def plot_topk(report: dict, path: str | Path, title: str | None = None) -> Path:
    """Save p1 (left) and p2 (right) vs k per section with 95 % CIs; dashed: base rates,
    dotted crosses: p1 expected under uniform attention (``p1_chance``); ``title`` is
    prefixed to the figure's title."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, stat in zip(axes, ("p1", "p2"), strict=True):
        for section in SECTIONS:
            entry = report["sections"].get(section)
            if not entry or not entry["table"]:
                continue
            table = entry["table"]
            ks = [r["k"] for r in table]
            val = np.array([np.nan if r[stat] is None else r[stat] for r in table], float)
            lo = np.array(
                [np.nan if r[f"{stat}_ci_low"] is None else r[f"{stat}_ci_low"] for r in table],
                float,
            )
            hi = np.array(
                [np.nan if r[f"{stat}_ci_high"] is None else r[f"{stat}_ci_high"] for r in table],
                float,
            )
            color = COLORS[section]
            ax.plot(ks, val, "o-", color=color, label=section)
            ax.fill_between(ks, lo, hi, color=color, alpha=0.2, linewidth=0)
            if stat == "p1" and all(r.get("p1_chance") is not None for r in table):
                ax.plot(ks, [r["p1_chance"] for r in table], "x:", color=color, lw=1)
            if entry["base_rate"] is not None:
                ax.axhline(entry["base_rate"], color=color, ls="--", lw=1)
        ax.axhline(0.5, color="0.5", ls=":", lw=1)
        ax.set_xlabel("k")
        ax.set_xticks(report.get("ks") or [])
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(
            {
                "p1": "p1: >= 1 token of the section in top k",
                "p2": "p2: share of the section in top k",
            }[stat],
            fontsize=9,
        )
    axes[0].set_ylabel("probability / share")
    axes[1].legend(fontsize=8, title="dashed: base rate; x: p1 by chance", title_fontsize=7)
    fig.suptitle(
        (f"{title}: " if title else "") + f"[CLS] attention, layer {report.get('layer', 0)}, "
        f"{report.get('n_sequences', '?')} sequences",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
