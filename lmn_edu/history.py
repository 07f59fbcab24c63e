"""A run's history: its rows, appended to the run folder as they are measured, and read back.

The run folder and every file in it belong to rundir.py, which writes and checks them; these
are the names the rest of the project (and a researcher's own training loop) uses:

    h = History(run_dir, config_dict, columns)    # config.json written, history files opened
    h.append(row)                                 # one row per evaluation, on disk at once
    h.finish()  or  h.close()                     # reached the end (finished.json)  or  stopped
    config, rows = load_run(run_dir)              # checked: one line naming the file and field
"""
from .rundir import (BASE_COLUMNS, PAPER_RESULTS, RUN_FILES, RUN_FOLDERS, History, RunFolder,  # noqa: F401
                     _AppendFile, finished, load_params, load_run, rewrite_rows, save_params,
                     snapshot_path, write_atomic)


def load_history(path):
    """The rows of a run folder (see load_run)."""
    return load_run(path)[1]
