"""Lesson 01 exercises: the operation table, and how commutative it is."""
import numpy as np


def operation_table(inputs, labels, vocab_size):
    """Build the operation table T of a task: T[a, b] = a ∘ b.

    inputs: (N, 2) int token pairs (a, b), in any order; labels: (N,) the answers a ∘ b;
    vocab_size: V, the number of input symbols. Return a (V, V) int array.
    """
    T = np.full((vocab_size, vocab_size), -1, dtype=int)     # (V, V)
    T[inputs[:, 0], inputs[:, 1]] = labels
    return T


def commuting_pairs(T):
    """The number of ordered pairs (a, b) with a ∘ b = b ∘ a in the table T (the diagonal counts).

    For S4 it is 24 × 5 = 120; for a commutative operation it is V².
    """
    return int(np.sum(T == T.T))
