"""The CLOUD authors' training path, rebuilt for speed comparisons (not used by the suite).

What their release does (``/work/shared/reference/cloud_authors/README.md``): a HF
``BertModel``, the ``[CLS]`` vector into ``Dropout -> Linear(h, h) -> SiLU -> Linear(h, 1)``,
every sequence padded to 64 tokens, a plain PyTorch loop (shuffled ``DataLoader``, AdamW,
one scheduler step per batch). Strings are tokenised once up front here (their code
tokenises per item), which only flatters this path.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

PADDED_LENGTH = 64


class PaperRegressor(nn.Module):
    """``BertModel`` + the authors' head (one hidden layer of width h, SiLU), L1 loss."""

    def __init__(self, bert_config):
        super().__init__()
        from transformers import BertModel

        self.bert = BertModel(bert_config, add_pooling_layer=False)
        h = bert_config.hidden_size
        self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(h, h), nn.SiLU(), nn.Linear(h, 1))

    def forward(self, input_ids, attention_mask):
        cls = self.bert(input_ids, attention_mask=attention_mask).last_hidden_state[:, 0]
        return self.head(cls).squeeze(-1)


def padded_tensors(texts, tokenizer, targets=None) -> TensorDataset:
    """All strings padded to 64 tokens (their ``padding="max_length"``)."""
    enc = tokenizer(list(texts), truncation=True, max_length=PADDED_LENGTH,
                    padding="max_length", return_tensors="pt")
    tensors = [enc["input_ids"], enc["attention_mask"]]
    if targets is not None:
        tensors.append(torch.as_tensor(targets, dtype=torch.float32))
    return TensorDataset(*tensors)


def train_steps(model, dataset: TensorDataset, batch_size: int, steps: int, lr: float = 1e-4,
                device: str = "cpu", dtype=None) -> int:
    """Their loop for ``steps`` batches; returns the number of strings trained on."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    seen = 0
    while seen < steps * batch_size:
        for ids, mask, y in loader:
            ids, mask, y = ids.to(device), mask.to(device), y.to(device)
            with torch.autocast(device_type=device, dtype=dtype or torch.bfloat16,
                                enabled=dtype is not None):
                loss = nn.functional.l1_loss(model(ids, mask).float(), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(ids)
            if seen >= steps * batch_size:
                break
    return seen


@torch.no_grad()
def predict(model, dataset: TensorDataset, batch_size: int, device: str = "cpu",
            dtype=None) -> torch.Tensor:
    """Their prediction loop: batches in order, padded to 64."""
    model.eval()
    out = []
    for ids, mask, *_ in DataLoader(dataset, batch_size=batch_size):
        with torch.autocast(device_type=device, dtype=dtype or torch.bfloat16,
                            enabled=dtype is not None):
            out.append(model(ids.to(device), mask.to(device)).float().cpu())
    return torch.cat(out)
