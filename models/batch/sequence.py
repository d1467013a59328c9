"""A SASRec-style next-item model (Kang & McAuley, 2018) in PyTorch, CPU-sized.

Causal self-attention over the last ``max_len`` items of a history; item embeddings are tied
with the output layer; trained with sampled softmax on every next item (the true next item
against ``negatives`` items drawn per batch in proportion to popularity^0.75; full softmax over
9k items cost 13 s per epoch on ML latest-small here), with the logQ correction so that scores
approximate the full softmax. It scores a history against the whole
vocabulary like the other generators.

>>> import pandas as pd
>>> rows = [(f"u{u}", f"i{(u + t) % 6}", t) for u in range(30) for t in range(6)]
>>> df = pd.DataFrame(rows, columns=["user_id", "item_id", "t"]).assign(
...     timestamp=lambda d: pd.to_datetime(d["t"], unit="h", utc=True))
>>> from models.batch.generators import Vocabulary
>>> vocab = Vocabulary.from_frame(df)
>>> model = SASRec(dim=16, epochs=100, lr=1e-2, seed=0).fit(df, vocab)
>>> [vocab.items[int(model.score(h).argmax())] for h in (["i1", "i2", "i3"], ["i3", "i4"])]  # i0 -> i1 -> ... -> i5
['i4', 'i5']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from models.batch.generators import Vocabulary
from models.batch.sequence_inference import LastState


class _Network(nn.Module):
    def __init__(self, n_items: int, dim: int, max_len: int, layers: int, heads: int, dropout: float):
        super().__init__()
        self.items = nn.Embedding(n_items + 1, dim, padding_idx=0)  # 0 = padding
        nn.init.normal_(self.items.weight, std=0.02)  # rarely sampled items must not score by chance
        self.items.weight.data[0] = 0.0
        self.positions = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=dim * 2, dropout=dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("causal", torch.triu(torch.ones(max_len, max_len, dtype=torch.bool), diagonal=1))

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """(batch, length) item ids -> (batch, length, dim) hidden states."""
        length = sequences.shape[1]
        x = self.items(sequences) + self.positions(torch.arange(length, device=sequences.device))
        x = self.encoder(self.dropout(x), mask=self.causal[:length, :length], is_causal=True)
        return self.norm(x)

    def logits(self, hidden: torch.Tensor, items: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of ``items`` (default: all) for each hidden state."""
        weights = self.items.weight if items is None else self.items(items)
        return hidden @ weights.T


class SASRec:
    name = "sasrec"

    def __init__(
        self,
        dim: int = 64,
        max_len: int = 50,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.2,
        epochs: int = 10,
        batch_size: int = 128,
        lr: float = 3e-3,
        negatives: int = 256,
        seed: int = 0,
    ):
        self.params = dict(
            dim=dim,
            max_len=max_len,
            layers=layers,
            heads=heads,
            dropout=dropout,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            negatives=negatives,
            seed=seed,
        )

    def fit(self, df: pd.DataFrame, vocab: Vocabulary, progress=None) -> SASRec:
        p = self.params
        torch.manual_seed(p["seed"])
        self.vocab = vocab
        self.network = _Network(len(vocab), p["dim"], p["max_len"], p["layers"], p["heads"], p["dropout"])
        self._numpy = None
        windows = self._windows(df)
        if len(windows) == 0:
            return self
        optimiser = torch.optim.Adam(self.network.parameters(), lr=p["lr"])
        generator = torch.Generator().manual_seed(p["seed"])
        counts = torch.bincount(windows.flatten(), minlength=len(vocab) + 1).float()
        counts[0] = 0.0
        sampling = counts.pow(0.75)
        self._log_q = torch.log(sampling / sampling.sum() * p["negatives"] + 1e-12)  # logQ correction
        self.network.train()
        for epoch in range(p["epochs"]):
            order = torch.randperm(len(windows), generator=generator)
            total = 0.0
            for start in range(0, len(windows), p["batch_size"]):
                batch = windows[order[start : start + p["batch_size"]]]
                loss = self._sampled_loss(batch, sampling, generator)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(batch)
            if progress is not None:
                progress(epoch + 1, p["epochs"], total / len(windows))
        self.network.eval()
        return self

    def _sampled_loss(self, batch: torch.Tensor, sampling: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        hidden = self.network(batch[:, :-1])
        targets = batch[:, 1:]
        keep = targets != 0
        hidden, targets = hidden[keep], targets[keep]
        negatives = torch.multinomial(sampling, self.params["negatives"], replacement=True, generator=generator)
        positive = (hidden * self.network.items(targets)).sum(-1, keepdim=True) - self._log_q[targets].unsqueeze(1)
        negative = self.network.logits(hidden, negatives) - self._log_q[negatives].unsqueeze(0)
        negative = negative.masked_fill(negatives.unsqueeze(0) == targets.unsqueeze(1), float("-inf"))
        logits = torch.cat([positive, negative], dim=1)
        return nn.functional.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))

    def _windows(self, df: pd.DataFrame) -> torch.Tensor:
        """Each user's sequence cut into windows of ``max_len + 1`` (left-padded with 0)."""
        length = self.params["max_len"] + 1
        known = df[df["item_id"].isin(self.vocab.index)].sort_values("timestamp", kind="stable")
        rows = []
        for items in known.groupby("user_id", sort=False)["item_id"]:
            ids = [self.vocab.index[i] + 1 for i in items[1]]
            for end in range(len(ids), 1, -(length - 1)):
                window = ids[max(0, end - length) : end]
                rows.append([0] * (length - len(window)) + window)
        return torch.tensor(rows, dtype=torch.long) if rows else torch.empty((0, length), dtype=torch.long)

    def score(self, history: Sequence[str]) -> np.ndarray:
        if not hasattr(self, "network"):
            return np.zeros(len(self.vocab), dtype=np.float32)
        ids = [self.vocab.index[i] + 1 for i in history if i in self.vocab.index][-self.params["max_len"] :]
        if not ids:
            return np.zeros(len(self.vocab), dtype=np.float32)
        padded = np.array([0] * (self.params["max_len"] - len(ids)) + ids)  # positions as in training (left-padded)
        last = self._last_state()
        return (last.items[1:] @ last(padded)).astype(np.float32, copy=False)

    def _last_state(self) -> LastState:
        """The eval-mode network in numpy (built once per trained or loaded model)."""
        if getattr(self, "_numpy", None) is None:
            self._numpy = LastState(self.network)
        return self._numpy

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_numpy", None)
        if "network" in state:
            state["network"] = self.network.state_dict()
        return state

    def __setstate__(self, state):
        weights = state.pop("network", None)
        self.__dict__.update(state)
        if weights is not None:
            p = self.params
            self.network = _Network(len(self.vocab), p["dim"], p["max_len"], p["layers"], p["heads"], p["dropout"])
            self.network.load_state_dict(weights)
            self.network.eval()
