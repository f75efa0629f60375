"""CLOUD-DEBYE: the encoder predicts a Debye temperature, the Debye model gives Cv(T)/U(T).

``raw = MLP([CLS])``, ``theta = max(theta_shift + theta_scale * softplus(raw), 1e-2 K)``, then
``cloud.debye.physics.debye_cv`` / ``debye_u`` (differentiable, imported lazily so this module
imports without it). Predictions are in J/(mol-cell K) (Cv) or J/mol-cell (U), the units of
the labels. The loss (``config.debye_loss``) is either the paper's, their MSE divided by
``config.target_std ** 2``, or ``log_theta``: the MSE of log Θ against the Θ each label
implies through the same Debye model, divided by ``config.theta_log_std ** 2``. At 300 K, Cv
hardly moves with Θ for soft materials (Θ well below T), so in the value loss their Θ gets
little gradient, while the implied log Θ weighs every material alike; the labels and the
model are the same. Rows whose label no Debye solid reproduces (``label_theta`` NaN) keep the
value loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.utils import ModelOutput

from cloud.model.config import CloudConfig
from cloud.model.modeling import CloudMLPHead, CloudPreTrainedModel

#: Numerical floor on theta (K), so ``theta_shift=0`` with a very negative raw output
#: (softplus underflows to 0) still gives a positive, finite Debye temperature.
THETA_FLOOR = 1e-2


def _physics():
    # Lazy: the physics module is developed separately and only needed at forward time.
    from cloud.debye import physics

    return physics


@dataclass
class CloudDebyeOutput(ModelOutput):
    """Output of :class:`CloudForDebye`.

    loss: MSE(predictions, labels) / target_std**2 (when labels are given).
    theta: Debye temperature in K, [B].
    predictions: Cv or U (``config.debye_target``), [B] for a scalar temperature else [B, T].
    raw: the head's unconstrained output, [B].
    """

    loss: torch.Tensor | None = None
    theta: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    raw: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


class CloudForDebye(CloudPreTrainedModel):
    """CLOUD-DEBYE: MLP head on ``[CLS]`` -> Debye temperature -> Cv(T) or U(T)."""

    def __init__(self, config: CloudConfig):
        super().__init__(config)
        if config.debye_target not in ("cv", "u"):
            raise ValueError(f"debye_target must be 'cv' or 'u', got {config.debye_target!r}")
        self._init_encoder(config)
        self.head = CloudMLPHead(
            config.hidden_size, config.head_hidden_sizes, 1, config.head_dropout
        )
        self.post_init()

    def theta_from_raw(self, raw: torch.Tensor) -> torch.Tensor:
        """``theta_shift + theta_scale * softplus(raw)`` (K), floored at ``THETA_FLOOR``."""
        theta = self.config.theta_shift + self.config.theta_scale * nn.functional.softplus(raw)
        return theta.clamp_min(THETA_FLOOR)

    def compute_theta(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor, ModelOutput]:
        """(theta [B] in K, raw [B], encoder output)."""
        outputs, cls = self._encode_cls(input_ids, attention_mask, **kwargs)
        raw = self.head(cls).squeeze(-1)
        return self.theta_from_raw(raw), raw, outputs

    def _temperature(self, temperature, like: torch.Tensor) -> torch.Tensor:
        if temperature is None:
            temperature = self.config.debye_temperature
        return torch.as_tensor(temperature, dtype=like.dtype, device=like.device)

    @staticmethod
    def _n_atoms(n_atoms, like: torch.Tensor) -> torch.Tensor:
        if n_atoms is None:
            raise ValueError("CloudForDebye needs n_atoms (atoms per cell, shape [B])")
        return torch.as_tensor(n_atoms, device=like.device).to(like.dtype)

    def debye(
        self, theta: torch.Tensor, n_atoms, temperature=None, target: str | None = None
    ) -> torch.Tensor:
        """Cv or U (``target``, default ``config.debye_target``) for given theta [B]."""
        physics = _physics()
        target = target or self.config.debye_target
        fn = physics.DEBYE_FUNCTIONS[target]
        return fn(self._temperature(temperature, theta), theta, self._n_atoms(n_atoms, theta))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        n_atoms: torch.Tensor | None = None,
        temperature: float | torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        label_theta: torch.Tensor | None = None,
        **kwargs,
    ) -> CloudDebyeOutput:
        """``n_atoms`` [B] (required); ``temperature`` scalar (default
        ``config.debye_temperature``) or [T]; ``labels`` shaped like the predictions, in
        original units; ``label_theta`` [B]: the Θ (K) each label implies, for the
        ``log_theta`` loss (computed from ``labels`` when not given; NaN: none)."""
        if n_atoms is None:
            raise ValueError("CloudForDebye needs n_atoms (atoms per cell, shape [B])")
        theta, raw, outputs = self.compute_theta(input_ids, attention_mask, **kwargs)
        # The Debye integral runs in float32 at least (bf16/fp16 quadrature is too coarse).
        work = theta.float() if theta.dtype in (torch.float16, torch.bfloat16) else theta
        predictions = self.debye(work, n_atoms, temperature)
        loss = None
        if labels is not None:
            loss = self.loss(predictions, work, labels, n_atoms, temperature, label_theta)
        return CloudDebyeOutput(
            loss=loss,
            theta=theta,
            predictions=predictions,
            raw=raw,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )

    def loss(self, predictions, theta, labels, n_atoms, temperature=None, label_theta=None):
        """The training loss of ``config.debye_loss`` (see the module docstring)."""
        target = labels.to(predictions).reshape(predictions.shape)
        std = self.config.target_std
        std = float(std[0] if isinstance(std, list) else std)
        value_sq = ((predictions - target) / std) ** 2
        if self.config.debye_loss == "value":
            return value_sq.mean()
        if predictions.dim() != 1:
            raise ValueError("the log_theta loss needs one label per row (a scalar temperature)")
        if label_theta is None:
            from cloud.debye.inverse import theta_from_value_tensor

            label_theta = theta_from_value_tensor(
                labels, self._n_atoms(n_atoms, theta), self.config.debye_target,
                float(self._temperature(temperature, theta)))
        label_theta = label_theta.to(theta).reshape(theta.shape)
        has_theta = torch.isfinite(label_theta) & (label_theta > 0)
        safe = torch.where(has_theta, label_theta, torch.ones_like(label_theta))
        log_sq = ((theta.log() - safe.log()) / float(self.config.theta_log_std)) ** 2
        return torch.where(has_theta, log_sq, value_sq).mean()

    def predict_curves(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        n_atoms: torch.Tensor,
        temperatures: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(theta [B], Cv [B, T], U [B, T]) over ``temperatures`` [T] (K).

        Keeps autograd (the Debye model is differentiable); wrap in ``torch.no_grad()`` and
        call ``eval()`` for plain inference.
        """
        theta, _, _ = self.compute_theta(input_ids, attention_mask)
        work = theta.float() if theta.dtype in (torch.float16, torch.bfloat16) else theta
        temps = self._temperature(temperatures, work).reshape(-1)
        cv = self.debye(work, n_atoms, temps, target="cv")
        u = self.debye(work, n_atoms, temps, target="u")
        return theta, cv, u


__all__ = ["THETA_FLOOR", "CloudDebyeOutput", "CloudForDebye"]
