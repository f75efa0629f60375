"""CLOUD models (HF-native): config, MLM pre-training, regression and Debye fine-tuning.

Importing this package registers ``model_type="cloud"`` with ``AutoConfig``, the bare encoder
``CloudModel`` with ``AutoModel`` and ``CloudForMaskedLM`` with ``AutoModelForMaskedLM``
(``import cloud`` arranges that for any later ``import transformers``: :mod:`cloud.hf_auto`).
"""

from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM

from cloud.model.bare import CloudModel
from cloud.model.config import PRESETS, CloudConfig
from cloud.model.debye import THETA_FLOOR, CloudDebyeOutput, CloudForDebye
from cloud.model.modeling import (
    CloudForMaskedLM,
    CloudForRegression,
    CloudMLPHead,
    CloudPreTrainedModel,
    CloudRegressionOutput,
)
from cloud.model.utils import (
    count_parameters,
    encoder_parameters,
    head_parameters,
    set_encoder_trainable,
)

AutoConfig.register("cloud", CloudConfig, exist_ok=True)
AutoModel.register(CloudConfig, CloudModel, exist_ok=True)
AutoModelForMaskedLM.register(CloudConfig, CloudForMaskedLM, exist_ok=True)

__all__ = [
    "PRESETS",
    "THETA_FLOOR",
    "CloudConfig",
    "CloudDebyeOutput",
    "CloudForDebye",
    "CloudForMaskedLM",
    "CloudModel",
    "CloudForRegression",
    "CloudMLPHead",
    "CloudPreTrainedModel",
    "CloudRegressionOutput",
    "count_parameters",
    "encoder_parameters",
    "head_parameters",
    "set_encoder_trainable",
]
