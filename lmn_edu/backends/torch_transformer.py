"""The transformer of lmn_edu/transformer.py in torch: the same params layout, the same maths.

Written apart from the NumPy model (torch's own softmax, einsum and relu), so that agreement
between the two means something; tests/test_transformer.py compares forward, gradients and a
training history in float64. Tensors in, tensors out; ``p`` is a dict of tensors.
"""
import torch

N_CTX = 3


def embed(p, inputs):
    """(N, 2) token tensor -> the residual stream after embedding, (N, 3, d)."""
    eq = torch.full((len(inputs), 1), p["W_E"].shape[0] - 1, dtype=inputs.dtype, device=inputs.device)
    return p["W_E"][torch.cat([inputs, eq], dim=1)] + p["W_pos"]


def attention(p, x, n_heads):
    """x (M, 3, d) -> the attention output at "=" (M, d): the "=" query over the three positions."""
    M, T, d = x.shape
    dh = d // n_heads
    q = (x[:, -1] @ p["W_Q"]).view(M, n_heads, dh)                       # (M, H, dh)
    k = (x @ p["W_K"]).view(M, T, n_heads, dh)                           # (M, T, H, dh)
    v = (x @ p["W_V"]).view(M, T, n_heads, dh)
    a = torch.softmax(torch.einsum("mhe,mthe->mht", q, k) / dh ** 0.5, dim=-1)   # (M, H, T)
    z = torch.einsum("mht,mthe->mhe", a, v).reshape(M, d)               # (M, H·dh)
    return z @ p["W_O"]


def attn(p, x, n_heads):
    """Flattened emb (M, 3·d) -> the residual stream at "=" after attention (M, d)."""
    x = x.view(len(x), N_CTX, -1)
    return x[:, -1] + attention(p, x, n_heads)


def mlp(p, r):
    return r + torch.relu(torch.addmm(p["b_in"], r, p["W_in"])) @ p["W_out"] + p["b_out"]


def logits(p, r):
    return r @ p["W_U"]


# The stages after the embedding, by the representation they produce (transformer.stages' order).
STAGE_FNS = {
    "attn": attn,
    "mlp": lambda p, r, n_heads: mlp(p, r),
    "logits": lambda p, r, n_heads: logits(p, r),
    "probs": lambda p, r, n_heads: torch.softmax(r, dim=-1),
}
ORDER = ("emb", "attn", "mlp", "logits", "probs")


def representations(p, inputs, n_heads, output="logits"):
    """emb (N, 3·d), attn, mlp (N, d), logits (and probs), as transformer.representations."""
    x = embed(p, inputs).reshape(len(inputs), -1)
    reps = {"emb": x}
    for name in ORDER[1:ORDER.index(output) + 1]:
        x = reps[name] = STAGE_FNS[name](p, x, n_heads)
    return reps


def forward(p, inputs, n_heads):
    r = attn(p, embed(p, inputs).reshape(len(inputs), -1), n_heads)
    return logits(p, mlp(p, r))


def tail_stages(p, layer, n_heads, output="logits"):
    """The tail from ``layer`` as engine stages, as transformer.tail_stages: attention and MLP
    (each with its residual) as ("fn", …), the unembedding ("affine", W_U, None)."""
    out = [("fn", lambda x: attn(p, x, n_heads)), ("fn", lambda r: mlp(p, r)), ("affine", p["W_U"], None)]
    if output == "probs":
        out.append(("softmax",))
    return out[ORDER.index(layer):]

