"""Temperature curves and the ``python -m cloud.debye predict`` command.

The checkpoint here is a tiny, randomly initialised CLOUD-DEBYE model (a fixture, not a
trained model): whatever Θ it predicts, the Debye model must give monotone curves with the
Dulong-Petit and T^3 limits, which is what these tests check.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cloud.debye.__main__ import main
from cloud.debye.curves import LIMIT_GRID, check_curves, predict_curves, predict_theta
from cloud.model import CloudConfig, CloudForDebye
from cloud.tokenizer import build_tokenizer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    model = CloudForDebye(CloudConfig.preset("tiny", vocab_size=len(tokenizer)))
    path = tmp_path_factory.mktemp("debye")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path, model, tokenizer


def test_curves_obey_the_debye_limits(checkpoint, shared_data):
    import csv

    _, model, tokenizer = checkpoint
    with open(shared_data / "scope_reference/phonon.csv", newline="") as fh:
        rows = [r for _, r in zip(range(20), csv.DictReader(fh), strict=False)]
    temps = np.concatenate([np.linspace(0.5, 5, 10), np.linspace(10, 20000, 300)])
    curves = predict_curves(model, tokenizer, [r["scope"] for r in rows],
                            [int(r["n_atoms"]) for r in rows], temps)
    for c in curves:
        checks = check_curves(c)
        assert checks == {"cv_monotone": True, "u_monotone": True, "dulong_petit": True,
                          "t3_law": True}, (c.label, c.theta, checks)


def test_predict_theta_in_batches_and_the_limit_grid(checkpoint, shared_data):
    import csv

    _, model, tokenizer = checkpoint
    with open(shared_data / "scope_reference/phonon.csv", newline="") as fh:
        rows = [r for _, r in zip(range(37), csv.DictReader(fh), strict=False)]
    scopes, n_atoms = [r["scope"] for r in rows], [int(r["n_atoms"]) for r in rows]
    theta = predict_theta(model, tokenizer, scopes, batch_size=8)  # 5 batches, last short
    curves = predict_curves(model, tokenizer, scopes, n_atoms, LIMIT_GRID)
    assert theta.shape == (37,)
    np.testing.assert_allclose(theta, [c.theta for c in curves], rtol=1e-5)
    for c in curves:  # on LIMIT_GRID every check applies (and holds)
        assert check_curves(c) == {"cv_monotone": True, "u_monotone": True,
                                   "dulong_petit": True, "t3_law": True}, c.theta
    assert len(predict_theta(model, tokenizer, [])) == 0


def test_check_curves_catches_a_broken_curve(checkpoint):
    _, model, tokenizer = checkpoint
    temps = np.linspace(1, 5000, 100)
    c = predict_curves(model, tokenizer, ["0 1 n O O O 0 | 1a | Fe 1.0"], [1], temps)[0]
    c.cv = c.cv[::-1].copy()
    assert not check_curves(c)["cv_monotone"]


def test_predict_command(checkpoint, shared_data, tmp_path, capsys):
    path, _, _ = checkpoint
    out_csv, out_png = tmp_path / "c.csv", tmp_path / "c.png"
    code = main(["predict", "--model", str(path), "--mp-id", "mp-1000", "mp-8291",
                 "--data-dir", str(shared_data), "--csv", str(out_csv), "--plot", str(out_png),
                 "--t-max", "1500", "--points", "50"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "mp-1000: Θ =" in printed and "mp-8291" in printed
    assert printed.count("limits (0.1-100000 K) {'cv_monotone': True, 'u_monotone': True, "
                         "'dulong_petit': True, 't3_law': True}") == 2
    assert out_png.stat().st_size > 1000
    import pandas as pd

    table = pd.read_csv(out_csv)
    assert len(table) == 100 and set(table["label"]) == {"mp-1000", "mp-8291"}


def test_predict_from_cif(checkpoint, tmp_path, capsys, shared_data):
    import csv
    import gzip

    path, _, _ = checkpoint
    with gzip.open(shared_data / "aflow/debye_temperature/val.csv.gz", "rt", newline="") as fh:
        row = next(csv.DictReader(fh))
    cif = tmp_path / "x.cif"
    cif.write_text(row["cif"])
    assert main(["predict", "--model", str(path), "--cif", str(cif), "--points", "20"]) == 0
    assert "x: Θ =" in capsys.readouterr().out
