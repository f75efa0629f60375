"""Seed ensembles: combining members, saving and loading them, and the runner's path.

The members here are tiny, randomly initialised CLOUD-DEBYE models (fixtures, not trained
models; each seeded differently so their Θ differ); the inputs are the paper's SCOPE strings
of real phonon materials. The runner test trains a 2-member ensemble on the smoke folds of
the real Cv data.
"""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from cloud.debye.curves import LIMIT_GRID, check_curves, predict_curves, predict_theta
from cloud.debye.physics import debye_cv
from cloud.model import CloudConfig, CloudForDebye
from cloud.model.ensemble import (
    CloudDebyeEnsemble,
    ensemble_tokenizer_dir,
    geometric_mean_theta,
    is_ensemble,
    load_debye_model,
)
from cloud.tokenizer import build_tokenizer
from cloud.train.ensemble import combine_members, member_dir, member_seeds


def _member(seed: int, target: str = "cv") -> CloudForDebye:
    torch.manual_seed(seed)
    tokenizer = build_tokenizer()
    return CloudForDebye(CloudConfig.preset("tiny", vocab_size=len(tokenizer),
                                            debye_target=target)).eval()


@pytest.fixture(scope="module")
def members():
    return [_member(s) for s in (0, 1, 2)]


@pytest.fixture(scope="module")
def phonon_rows(shared_data):
    with open(shared_data / "scope_reference/phonon.csv", newline="") as fh:
        return [r for _, r in zip(range(12), csv.DictReader(fh), strict=False)]


def test_member_seeds_and_folders(tmp_path):
    assert member_seeds(42, 3) == [42, 43, 44]
    assert member_seeds(7, 1) == [7]
    with pytest.raises(ValueError):
        member_seeds(42, 0)
    assert member_dir(tmp_path, 0, 1) == tmp_path  # a single model trains in the fold's folder
    assert member_dir(tmp_path, 2, 3) == tmp_path / "member_2"
    assert member_dir(None, 0, 3) is None


def test_geometric_mean_theta():
    thetas = torch.tensor([[100.0, 400.0], [400.0, 400.0]])
    np.testing.assert_allclose(geometric_mean_theta(thetas).numpy(), [200.0, 400.0], rtol=1e-6)
    assert geometric_mean_theta(thetas.to(torch.bfloat16)).dtype == torch.float32


def test_ensemble_theta_is_the_geometric_mean_of_its_members(members, phonon_rows):
    tokenizer = build_tokenizer()
    scopes = [r["scope"] for r in phonon_rows]
    ensemble = CloudDebyeEnsemble(members)
    single = np.stack([predict_theta(m, tokenizer, scopes) for m in members])
    assert np.ptp(single, axis=0).min() > 0  # the members disagree
    combined = predict_theta(ensemble, tokenizer, scopes, batch_size=5)
    np.testing.assert_allclose(combined, np.exp(np.log(single).mean(axis=0)), rtol=1e-5)
    n_atoms = [int(r["n_atoms"]) for r in phonon_rows]
    for c in predict_curves(ensemble, tokenizer, scopes, n_atoms, LIMIT_GRID):
        assert check_curves(c) == {"cv_monotone": True, "u_monotone": True,
                                   "dulong_petit": True, "t3_law": True}


def test_members_must_share_the_debye_target():
    with pytest.raises(ValueError, match="disagree"):
        CloudDebyeEnsemble([_member(0, "cv"), _member(1, "u")])
    with pytest.raises(ValueError):
        CloudDebyeEnsemble([])


def test_save_and_load_an_ensemble(members, phonon_rows, tmp_path, shared_data, capsys):
    tokenizer = build_tokenizer()
    scopes = [r["scope"] for r in phonon_rows]
    CloudDebyeEnsemble(members).save_pretrained(tmp_path / "ens", tokenizer)
    assert is_ensemble(tmp_path / "ens")
    assert json.loads((tmp_path / "ens/ensemble.json").read_text())["members"] == [
        "member_0", "member_1", "member_2"]
    loaded = load_debye_model(tmp_path / "ens")
    assert isinstance(loaded, CloudDebyeEnsemble) and len(loaded.members) == 3
    np.testing.assert_allclose(predict_theta(loaded, tokenizer, scopes),
                               predict_theta(CloudDebyeEnsemble(members), tokenizer, scopes),
                               rtol=1e-5)
    assert ensemble_tokenizer_dir(tmp_path / "ens") == tmp_path / "ens/member_0"
    from cloud.debye.__main__ import main

    assert main(["predict", "--model", str(tmp_path / "ens"), "--mp-id", "mp-1000",
                 "--data-dir", str(shared_data), "--points", "20"]) == 0
    theta_mp1000 = predict_theta(loaded, tokenizer, [phonon_rows[0]["scope"]])[0]
    assert phonon_rows[0]["mp_id"] == "mp-1000"
    assert f"mp-1000: Θ = {theta_mp1000:.1f} K" in capsys.readouterr().out
    members[0].save_pretrained(tmp_path / "one")
    assert isinstance(load_debye_model(tmp_path / "one"), CloudForDebye)
    assert ensemble_tokenizer_dir(tmp_path / "one") == tmp_path / "one"


def test_combine_members():
    """Regression: the mean of the members; Debye: the Debye value of the geometric mean Θ
    (not the mean of the values), members' records kept."""
    fit = SimpleNamespace(best_epoch=3)
    reg = [SimpleNamespace(predictions=np.array([1.0, 3.0]), theta=None, fit=fit),
           SimpleNamespace(predictions=np.array([3.0, 5.0]), theta=None, fit=fit)]
    out = combine_members("regression", reg, {}, [42, 43])
    np.testing.assert_allclose(out["predictions"], [2.0, 4.0])
    assert out["ensemble"]["seeds"] == [42, 43] and out["ensemble"]["best_epochs"] == [3, 3]
    assert combine_members("regression", reg[:1], {}, [42]) == {"predictions": reg[0].predictions}

    model = _member(0)
    n_atoms = np.array([2.0, 5.0])
    thetas = [np.array([100.0, 800.0]), np.array([400.0, 200.0])]
    debye = [SimpleNamespace(predictions=debye_cv(300.0, torch.tensor(t), torch.tensor(n_atoms))
                             .numpy(), theta=t, fit=fit, model=model) for t in thetas]
    out = combine_members("debye", debye, {"n_atoms": n_atoms}, [42, 43])
    np.testing.assert_allclose(out["theta"], [200.0, 400.0], rtol=1e-9)
    expected = debye_cv(300.0, torch.tensor([200.0, 400.0], dtype=torch.float64),
                        torch.tensor(n_atoms)).numpy()
    np.testing.assert_allclose(out["predictions"], expected, rtol=1e-9)
    assert not np.allclose(out["predictions"], np.mean([m.predictions for m in debye], axis=0))
    assert len(out["ensemble"]["member_theta"]) == 2


def test_runner_trains_an_ensemble_on_real_cv(shared_data, tmp_path):
    """``ensemble: 2`` (the ensemble experiment's smoke settings): two members trained with
    seeds 42 and 43 on the real smoke fold, combined, kept and analysed."""
    from benchmarks.config import EXPERIMENTS
    from benchmarks.run import main

    assert main(["--task", "cv", "--smoke", "--data-dir", str(shared_data), "--out",
                 str(tmp_path), "--config", str(EXPERIMENTS / "ensemble.yaml"),
                 "--models", "cloud_debye_scratch_ens", "--no-progress"]) == 0
    record = json.loads((tmp_path / "cv/cloud_debye_scratch_ens/fold_0.json").read_text())
    ens = record["ensemble"]
    assert ens["seeds"] == [42, 43] and len(ens["member_theta"]) == 2
    theta = np.exp(np.log(np.array(ens["member_theta"])).mean(axis=0))
    np.testing.assert_allclose(record["theta"], theta, rtol=1e-6)
    assert is_ensemble(record["model_dir"])
    analysis = json.loads((tmp_path / "cv/analysis/analysis.json").read_text())
    assert "cloud_debye_scratch_ens" in json.dumps(analysis)
    summary = json.loads((tmp_path / "summary.json").read_text())
    described = summary["tasks"]["cv"]["models"]["cloud_debye_scratch_ens"]
    assert "ensemble of 2 seeds" in json.dumps(described)
