"""Reproduce the paper: ``python -m lmn_edu.reproduce`` runs its protocol and writes docs/reproduction.md.

    protocol.py   the paper's runs (tasks, seeds, settings), each trained by ``train.train``
    fill.py       LMN measured afterwards from a run's snapshots (deferred runs, a common step grid)
    readings.py   Appendix B's L and LMN under other readings of the paper, on saved params
    summary.py    one run's numbers (phases, peak, turns, linearity) and the verdict criteria
    report.py     docs/reproduction.md and its figures, rebuilt from the run folders
    headline.py   the numbers behind each verdict (covariates, levelling off, phase lags, outcomes)
    split_init.py S4's split × init study (s4_split_init.json)
    precision_study.py   the S4 precision study's runs (float32, float64, the float64-loss remedy)
    precision_report.py  that study read back: its section of the report, its figure, the verdict
    cli.py        the command line (``__main__.py`` calls it)

``python -m lmn_edu.reproduce --from results/paper`` rebuilds the report from the committed run
folders with NumPy and matplotlib only (no torch, no training).
"""
