"""Data access for the CLOUD benchmark suite: registry, resolution, download, readers, folds.

Typical use::

    from cloud.data import resolve, read_matbench_json, matbench_folds
    df = read_matbench_json(resolve("matbench_jdft2d"))   # local data dir, cache or download
    folds = matbench_folds("matbench_jdft2d", ids=df.index)
"""

from __future__ import annotations

from .fetch import (
    ChecksumError,
    DataMissingError,
    Verified,
    download,
    file_digests,
    load_manifest,
    sha256sum,
    verify,
    verify_detail,
)
from .folds import (
    MATBENCH_SEED,
    UNCONVBENCH_SEED,
    Fold,
    kfold_ids,
    load_validation_folds,
    matbench_folds,
    unconvbench_folds,
    validation_metadata,
)
from .paths import ENV_CACHE_DIR, ENV_DATA_DIR, cache_dir, data_dir, locate, resolve, search_roots
from .readers import (
    matbench_ids,
    matbench_task,
    read_cif_csv,
    read_json,
    read_matbench_json,
    read_matbench_structures,
    read_matbench_targets,
    read_phonon,
    read_records_json,
    read_scope_csv,
    read_unconvbench_json,
    unconvbench_ids,
)
from .registry import (
    FAMILIES,
    MATBENCH_CLASSIFICATION_TASKS,
    MATBENCH_COMPOSITION_TASKS,
    MATBENCH_TASKS,
    UNCONVBENCH_TASKS,
    UNCONVBENCH_UPSTREAM,
    Checksum,
    Entry,
    Registry,
    get_entry,
    load_registry,
    validate_registry,
)

__all__ = [
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "FAMILIES",
    "MATBENCH_SEED",
    "MATBENCH_CLASSIFICATION_TASKS",
    "MATBENCH_COMPOSITION_TASKS",
    "MATBENCH_TASKS",
    "UNCONVBENCH_SEED",
    "UNCONVBENCH_TASKS",
    "UNCONVBENCH_UPSTREAM",
    "Checksum",
    "ChecksumError",
    "DataMissingError",
    "Entry",
    "Fold",
    "Registry",
    "Verified",
    "cache_dir",
    "data_dir",
    "download",
    "file_digests",
    "get_entry",
    "kfold_ids",
    "load_manifest",
    "load_registry",
    "load_validation_folds",
    "locate",
    "matbench_folds",
    "matbench_ids",
    "matbench_task",
    "read_cif_csv",
    "read_json",
    "read_matbench_json",
    "read_matbench_structures",
    "read_matbench_targets",
    "read_phonon",
    "read_records_json",
    "read_scope_csv",
    "read_unconvbench_json",
    "resolve",
    "search_roots",
    "sha256sum",
    "unconvbench_folds",
    "unconvbench_ids",
    "validate_registry",
    "validation_metadata",
    "verify",
    "verify_detail",
]
