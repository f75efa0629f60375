"""The runner's exit codes, final account and fold reuse, on real smoke folds."""

from __future__ import annotations

import json

import pytest

from benchmarks.jobs import Job, job_key, stored_result
from benchmarks.run import main
from benchmarks.tasks import Fold, select


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("CLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("urllib.request.urlopen", _offline)


def _run(shared_data, out, *extra):
    return main(["--task", "matbench_jdft2d", "--smoke", "--data-dir", str(shared_data),
                 "--out", str(out), "--no-progress", *extra])


def test_unknown_names_exit_2_listing_what_exists(capsys):
    assert main(["--task", "matbench_nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'matbench_nope'" in err and "matbench_jdft2d" in err
    assert main(["--task", "matbench_jdft2d", "--models", "cloud,nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "composition_rf" in err


def test_only_task_skipped_exits_1_even_with_allow_skips(offline, shared_data, tmp_path, capsys):
    args = ["--task", "matbench_mp_gap", "--smoke", "--data-dir", str(shared_data),
            "--out", str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 1
    assert main([*args, "--allow-skips"]) == 1  # nothing was done at all
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("rows: 0 done, 0 failed, 1 skipped")
    assert "matbench_mp_gap.json.gz" in line


def test_a_failing_model_is_reported_and_the_others_finish(offline, shared_data, tmp_path,
                                                            capsys):
    out = tmp_path / "run"
    code = _run(shared_data, out, "--models", "cloud,dummy",
                "--pretrained", str(tmp_path / "no-such-encoder"))
    assert code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("rows: 1 done, 1 failed, 0 skipped")
    assert "matbench_jdft2d cloud: fold 0: FileNotFoundError" in line
    assert (out / "matbench_jdft2d" / "dummy" / "fold_0.json").exists()
    assert not (out / "matbench_jdft2d" / "cloud" / "fold_0.json").exists()
    error = json.loads((out / "matbench_jdft2d" / "cloud" / "fold_0.error.json").read_text())
    assert error["status"] == "failed" and "Traceback" in error["traceback"]
    summary = json.loads((out / "summary.json").read_text())
    assert [r[1] for r in summary["account"]["failed"]] == ["cloud"]
    assert "cloud" not in summary["tasks"]["matbench_jdft2d"]["models"]


def test_all_done_exits_0_and_skips_need_the_flag(offline, shared_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert _run(shared_data, out, "--models", "dummy,composition_rf") == 0
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "rows: 2 done, 0 failed, 0 skipped")
    assert _run(shared_data, out, "--models", "dummy,debye_rf") == 2  # not a model here
    # a model that cannot apply (canonical SCOPE needs structures; dielectric has only the
    # paper's strings offline) is a skipped row: exit 1 unless skips are allowed
    args = ["--task", "matbench_dielectric", "--smoke", "--data-dir", str(shared_data),
            "--out", str(out), "--no-progress", "--models", "dummy,cloud_canonical"]
    assert main(args) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("rows: 1 done, 0 failed, 1 skipped")
    assert "matbench_dielectric cloud_canonical: scope_mode canonical needs structures" in line
    assert main([*args, "--allow-skips"]) == 0


def test_fold_results_are_reused_only_with_the_same_key(offline, shared_data, tmp_path):
    out = tmp_path / "run"
    assert _run(shared_data, out, "--models", "composition_rf") == 0
    fold = out / "matbench_jdft2d" / "composition_rf" / "fold_0.json"
    first = json.loads(fold.read_text())
    stamp = fold.stat().st_mtime_ns
    assert _run(shared_data, out, "--models", "composition_rf") == 0
    assert fold.stat().st_mtime_ns == stamp  # same key: reused
    config = tmp_path / "fewer_trees.yaml"
    config.write_text("smoke:\n  models:\n    composition_rf: {n_estimators: 7}\n")
    assert _run(shared_data, out, "--models", "composition_rf", "--config", str(config)) == 0
    second = json.loads(fold.read_text())
    assert second["job_key"] != first["job_key"]  # other settings: recomputed
    assert second["config"]["n_estimators"] == 7 and second["metrics"] != first["metrics"]


def test_job_key_covers_encoder_data_and_rows(shared_data, tmp_path):
    """The key changes with the encoder's weights, the data checksums and the fold's rows;
    a record without a key (an older version's) is not reused."""
    from cloud.train.finetune import DEFAULT_PRETRAINED

    task = select("matbench_jdft2d")[0]
    data = task.load(shared_data, progress=False)
    fold = Fold(data.folds[0].train[:50], data.folds[0].test[:20])
    spec = {"type": "cloud", "pretrained": str(DEFAULT_PRETRAINED)}
    key, parts = job_key(task, data, spec, 0, fold, True)
    assert parts["encoder_sha256"] and len(key) == 64
    assert job_key(task, data, dict(spec), 0, fold, True)[0] == key
    other = tmp_path / "encoder"
    other.mkdir()
    for f in DEFAULT_PRETRAINED.iterdir():
        if f.is_file():
            (other / f.name).write_bytes(f.read_bytes())
    assert job_key(task, data, {**spec, "pretrained": str(other)}, 0, fold, True)[0] == key
    weights = other / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    assert job_key(task, data, {**spec, "pretrained": str(other)}, 0, fold, True)[0] != key
    assert job_key(task, data, spec, 0, Fold(fold.train[1:], fold.test), True)[0] != key
    data.checksums = {**data.checksums, "matbench_jdft2d.json.gz": "0" * 64}
    assert job_key(task, data, spec, 0, fold, True)[0] != key
    job = Job(task.name, "cloud", spec, 0, fold, tmp_path / "fold_0.json", "paper", key, parts)
    job.result_path.write_text(json.dumps({"metrics": {"mae": 1.0}}))
    record, why = stored_result(job)
    assert record is None and "no job key" in why
