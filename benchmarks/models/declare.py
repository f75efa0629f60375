"""What a model says about itself beyond ``fit`` and ``predict``: the optional declarations
of the model protocol, read by the runner, the reports and the cluster plans instead of the
model's name. Every declaration has a default, so a plain estimator needs none of them.

- ``has_encoder = True``: the model starts from a pretrained encoder (``--pretrained``
  applies to it, the config's ``cloud_models`` recipe is merged over it, ``--save-models``
  keeps its fine-tuned folds). Default ``False``.
- ``trains_network = True``: a network trained by gradient descent: its folds are the costly
  ones (job balance, ``--report-only`` trains none of them) and its metrics move between
  machines within the regression stage's network tolerance. Default: ``has_encoder``.
- ``job_key_parts(settings) -> dict``: what the model adds to (or replaces in) its job key,
  e.g. the encoder's weights by checksum instead of its path; default nothing.
- ``describe(settings, encoder) -> str``: the model's line on the leaderboard (``encoder``:
  the job record's encoder); default the class and settings of a plug-in, or its type.
- ``resources``: the Ray resources of its jobs (``num_cpus``, ``num_gpus``, ``memory``,
  ``max_retries``); a config's ``resources`` setting is merged over them.
- ``submission``: metadata for leaderboard submissions (``authors``, ``algorithm``,
  ``model_type`` as Matbench Discovery's schema names it, ``architecture``, ``paper``...).

:func:`declarations` reads them off a model; :func:`benchmarks.models.spec.for_config` off the
stored settings of a fold record (a built-in type, an installed plug-in or a ``class:`` entry), for reports that
only have those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.models.protocol import declared


@dataclass(frozen=True)
class Declarations:
    has_encoder: bool = False
    trains_network: bool = False
    resources: dict = field(default_factory=dict)
    submission: dict = field(default_factory=dict)
    model: object | None = None  # the instance they were read from (None: defaults)

    def job_key_parts(self, settings: dict) -> dict:
        fn = getattr(self.model, "job_key_parts", None)
        return dict(fn(settings)) if callable(fn) else {}

    def describe(self, settings: dict, encoder: dict | None = None) -> str | None:
        fn = getattr(self.model, "describe", None)
        return fn(settings, encoder) if callable(fn) else None


DEFAULT = Declarations()


def declarations(model) -> Declarations:
    """The declarations of a model instance (a pipeline: its own, else its first step's)."""
    encoder = bool(declared(model, "has_encoder", False))
    return Declarations(has_encoder=encoder,
                        trains_network=bool(declared(model, "trains_network", encoder)),
                        resources=dict(declared(model, "resources", {}) or {}),
                        submission=dict(declared(model, "submission", {}) or {}),
                        model=model)
