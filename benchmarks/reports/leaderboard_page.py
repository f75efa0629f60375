"""The leaderboard as one self-contained HTML page over one or more runs.

``python -m benchmarks.reports.leaderboard_page reports/matbench_gpu reports/phonon_gpu
--html OUT.html`` writes a single file that makes no network request (script, styles and
data inline): a table of tasks x models with the fold mean ± std, the 95 % bootstrap
interval, tie marks (best, ≈ best), ranks with ties, Δ vs the best with its Holm p, the
scaled error, pretraining leakage and cost columns; the paper's rows beside the models (full
runs only); sorting by any column (click its header), filters by run, task family and text,
and each row's parity plot one click away (drawn from the run's ``parity_points.json``).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path

from benchmarks.reports.page_data import run_rows

COLUMNS = [  # (key, header, kind)
    ("run", "run", "text"), ("family", "family", "text"), ("task", "task", "text"),
    ("model", "model", "text"), ("metric", "metric", "text"), ("mean", "mean", "num"),
    ("std", "± std", "num"), ("ci", "95 % CI", "num"), ("mark", "tie", "text"),
    ("rank", "rank", "num"), ("delta_best", "Δ vs best", "num"), ("p_best", "p (Holm)", "num"),
    ("scaled_error", "scaled error", "num"), ("leak_string", "leak: string", "num"),
    ("leak_composition", "leak: composition", "num"), ("train_s", "train s (median)", "num"),
    ("train_total_s", "train s (total)", "num"), ("predict_s", "predict s (median)", "num"),
    ("device", "device", "text"), ("params", "params", "num"), ("epochs", "epochs", "num"),
    ("parity", "parity", "text"),
]

STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 8px} .note{color:#555;max-width:1100px}
#controls{margin:10px 0;display:flex;gap:14px;flex-wrap:wrap;align-items:center}
table{border-collapse:collapse} th,td{border:1px solid #ddd;padding:3px 6px;white-space:nowrap}
th{background:#f3f3f3;cursor:pointer;position:sticky;top:0} th.sorted{background:#dde8f7}
tr.paper td{color:#666;font-style:italic} td.num{text-align:right}
.best{font-weight:bold;color:#0a5} .tie{color:#0a5}
#modal{display:none;position:fixed;inset:0;background:rgba(0,0,0,.35)}
#modal .box{background:#fff;margin:40px auto;padding:12px;width:480px;border-radius:6px}
a.parity{cursor:pointer;color:#06c;text-decoration:underline}
"""

SCRIPT = r"""
const COLS = JSON.parse(document.getElementById('cols').textContent);
const ROWS = JSON.parse(document.getElementById('rows').textContent);
const PLOTS = JSON.parse(document.getElementById('plots').textContent);
let sortKey = null, sortDir = 1;
function fmt(v, d) { if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return Math.abs(v) >= 1000 ? v.toLocaleString('en') : String(v);
  return Math.abs(v) < 1 ? v.toPrecision(3) : v.toFixed(d === undefined ? 2 : d); }
function cell(r, c) {
  if (c[0] === 'ci') return r.ci_lo === null || r.ci_lo === undefined ? '—' :
      '[' + fmt(r.ci_lo) + ', ' + fmt(r.ci_hi) + ']';
  if (c[0] === 'leak_string' || c[0] === 'leak_composition')
      return r[c[0]] === null || r[c[0]] === undefined ? '—' : (100 * r[c[0]]).toFixed(0) + ' %';
  if (c[0] === 'parity') return r.parity ? '<a class="parity" data-key="' + r.parity +
      '">plot</a>' : '—';
  if (c[0] === 'mark') return r.mark ? '<span class="' + (r.mark === 'best' ? 'best' : 'tie') +
      '">' + r.mark + '</span>' : '';
  const v = r[c[0]];
  return typeof v === 'string' ? v.replace(/</g, '&lt;') : fmt(v); }
function value(r, key) { return key === 'ci' ? r.ci_lo : r[key]; }
function render() {
  const fam = document.getElementById('family').value, run = document.getElementById('run').value;
  const text = document.getElementById('text').value.toLowerCase();
  const paper = document.getElementById('paper').checked;
  let rows = ROWS.filter(r => (!fam || r.family === fam) && (!run || r.run === run) &&
      (paper || !r.paper) && (!text || (r.model + ' ' + r.task).toLowerCase().includes(text)));
  if (sortKey !== null) {
    const kind = COLS.find(c => c[0] === sortKey)[2];
    rows = rows.slice().sort((a, b) => { const x = value(a, sortKey), y = value(b, sortKey);
      if (x === null || x === undefined) return 1; if (y === null || y === undefined) return -1;
      return kind === 'num' ? sortDir * (x - y) : sortDir * String(x).localeCompare(String(y)); });
  }
  document.getElementById('body').innerHTML = rows.map(r =>
    '<tr class="' + (r.paper ? 'paper' : 'model') + '" data-family="' + r.family + '">' +
    COLS.map(c => '<td class="' + (c[2] === 'num' ? 'num' : '') + '">' + cell(r, c) + '</td>')
      .join('') + '</tr>').join('');
  document.getElementById('count').textContent = rows.length + ' rows';
  document.querySelectorAll('a.parity').forEach(a => a.onclick = () => showPlot(a.dataset.key));
}
function showPlot(key) {
  const p = PLOTS[key], W = 440, M = 40; const pts = p.points;
  const vals = pts.flat(); let lo = Math.min(...vals), hi = Math.max(...vals);
  if (hi === lo) { hi += 1; lo -= 1; }
  const s = v => M + (v - lo) / (hi - lo) * (W - 2 * M), t = v => W - s(v);
  let svg = '<svg width="' + W + '" height="' + W + '">' +
    '<line x1="' + s(lo) + '" y1="' + t(lo) + '" x2="' + s(hi) + '" y2="' + t(hi) +
    '" stroke="#999" stroke-dasharray="4"/>';
  for (const [x, y] of pts) svg += '<circle cx="' + s(x).toFixed(1) + '" cy="' + t(y).toFixed(1) +
    '" r="2" fill="#1f77b4" fill-opacity=".6"/>';
  svg += '<text x="' + W / 2 + '" y="' + (W - 8) + '" text-anchor="middle">target ' + p.unit +
    '</text><text x="12" y="' + W / 2 + '" transform="rotate(-90 12 ' + W / 2 +
    ')" text-anchor="middle">prediction</text>' +
    '<text x="' + M + '" y="16">' + fmt(lo) + ' … ' + fmt(hi) + '</text></svg>';
  document.getElementById('plot-title').textContent = p.title + ': ' + pts.length + ' of ' +
    p.n_total + ' test rows shown';
  document.getElementById('plot').innerHTML = svg;
  document.getElementById('modal').style.display = 'block'; }
document.getElementById('modal').onclick = () => document.getElementById('modal').style.display = 'none';
document.getElementById('head').innerHTML = '<tr>' + COLS.map(c => '<th data-key="' + c[0] + '">' +
  c[1] + '</th>').join('') + '</tr>';
document.querySelectorAll('th').forEach(th => th.onclick = () => {
  const k = th.dataset.key; sortDir = sortKey === k ? -sortDir : 1; sortKey = k;
  document.querySelectorAll('th').forEach(h => h.classList.toggle('sorted', h === th)); render(); });
for (const id of ['family', 'run', 'text', 'paper'])
  document.getElementById(id).addEventListener('input', render);
render();
"""

NOTE = (
    "Each model row: the task's primary metric, mean ± std over folds (MatBench's "
    "convention) and its 95 % bootstrap interval (test rows resampled within folds). "
    "<b>best</b> / <b>≈ best</b>: the best model and those not distinguishable from it (paired "
    "bootstrap on the same rows, Holm-corrected, α = 0.05); rank: competition rank of tie "
    "groups. Scaled error: MAE / MAD of the task's targets (MatBench). Leakage: share of the "
    "test inputs whose SCOPE string / composition is in the encoder's pretraining corpus. "
    "Cost: training and inference seconds, device the folds were trained on, parameters, "
    "epochs. Paper rows (italic) are published numbers, not re-run.")


def _json_script(ident: str, obj) -> str:
    text = json.dumps(obj, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="{ident}">{text}</script>'


def render_page(run_dirs: list[Path]) -> str:
    rows, plots = [], {}
    for run in run_dirs:
        r, p = run_rows(Path(run))
        rows += r
        plots.update(p)
    families = sorted({r["family"] for r in rows if r.get("family")})
    runs = list(dict.fromkeys(r["run"] for r in rows))

    def options(values):
        return "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>'
                       for v in values)

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>CLOUD benchmark leaderboard</title>
<style>{STYLE}</style></head><body>
<h1>CLOUD benchmark leaderboard</h1>
<p class="note">{NOTE}</p>
<p class="note">Runs: {", ".join(html.escape(r) for r in runs)}.</p>
<div id="controls">
<label>family <select id="family"><option value="">all</option>{options(families)}</select></label>
<label>run <select id="run"><option value="">all</option>{options(runs)}</select></label>
<label>model or task <input id="text" type="search"></label>
<label><input id="paper" type="checkbox" checked> paper rows</label>
<span id="count"></span></div>
<table><thead id="head"></thead><tbody id="body"></tbody></table>
<div id="modal"><div class="box"><div id="plot-title"></div><div id="plot"></div>
<div class="note">click anywhere to close</div></div></div>
{_json_script("cols", COLUMNS)}
{_json_script("rows", rows)}
{_json_script("plots", plots)}
<script>{SCRIPT}</script>
</body></html>
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reports.leaderboard_page",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example:\n  python -m benchmarks.reports.leaderboard_page reports/matbench_gpu reports/phonon_gpu --html reports/index.html")
    p.add_argument("runs", nargs="+", type=Path, help="run folders (with summary.json)")
    p.add_argument("--html", type=Path, required=True, help="the page to write")
    args = p.parse_args(argv)
    missing = [str(r) for r in args.runs if not (r / "summary.json").exists()]
    if missing:
        print(f"error: no summary.json in {', '.join(missing)}", file=sys.stderr)
        return 2
    args.html.parent.mkdir(parents=True, exist_ok=True)
    args.html.write_text(render_page(args.runs))
    print(f"{args.html}: {len(args.runs)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
