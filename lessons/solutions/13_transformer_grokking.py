"""Lesson 13 exercises: the transformer's embedded sequences, its attention from "=", and its LMN."""
import numpy as np

import lmn_edu
from lmn_edu import transformer


def embed_sequences(params, inputs):
    """★ (10 min) The points LMN is measured on: the embedded sequences "a b =", flattened, (N, 3·d)."""
    eq = params["W_E"].shape[0] - 1
    seq = np.column_stack([inputs, np.full(len(inputs), eq)])          # (N, 3) token ids
    return (params["W_E"][seq] + params["W_pos"]).reshape(len(inputs), -1)


def attention_from_equals(params, x, n_heads):
    """★★ (25 min) The attention output at the "=" position: x (M, 3, d) -> (M, d)."""
    M, T, d = x.shape
    dh = d // n_heads
    q = (x[:, -1] @ params["W_Q"]).reshape(M, n_heads, dh)             # (M, H, dh)
    k = (x @ params["W_K"]).reshape(M, T, n_heads, dh)                 # (M, T, H, dh)
    v = (x @ params["W_V"]).reshape(M, T, n_heads, dh)
    s = np.einsum("mhe,mthe->mht", q, k) / np.sqrt(dh)                 # (M, H, T)
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    z = np.einsum("mht,mthe->mhe", w, v).reshape(M, d)
    return z @ params["W_O"]


def transformer_lmn(params, inputs, n_heads, layer):
    """★★★ (40 min) LMN from ``layer`` ("emb" or "attn") to the logits at "=", on the token pairs ``inputs``."""
    d = params["W_E"].shape[1]

    def after_attention(x):                                            # (M, 3·d) -> (M, d)
        x = x.reshape(len(x), 3, d)
        return x[:, -1] + attention_from_equals(params, x, n_heads)

    def to_logits(r):                                                  # (M, d) -> (M, classes)
        return transformer.unembed(params, transformer.mlp_block(params, r))

    X = embed_sequences(params, inputs)
    if layer == "emb":
        tail = lambda x: to_logits(after_attention(x))
    else:
        X, tail = after_attention(X), to_logits
    return lmn_edu.linear_mapping_number(lmn_edu.connectivity_matrix(tail, X))
