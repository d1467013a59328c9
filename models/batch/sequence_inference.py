"""SASRec's forward pass for one sequence at serving time, in numpy: the same arithmetic as the
torch network in eval mode (pre-norm transformer layers, causal self-attention, ReLU feed-forward),
without torch's per-operator overhead. It computes the left padding's states once (they are the
same in every sequence), and the last layer for the last position only (the one a score needs):
about 0.2 ms per request instead of 0.9 ms.

>>> import torch
>>> from models.batch.sequence import _Network
>>> net = _Network(n_items=30, dim=8, max_len=6, layers=2, heads=2, dropout=0.0).eval()
>>> ids = np.array([0, 0, 3, 7, 1, 9])
>>> with torch.no_grad():
...     expected = net(torch.from_numpy(ids)[None])[0, -1].numpy()
>>> bool(np.allclose(LastState(net)(ids), expected, atol=1e-5))
True
"""

from __future__ import annotations

import numpy as np


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    scale = 1.0 / x.shape[-1]  # sums, not np.mean: its Python wrapper was a third of the forward pass
    centred = x - x.sum(-1, keepdims=True) * scale
    var = (centred * centred).sum(-1, keepdims=True) * scale
    return centred / np.sqrt(var + eps) * weight + bias


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class _Layer:
    """One ``nn.TransformerEncoderLayer`` (``norm_first=True``, ReLU) as float32 arrays."""

    def __init__(self, layer):
        def a(t):
            return t.detach().numpy().astype(np.float32)

        attention = layer.self_attn
        self.heads = attention.num_heads
        self.in_w, self.in_b = a(attention.in_proj_weight).T, a(attention.in_proj_bias)
        self.out_w, self.out_b = a(attention.out_proj.weight).T, a(attention.out_proj.bias)
        self.ff1_w, self.ff1_b = a(layer.linear1.weight).T, a(layer.linear1.bias)
        self.ff2_w, self.ff2_b = a(layer.linear2.weight).T, a(layer.linear2.bias)
        self.norm1 = (a(layer.norm1.weight), a(layer.norm1.bias), layer.norm1.eps)
        self.norm2 = (a(layer.norm2.weight), a(layer.norm2.bias), layer.norm2.eps)

    def keys_values(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dim = x.shape[1]
        qkv = _layer_norm(x, *self.norm1) @ self.in_w + self.in_b
        return qkv[:, :dim], qkv[:, dim : 2 * dim], qkv[:, 2 * dim :]

    def __call__(
        self, x: np.ndarray, k_before: np.ndarray, v_before: np.ndarray, mask: np.ndarray, last_only: bool
    ) -> np.ndarray:
        """``x``: (m, dim), the last m positions' states; ``k_before``, ``v_before``: the keys and
        values of the positions before them; ``mask``: (m, all positions), additive and causal.
        ``last_only``: return the last position alone (nothing later needs the others)."""
        dim = x.shape[1]
        head = dim // self.heads
        q, k, v = self.keys_values(x)
        k, v = np.concatenate([k_before, k]), np.concatenate([v_before, v])
        if last_only:
            q, mask, x = q[-1:], mask[-1:], x[-1:]
        length = len(k)
        q = q.reshape(len(q), self.heads, head).transpose(1, 0, 2)
        k = k.reshape(length, self.heads, head).transpose(1, 2, 0)
        v = v.reshape(length, self.heads, head).transpose(1, 0, 2)
        weights = _softmax(q @ k / np.sqrt(np.float32(head)) + mask)
        attended = (weights @ v).transpose(1, 0, 2).reshape(len(x), dim)
        x = x + attended @ self.out_w + self.out_b
        hidden = np.maximum(_layer_norm(x, *self.norm2) @ self.ff1_w + self.ff1_b, 0.0)
        return x + hidden @ self.ff2_w + self.ff2_b


class LastState:
    """The network's final hidden state at the last position of one left-padded id sequence."""

    def __init__(self, network):
        self.items = network.items.weight.detach().numpy().astype(np.float32)
        self.positions = network.positions.weight.detach().numpy().astype(np.float32)
        self.layers = [_Layer(layer) for layer in network.encoder.layers]
        self.norm = (
            network.norm.weight.detach().numpy().astype(np.float32),
            network.norm.bias.detach().numpy().astype(np.float32),
            network.norm.eps,
        )
        n = len(self.positions)
        self.mask = np.where(np.triu(np.ones((n, n), dtype=bool), 1), -np.inf, 0.0).astype(np.float32)
        # Causality: the left padding's states are the same in every sequence, so its keys and
        # values are computed once, from the all-padding sequence, layer by layer.
        self.padding: list[tuple[np.ndarray, np.ndarray]] = []
        x, none = self.items[0] + self.positions, np.empty((0, self.items.shape[1]), np.float32)
        for layer in self.layers:
            _, k, v = layer.keys_values(x)
            self.padding.append((k, v))
            x = layer(x, none, none, self.mask, last_only=False)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """``ids``: left-padded (0) item ids, at most the network's length; at least one not 0."""
        length = len(ids)
        p = int(np.argmax(ids != 0))  # padding positions before the first item
        x = self.items[ids[p:]] + self.positions[p:length]
        mask = self.mask[p:length, :length]
        for n, layer in enumerate(self.layers):
            k, v = self.padding[n]
            x = layer(x, k[:p], v[:p], mask, last_only=n == len(self.layers) - 1)
        return _layer_norm(x[-1], *self.norm)
