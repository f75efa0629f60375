"""MatBench folds computed in code equal the official v0.1 validation file."""

from __future__ import annotations

import pytest

from cloud.data import (
    MATBENCH_TASKS,
    kfold_ids,
    load_validation_folds,
    matbench_folds,
    matbench_ids,
    read_matbench_targets,
    unconvbench_folds,
    validation_metadata,
)
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA  # ../shared/data, or $CLOUD_DATA_DIR (tests/conftest.py)
VALIDATION = SHARED / "matbench" / "matbench_v0.1_validation.json.gz"


@pytest.fixture(scope="module")
def official() -> dict:
    if not VALIDATION.is_file():
        pytest.skip(f"official MatBench validation file {VALIDATION} not found")
    return load_validation_folds(VALIDATION)


def test_validation_file_structure(official: dict) -> None:
    assert validation_metadata(VALIDATION) == {
        "n_splits": 5,
        "random_state": 18012019,
        "shuffle": True,
    }
    # the offline copy: the 8 regression tasks (the canonical file has all 13)
    assert set(official) == set(MATBENCH_TASKS[:8])
    for folds in official.values():
        assert len(folds) == 5


@pytest.mark.parametrize("task", MATBENCH_TASKS[:8])
def test_computed_folds_equal_official(official: dict, task: str) -> None:
    mbids = read_matbench_targets(task, data_dir=SHARED).index.tolist()
    assert mbids == matbench_ids(task, len(mbids))  # targets are in MatBench row order
    computed = matbench_folds(task, ids=mbids)
    assert len(computed) == 5
    for k, (mine, ref) in enumerate(zip(computed, official[task], strict=True)):
        assert mine.train == ref.train, f"{task} fold_{k} train"
        assert mine.test == ref.test, f"{task} fold_{k} test"
    # the folds partition the task
    tests = [i for f in computed for i in f.test]
    assert sorted(tests) == sorted(mbids) and len(set(tests)) == len(mbids)
    # and need no data at all: ids come from the registry's row count
    assert matbench_folds(task) == computed


def test_kfold_ids_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="unique"):
        kfold_ids(["a", "b", "a", "c", "d"])


def test_unconvbench_folds_follow_its_convention() -> None:
    folds = unconvbench_folds("supercon")
    assert len(folds) == 5
    assert folds[0].train[0].startswith("unconvbench_supercon-")
    assert len(folds[0].train[0].rsplit("-", 1)[1]) == 4  # 1058 rows -> 4 digits
    assert sorted(i for f in folds for i in f.test) == sorted(set(folds[0].train + folds[0].test))
