"""Lesson 13 exercises: the transformer's embedded sequences, its attention from "=", and its LMN.
Run `python -m lmn_edu.course check 13` to check your work.

The params are those of `lmn_edu.transformer.init_params` (see that module's docstring): W_E
(V + 1, d) with the "=" token in the last row, W_pos (3, d), W_Q, W_K, W_V (d, d) with head h in
columns h·d_head … (h + 1)·d_head − 1, W_O (d, d), W_in, b_in, W_out, b_out, W_U.
"""


def embed_sequences(params, inputs):
    """★ (10 min) The points LMN is measured on: the embedded sequences "a b =", flattened, (N, 3·d).

    inputs: (N, 2) token pairs (a, b); the "=" token is id V = params["W_E"].shape[0] − 1.
    Row n is [W_E[a] + W_pos[0], W_E[b] + W_pos[1], W_E[=] + W_pos[2]], concatenated.
    """
    raise NotImplementedError("your turn: see the docstring")


def attention_from_equals(params, x, n_heads):
    """★★ (25 min) The attention output at the "=" position: x (M, 3, d) -> (M, d).

    Per head h (columns h·d_head … of W_Q, W_K, W_V, d_head = d / n_heads): the query of the last
    position q = x[:, 2] W_Q, the keys k_t = x[:, t] W_K and values v_t = x[:, t] W_V of all three
    positions, weights softmax_t(q·k_t / √d_head), z_h = Σ_t weight_t v_t; the heads' z concatenated,
    then @ W_O. (The residual x[:, 2] is NOT added here.)
    """
    raise NotImplementedError("your turn: see the docstring")


def transformer_lmn(params, inputs, n_heads, layer):
    """★★★ (40 min) LMN from ``layer`` ("emb" or "attn") to the logits at "=", on the token pairs ``inputs``.

    The points: the flattened embedded sequences (layer "emb") or the residual stream at "=" after
    attention, x[:, 2] + attention (layer "attn"). The tail: the rest of the network, to the logits
    (you may use lmn_edu.transformer.attention, mlp_block and unembed). Then eq (1)–(3):
    lmn_edu.connectivity_matrix(tail, points) and lmn_edu.linear_mapping_number.
    """
    raise NotImplementedError("your turn: see the docstring")
