"""Lesson 01 exercises: the operation table, how commutative it is, and whether it is a group."""
import numpy as np


def operation_table(inputs, labels, vocab_size):
    """★ (5 min) Build the operation table T of a task: T[a, b] = a ∘ b.

    inputs: (N, 2) int token pairs (a, b), in any order, possibly only some of the pairs (a
    training split); labels: (N,) the answers a ∘ b; vocab_size: V, the number of input symbols.
    Return a (V, V) int array with -1 where a pair is missing.
    """
    T = np.full((vocab_size, vocab_size), -1, dtype=int)     # (V, V)
    T[inputs[:, 0], inputs[:, 1]] = labels
    return T


def commuting_pairs(T):
    """★ (5 min) The number of ordered pairs (a, b) with a ∘ b = b ∘ a in the (V, V) table T
    (the diagonal counts). For S4 it is 24 × 5 = 120; for a commutative operation it is V².
    """
    return int(np.sum(T == T.T))


def is_group(T):
    """★★ (20 min) Is the (V, V) int table T, T[a, b] = a ∘ b on the symbols 0 … V−1, a group?

    A group needs all four: closure (every entry is one of the V symbols), an identity e
    (e ∘ a = a ∘ e = a for every a; it need not be symbol 0), an inverse for every element
    (some b with a ∘ b = b ∘ a = e) and associativity ((a ∘ b) ∘ c = a ∘ (b ∘ c) for all
    triples). Return True or False.
    """
    T = np.asarray(T)
    n = len(T)
    if not np.all((T >= 0) & (T < n)):
        return False                                         # closure
    s = np.arange(n)
    identities = [e for e in range(n) if np.array_equal(T[e], s) and np.array_equal(T[:, e], s)]
    if not identities:
        return False
    e = identities[0]
    if not all(np.any((T[a] == e) & (T[:, a] == e)) for a in range(n)):
        return False                                         # an inverse for every a
    left = T[T[:, :, None], s[None, None, :]]                # (V, V, V): (a ∘ b) ∘ c
    right = T[s[:, None, None], T[None, :, :]]               # (V, V, V): a ∘ (b ∘ c)
    return bool(np.array_equal(left, right))
