"""CLOUD models (HF-native): config, MLM pre-training, regression and Debye fine-tuning.

Importing this package registers ``model_type="cloud"`` with ``AutoConfig`` and
``CloudForMaskedLM`` with ``AutoModelForMaskedLM``.
"""

from transformers import AutoConfig, AutoModelForMaskedLM

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
AutoModelForMaskedLM.register(CloudConfig, CloudForMaskedLM, exist_ok=True)

__all__ = [
    "PRESETS",
    "THETA_FLOOR",
    "CloudConfig",
    "CloudDebyeOutput",
    "CloudForDebye",
    "CloudForMaskedLM",
    "CloudForRegression",
    "CloudMLPHead",
    "CloudPreTrainedModel",
    "CloudRegressionOutput",
    "count_parameters",
    "encoder_parameters",
    "head_parameters",
    "set_encoder_trainable",
]
