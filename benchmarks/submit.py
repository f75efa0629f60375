"""Package a finished run for the leaderboards, check it with their own rules, say what is left.

For a run folder (``benchmarks/run.py --out RUN``), with its fold records:

- MatBench: writes ``RUN/matbench/matbench_v0.1_<Algorithm>/`` per model that ran all five
  folds of complete tasks (reference rows -- the suite's dummy and random-forest baselines,
  which the board already has -- get none), then checks each folder: the suite's reading of
  the CI's rules always, and the leaderboard's own ``scripts/test_submission.py`` with its
  ``matbench`` when ``--matbench-checker`` names a clone of materialsproject/matbench (with
  ``--check-path`` for what that package imports);
- Matbench Discovery: rewrites every model YAML of the run's discovery tasks in today's
  schema, fills the submitter's fields from ``--submission-info``, validates each against the
  vendored schema (``jsonschema.Draft7Validator``, as upstream's registry test) and, for the
  real WBM task, lays out ``RUN/submission/matbench-discovery/models/<family>/`` (YAML and
  ``<model_key>/<date>-discovery.csv.gz``); stand-in tasks are validated, not packaged.

Then it prints what is left: fields to fill, files to upload, the git steps. It makes no
pull request (no network is assumed); the steps to open one are printed. Exit status 0
when every check that ran passed, 1 when one failed, 2 for bad arguments.

A submission-info file (YAML or JSON) holds what only a submitter knows::

    authors: [{name: Jane Doe, email: jane@example.org, affiliation: Example U}]
    repo: https://github.com/me/my-model
    pr_url: https://github.com/janosh/matbench-discovery/pull/123
    checkpoint_url: https://figshare.com/files/123        # or null: not released
    pred_file_url: https://figshare.com/files/456         # after uploading the predictions
    doi: https://doi.org/...   paper: https://arxiv.org/abs/...   # plug-ins
    license: {code: MIT, checkpoint: CC-BY-4.0}                   # plug-ins
    matbench: {algorithm_long: ..., bibtex_refs: ...}              # plug-ins' info.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/submit.py` from a plain checkout
    sys.path.insert(0, str(REPO))

from benchmarks.leaderboards import run_records  # noqa: E402

INFO_KEYS = ("authors", "trained_by", "repo", "pr_url", "checkpoint_url", "pred_file_url",
             "doi", "paper", "docs", "license", "model_params", "dates", "model_name",
             "model_version", "matbench")
MATBENCH_INFO_KEYS = ("authors", "algorithm", "algorithm_long", "bibtex_refs", "notes")
DERIVED_NOTES = {"description", "training", "stand_in", "roc_auc", "subset_sizes",
                 "prevalence", "not_rounded", "dates", "missing_for_submission"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example:\n  python benchmarks/submit.py runs/mb "
                                       "--submission-info me.yml --matbench-checker "
                                       "~/src/matbench --check-path ~/matbench-deps\n"
                                       "  (the same as: cloud-bench submit runs/mb ...)")
    p.add_argument("run", type=Path, help="a finished run folder (benchmarks/run.py --out)")
    p.add_argument("--submission-info", type=Path, default=None,
                   help="YAML/JSON with the submitter's fields (see above)")
    p.add_argument("--matbench-checker", type=Path, default=None,
                   help="a clone of materialsproject/matbench: run its scripts/"
                        "test_submission.py on the folders")
    p.add_argument("--check-path", action="append", default=[],
                   help="extra import path for the checker's matbench (matminer 0.7.4, the "
                        "PyPI 0.6 wheel for its validation JSON); repeatable")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="local data folder (MatBench targets and folds)")
    return p.parse_args(argv)


def load_info(path: Path | None) -> dict:
    if path is None:
        return {}
    import yaml

    info = yaml.safe_load(path.read_text()) or {}
    if not isinstance(info, dict):
        raise ValueError(f"{path}: a mapping of fields expected")
    unknown = sorted(set(info) - set(INFO_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {', '.join(unknown)}; known: "
                         f"{', '.join(INFO_KEYS)}")
    bad = sorted(set(info.get("matbench") or {}) - set(MATBENCH_INFO_KEYS))
    if bad:
        raise ValueError(f"{path}: unknown matbench field(s) {', '.join(bad)}")
    return info


def matbench_overrides(info: dict) -> dict:
    out = dict(info.get("matbench") or {})
    if "authors" in info and "authors" not in out:
        out["authors"] = ", ".join(a["name"] for a in info["authors"])
    return out


# ---------------------------------------------------------------- MatBench
def matbench_step(args, summary: dict, info: dict, todo: list[str]) -> bool:
    from benchmarks.reports.matbench_folder import folder_problems
    from benchmarks.reports.matbench_submission import write_run_submissions

    per_model = run_records.matbench_per_model(args.run, summary, args.data_dir)
    if not per_model:
        print("MatBench: no model ran all 5 folds of a complete MatBench task here")
        return True
    base = args.run / "matbench"
    overrides = matbench_overrides(info)
    if (versions := run_records.run_versions(args.run)) and "requirements" not in overrides:
        from benchmarks.reports.matbench_results import MATBENCH_VERSION

        overrides["requirements"] = {"python": [f"matbench=={MATBENCH_VERSION}",
                                                *run_records.pins(versions)]}
    written = write_run_submissions(base, per_model,
                                    commit=summary.get("run", {}).get("commit"),
                                    datestamp=run_records.matbench_datestamp(summary),
                                    info_overrides=overrides)
    folders = sorted(p for p in written if p.is_dir())
    print(f"MatBench ({base}):\n  "
          + (base / "README.md").read_text().split("\n", 2)[2].strip().replace("\n", "\n  "))
    ok = True
    for folder in folders:
        problems = folder_problems(folder)
        print(f"  {folder.name}: suite's reading of the CI rules: "
              + ("pass" if not problems else "FAIL: " + "; ".join(problems)))
        ok &= not problems
        text = json.dumps(json.loads((folder / "info.json").read_text()))
        if "FILL IN" in text:
            fields = [k for k, v in json.loads((folder / "info.json").read_text()).items()
                      if isinstance(v, str) and v.startswith("FILL IN")]
            todo.append(f"MatBench {folder.name}/info.json: fill in {', '.join(fields)} "
                        "(or give them in --submission-info under matbench:)")
    if args.matbench_checker and folders:
        from benchmarks.leaderboards.matbench_check import run_upstream_check

        result = run_upstream_check(folders, args.matbench_checker, extra_path=args.check_path)
        print(f"  leaderboard CI ({result.command}): {'PASSED' if result.passed else 'FAILED'}")
        print("    " + result.output.strip().replace("\n", "\n    "))
        ok &= result.passed
    elif folders:
        todo.append("MatBench: the leaderboard's own CI script was not run; pass "
                    "--matbench-checker DIR (a clone of materialsproject/matbench)")
    for folder in folders:
        todo.append(f"MatBench PR: git clone https://github.com/<you>/matbench (a fork); cp -r "
                    f"{folder} matbench/benchmarks/; git checkout -b {folder.name}; git add "
                    f"benchmarks/{folder.name}; git commit; git push; open a pull request "
                    "to materialsproject/matbench")
    return ok


# ---------------------------------------------------------------- Matbench Discovery
def discovery_docs(run: Path, summary: dict, info: dict) -> list[tuple]:
    """``(task, model, doc, yaml path, fold record)`` for every discovery YAML of the run,
    rebuilt in today's schema from its fold record, the submitter's fields filled in."""
    import yaml

    from benchmarks.reports.cost import parameter_count
    from benchmarks.reports.discovery_yaml import _snake, apply_submission_info, model_yaml
    from benchmarks.tasks import select

    adapters = {t.name: t for t in select("discovery")}
    out = []
    for task in run_records.family_tasks(summary, "discovery"):
        for old in sorted((run / "discovery" / task).glob("*.yml")):
            model = old.stem
            records = run_records.fold_records(run, task, model)
            if not records:
                raise FileNotFoundError(run_records.FOLDS_MISSING.format(run=run,
                                                                        name=run.name))
            record = records[min(records)]
            if "model_params" not in record:
                record["model_params"] = parameter_count(record)
            notes = (yaml.safe_load(old.read_text()) or {}).get("notes", {})
            extra = {_snake(k): v for k, v in notes.items() if _snake(k) not in DERIVED_NOTES}
            versions = run_records.run_versions(run)
            env = {"dependencies": run_records.pins(versions),
                   "python_version": ".".join(versions["python"].split(".")[:2])} \
                if versions.get("python") else None
            doc = model_yaml(adapters[task], model, record, extra,
                             date=run_records.run_date(summary),
                             device=summary.get("run", {}).get("device"), env=env)
            out.append((adapters[task], model, apply_submission_info(doc, info), old,
                        record))
    return out


def discovery_step(args, summary: dict, info: dict, todo: list[str]) -> bool:
    from benchmarks.leaderboards.discovery_check import (
        layout_problems,
        schema_errors,
        unfilled_fields,
    )
    from benchmarks.reports.discovery_outputs import write_model_yaml
    from benchmarks.reports.discovery_yaml import pred_file_name, write_prediction_file

    docs = discovery_docs(args.run, summary, info)
    if not docs:
        print("Matbench Discovery: no discovery task ran here")
        return True
    if all(task.stand_in for task, *_ in docs):
        todo.append("Matbench Discovery: nothing to submit: only stand-in tasks ran (the WBM "
                    "test set, discovery_wbm, needs its data: see cloud/data/registry.yaml)")
    ok = True
    root = args.run / "submission" / "matbench-discovery"
    for task, model, doc, old, record in docs:
        preds = dict(record["predictions"])
        date = doc["dates"]["benchmark_added"]
        ref = write_prediction_file(old.parent / doc["model_key"], date, preds)
        doc["metrics"]["discovery"]["pred_file"].update(ref)
        write_model_yaml(old, doc, task.stand_in)
        errors = schema_errors(doc)
        family = doc["metrics"]["discovery"]["pred_file"]["name"].split("/")[1]
        rel = f"models/{family}/{doc['model_key']}.yml"
        layout = layout_problems(rel, doc)
        todo_fields = doc["notes"].get("missing_for_submission", [])
        other = sorted(unfilled_fields(doc) - set(todo_fields)) + layout
        state = "valid" if not errors else (
            f"{len(errors)} error(s), exactly the fields to fill in" if not other else
            f"{len(errors)} error(s): " + "; ".join(errors + layout))
        print(f"Matbench Discovery {task.name}/{model}: schema ({old.name}): {state}")
        ok &= not other
        if task.stand_in:
            print(f"  not packaged: {task.stand_in.split(':')[0]} (not the WBM test set)")
            continue
        dest = root / rel
        (dest.parent / doc["model_key"]).mkdir(parents=True, exist_ok=True)
        write_model_yaml(dest, doc, None)
        shutil.copy2(old.parent / doc["model_key"] / pred_file_name(date),
                     dest.parent / doc["model_key"] / pred_file_name(date))
        if todo_fields:
            todo.append(f"Matbench Discovery {rel}: fill in {', '.join(todo_fields)} "
                        "(--submission-info FILE)")
        if "url" not in doc["metrics"]["discovery"]["pred_file"]:
            todo.append(f"Matbench Discovery: upload {dest.parent / doc['model_key']}/"
                        f"{pred_file_name(date)} to figshare, give its URL as pred_file_url")
        todo.append(f"Matbench Discovery PR: in a fork of janosh/matbench-discovery, cp -r "
                    f"{dest.parent} models/; git add models/{family}; git commit; git push; "
                    "open a pull request (contributing.md: also a test_<model_key>_discovery"
                    ".py for models without an ASE calculator; discuss first)")
    return ok


def main(argv=None) -> int:
    from cloud.logging_setup import quiet_third_party

    quiet_third_party()
    args = parse_args(argv)
    try:
        summary = run_records.load_summary(args.run)
        info = load_info(args.submission_info)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    todo: list[str] = []
    try:
        ok = matbench_step(args, summary, info, todo)
        ok &= discovery_step(args, summary, info, todo)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\nLeft to do:" if todo else "\nNothing left but the pull requests.")
    for item in todo:
        print(f"- {item}")
    print("- No pull request was opened: this step works offline; the git steps above open "
          "them from a machine that reaches GitHub.")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
