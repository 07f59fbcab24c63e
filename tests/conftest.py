import os

# One BLAS/OpenMP thread unless the caller says otherwise: the arrays here are small, and
# two threads per process (tests also start subprocesses) measured several times slower on
# a 2-core machine. Set before NumPy is imported; subprocesses inherit it.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


# Tests that take more than about a second each (they train, start subprocesses or run lessons and
# notebooks), measured with `pytest --durations=60`: marked slow here, in one list, so that
# `python -m pytest -m "not slow"` is the quick edit-test loop. The full suite runs them all.
SLOW = {
    "test_cli.py": {"test_run_writes_files_and_summary", "test_divergence_at_an_lmn_step_exit_1",
                    "test_rerun_into_a_run_folder_is_refused_then_overwritten",
                    "test_torch_overflowing_update_is_divergence", "test_ctrl_c_keeps_what_was_measured",
                    "test_a_layer_named_twice_is_measured_once", "test_cuda_absent",
                    "test_divergence_exit_1_and_history_kept", "test_ctrl_c_during_start_up",
                    "test_two_runs_at_once_into_one_folder"},
    "test_lessons.py": {"test_lesson_runs_in_quick_mode", "test_quick_mode_reads_the_committed_run_and_gives_verdicts",
                        "test_lesson_runs_without_torch"},
    "test_notebooks.py": "all",
    "test_fresh_install.py": "all",
    "test_rundir.py": {"test_reproduce_from_writes_nothing_into_its_folder"},
    "test_torch_backend.py": {"test_train_histories_agree", "test_cli_several_tasks_and_seeds",
                              "test_200_steps_same_trajectory"},
    "test_train.py": {"test_same_seed_same_numbers", "test_lmn_points_and_layers",
                      "test_a_folder_holding_a_run_is_refused_unless_overwrite", "test_a_row_cut_short_is_skipped_when_read",
                      "test_short_run_writes_history_and_config", "test_lmn_snapshots_follow_the_lmn_schedule",
                      "test_a_folder_being_written_is_refused"},
    "test_reproduce.py": {"test_fill_grid_retrains_identically_and_fills"},
    "test_monitor.py": {"test_docs_worked_examples_run"},
    "test_grader.py": {"test_every_attack_is_one_line_and_not_passed",
                       "test_a_seed_replays_the_cases_and_another_seed_draws_new_ones"},
    "test_course.py": {"test_solutions_pass", "test_stubs_fail", "test_cli_exit_codes_from_the_lessons_folder"},
    "test_mlp_lmn.py": {"test_peak_memory_does_not_grow_with_pairs"},
    "test_adamw.py": {"test_matches_torch_adamw_100_steps"},
    "test_benchmarks.py": {"test_bench_lmn", "test_bench_step"},
}


def pytest_collection_modifyitems(config, items):
    import pytest
    for item in items:
        names = SLOW.get(item.path.name, ())
        if names == "all" or item.originalname in names:
            item.add_marker(pytest.mark.slow)
