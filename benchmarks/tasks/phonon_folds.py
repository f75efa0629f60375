"""How the phonon tasks number their folds: 0-4 are 5-fold cross-validation, 5 the dataset's
original train/test split (reported apart). Shared by the task adapter and its reports."""

PHONON_SEED = 42
ORIGINAL_SPLIT_FOLD = 5
N_MATERIALS = 1512
