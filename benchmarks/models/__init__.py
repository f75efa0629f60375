"""Models the runner trains on a fold: one protocol for the project's own and anyone's.

- :mod:`~benchmarks.models.protocol`: the shape a model has (``input``, ``fit``, ``predict``);
- :mod:`~benchmarks.models.registry`: names → classes (built-in, entry points, module:Class);
- :mod:`~benchmarks.models.spec`: a model's validated settings (:class:`ModelSpec`);
- :mod:`~benchmarks.models.declare`: what a model declares about itself (encoder, job key,
  description, resources, submission metadata), read instead of its name;
- :mod:`~benchmarks.models.inputs`: a fold's rows as compositions, structures or SCOPE strings;
- :mod:`~benchmarks.models.fold`: fit and predict one fold;
- :mod:`~benchmarks.models.cloud_model`: CLOUD and CLOUD-DEBYE in that shape.
"""

from benchmarks.models.cloud_model import element_feature_names, keeps_model
from benchmarks.models.declare import Declarations, declarations
from benchmarks.models.describe import describe_model, input_description
from benchmarks.models.inputs import input_problem, scope_mode_problem
from benchmarks.models.protocol import INPUTS, ModelError
from benchmarks.models.registry import BUILTIN, ENTRY_POINT_GROUP
from benchmarks.models.spec import ModelSpec, for_config, for_type, model_spec

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "INPUTS", "Declarations", "ModelError", "ModelSpec",
           "declarations", "describe_model", "element_feature_names", "for_config", "for_type",
           "input_description", "input_problem", "keeps_model", "model_spec",
           "scope_mode_problem"]
