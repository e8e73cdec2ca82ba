"""The quality runs' argument files are valid recipe arguments, and the runner's clock and goal arithmetic hold.

The runs themselves read public datasets outside the repository and take minutes, so they are commands
(``python -m benchmarks.quality.run``), not tests.
"""

from types import SimpleNamespace

import pytest
from transformers import EarlyStoppingCallback, Seq2SeqTrainingArguments, TrainingArguments

from benchmarks.quality.lever_early_stopping import stop_index
from benchmarks.quality.lever_ema import WeightAverages
from benchmarks.quality.run import RUN_DIR, TARGETS, EvalClock, Target, argument_file, time_to_goal
from nlpseq.presets import run_defaults
from nlpseq.training import DataArguments, ModelArguments, parse_args

TASKS = {"pretrain_clm": "clm", "pretrain_mlm": "mlm", "finetune_classification": "classification",
         "finetune_translation": "translation"}


#: every argument file and its recipe: the targets', and the pretraining stages some targets run first
RECIPES = {**{name: t.recipe for name, t in TARGETS.items()},
           **{t.pretrain[1]: t.pretrain[0] for t in TARGETS.values() if t.pretrain}}


def test_every_argument_file_has_a_target_and_every_target_a_file():
    assert sorted(p.stem for p in RUN_DIR.glob("*.yaml")) == sorted(RECIPES)
    assert not set(TARGETS) & {t.pretrain[1] for t in TARGETS.values() if t.pretrain}  # a stage is not a target


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_argument_files_parse_as_recipe_arguments(name, tmp_path):
    path, values = argument_file(name, tmp_path)  # the data path rewritten into tmp_path
    assert str(tmp_path) in values["dataset_name"]
    task = TASKS[RECIPES[name]]
    training = Seq2SeqTrainingArguments if task == "translation" else TrainingArguments
    model_args, data_args, training_args = parse_args(ModelArguments, DataArguments, training, argv=[str(path)],
                                                      task=task)
    assert data_args.dataset_name == values["dataset_name"]
    # the file's rate, else its preset's (fine-tuning values from a checkpoint): the value the run trains at
    preset = run_defaults(values["model_family"], task, model_args.config_name, values.get("model_name_or_path"))
    assert training_args.learning_rate == values.get("learning_rate", preset["learning_rate"])
    assert training_args.report_to == []
    assert training_args.output_dir.startswith("runs/quality/")


def test_time_to_goal_is_the_first_evaluation_that_meets_it():
    target = Target("pretrain_clm", "d", "m", "eval_loss", "loss", 1.9, False, "")
    points = [{"train_seconds": 10, "eval_loss": 2.5}, {"train_seconds": 20, "eval_loss": 1.89},
              {"train_seconds": 30, "eval_loss": 1.95}, {"train_seconds": 40, "eval_loss": 1.8}]
    assert time_to_goal(points, target) == 20
    assert time_to_goal(points[:1], target) is None
    higher = Target("x", "d", "m", "eval_accuracy", "acc", 0.8, True, "")
    assert time_to_goal([{"train_seconds": 5, "eval_accuracy": 0.7}, {"train_seconds": 9, "eval_accuracy": 0.8}],
                        higher) == 9


def test_the_clock_leaves_evaluation_time_out(monkeypatch):
    now = iter([100.0, 110.0, 130.0])
    monkeypatch.setattr("benchmarks.quality.run.time.perf_counter", lambda: next(now))
    clock, state = EvalClock(), SimpleNamespace(global_step=5)
    clock.on_train_begin(None, state, None)
    clock.on_evaluate(None, state, None, metrics={"eval_runtime": 4.0, "eval_loss": 2.0})
    state.global_step = 9
    clock.on_evaluate(None, state, None, metrics={"eval_runtime": 6.0, "eval_loss": 1.5})
    assert [p["train_seconds"] for p in clock.points] == [6.0, 20.0]  # 10 - 4, then 30 - 4 - 6
    assert [p["step"] for p in clock.points] == [5, 9]


@pytest.mark.parametrize("patience, threshold", [(1, 0.0), (2, 0.0), (3, 0.0), (2, 0.05)])
def test_the_early_stopping_replay_stops_where_transformers_callback_does(patience, threshold):
    """``lever_early_stopping.stop_index`` against ``EarlyStoppingCallback`` itself, fed the same validation losses
    with the Trainer's bookkeeping (the best metric is updated after the callbacks see an evaluation)."""
    losses = [3.0, 2.5, 2.6, 2.45, 2.47, 2.2, 2.21, 2.3, 2.4, 2.19, 2.5, 2.6, 2.7]
    callback = EarlyStoppingCallback(patience, threshold)
    args = SimpleNamespace(greater_is_better=False, metric_for_best_model="eval_loss")
    state, control, stopped = SimpleNamespace(best_metric=None), SimpleNamespace(should_training_stop=False), None
    for i, loss in enumerate(losses):
        callback.on_evaluate(args, state, control, {"eval_loss": loss})
        state.best_metric = loss if state.best_metric is None else min(state.best_metric, loss)
        if control.should_training_stop:
            stopped = i
            break
    assert stop_index(losses, patience, threshold) == (len(losses) - 1 if stopped is None else stopped)
    assert stopped is not None and stopped < len(losses) - 1  # the sequence makes every case stop early


def test_the_ema_lever_measures_the_trained_and_the_averaged_weights_alike(tmp_path):
    """lever_ema's validation loss is the Trainer's ``eval_loss``; an average of decay 0 is the trained weights at
    every evaluation, and one of decay 1 never leaves the initial weights (the untrained loss, the same each time)."""
    import pretrain_clm  # recipes/ is on the path (benchmarks.quality.run)

    averages = WeightAverages([0.0, 1.0])
    pretrain_clm.main(["--model_family", "decoder", "--config_name", "tiny", "--block_size", "32",
                       "--max_train_samples", "200", "--max_eval_samples", "40", "--max_predict_samples", "8",
                       "--vocab_size", "400", "--max_steps", "20", "--eval_strategy", "steps", "--eval_steps", "10",
                       "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no", "--seed", "0",
                       "--output_dir", str(tmp_path)], callbacks=[averages])
    assert [p["step"] for p in averages.points] == [10, 20]  # the final evaluation repeats step 20: kept once
    for p in averages.points:
        assert p["trained"] == pytest.approx(p["eval_loss"], rel=1e-5)
        assert p["ema 0"] == pytest.approx(p["trained"], rel=1e-6)
    first, last = averages.points
    assert first["ema 1"] == last["ema 1"] > first["trained"] > last["trained"]
