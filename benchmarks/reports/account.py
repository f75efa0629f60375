"""The run's final account: leaderboard rows done, failed and skipped, each with its reason."""

from __future__ import annotations


def account(summary: dict) -> dict:
    """Leaderboard rows (task x model) done, failed and skipped, each with its reason."""
    rows = {"done": [], "failed": [], "skipped": []}
    for name, entry in summary["tasks"].items():
        if entry.get("status") == "skipped":
            rows["skipped"].append((name, "all models", entry.get("reason", "").splitlines()[0]))
        for model, row in entry.get("rows", {}).items():
            rows[row["status"]].append((name, model, row.get("reason", "")))
    return rows


def account_line(rows: dict) -> str:
    def detail(kind):
        return "; ".join(f"{t} {m}: {why}" for t, m, why in rows[kind][:8]) + (
            f"; ... {len(rows[kind]) - 8} more" if len(rows[kind]) > 8 else "")

    line = (f"rows: {len(rows['done'])} done, {len(rows['failed'])} failed, "
            f"{len(rows['skipped'])} skipped")
    for kind in ("failed", "skipped"):
        if rows[kind]:
            line += f" | {kind}: {detail(kind)}"
    return line
