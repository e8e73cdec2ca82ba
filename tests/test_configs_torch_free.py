"""Configuration modules are torch-free, as in transformers: a config loads, and its checks run, without torch.

A ``configuration_*.py`` file in nlpseq/models may import, when it is imported, the standard library,
transformers' config class and torch-free siblings: never torch, another transformers module (most of them import
torch), or a model-side sibling (``modeling_*``, ``transformer_blocks``, ``recurrent``...), directly or through a
chain of sibling imports. Imports inside a function body run only when it is called and are not followed:
``configuration_checks.check_activation`` reads transformers' activation table that way, and skips the check
when torch is missing.
"""

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[1] / "nlpseq" / "models"
#: what a config module may take from transformers: names of ``from transformers import ...``, and submodules
TRANSFORMERS_CONFIG_NAMES = {"PretrainedConfig", "PreTrainedConfig"}
TRANSFORMERS_CONFIG_MODULES = {"transformers.configuration_utils"}
#: sibling modules that are model code by name (their torch imports are caught anyway; this names them early)
MODEL_SIDE_PREFIXES = ("modeling_", "transformer_blocks", "recurrent", "attention", "positions", "adaptive_softmax",
                       "generation_checks", "heads", "seq2seq_utils", "speedups")


def import_time_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported: everything but function bodies."""
    found, queue = [], list(tree.body)
    while queue:
        node = queue.pop(0)                          # source order, for readable messages
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        queue.extend(ast.iter_child_nodes(node))
    return found


def scan(path: Path) -> tuple[list[str], list[str]]:
    """``(forbidden imports, sibling modules imported)`` of one file, at import time."""
    forbidden, siblings = [], []
    for node in import_time_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            siblings += [node.module] if node.module else [alias.name for alias in node.names]
            continue
        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
        for module in modules:
            top = module.split(".")[0]
            if top == "torch":
                forbidden.append(f"import of {module}")
            elif top == "transformers" and not _config_only(node, module):
                forbidden.append(f"import of {module} (only PretrainedConfig / transformers.configuration_utils)")
    return forbidden, siblings


def _config_only(node: ast.Import | ast.ImportFrom, module: str) -> bool:
    if isinstance(node, ast.Import):
        return False
    if module == "transformers":
        return {alias.name for alias in node.names} <= TRANSFORMERS_CONFIG_NAMES
    return module in TRANSFORMERS_CONFIG_MODULES


def offenders(folder: Path) -> tuple[list[str], dict[str, set[str]]]:
    """Every problem of every ``configuration_*.py`` in ``folder``, with the sibling chain that leads to it, and
    each config module's set of (transitively) imported siblings."""
    problems, closures = [], {}
    for path in sorted(folder.glob("configuration_*.py")):
        seen, queue = set(), [(path.stem, [path.stem])]
        while queue:
            name, chain = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            where = " -> ".join(chain)
            if name.startswith(MODEL_SIDE_PREFIXES):
                problems.append(f"{where}: a model-side module")
            file = folder / f"{name}.py"
            if not file.exists():
                problems.append(f"{where}: no such sibling")
                continue
            forbidden, siblings = scan(file)
            problems += [f"{where}: {problem}" for problem in forbidden]
            queue += [(sibling, [*chain, sibling]) for sibling in siblings]
        closures[path.stem] = seen - {path.stem}
    return problems, closures


def test_configuration_modules_import_no_torch_and_no_model_code():
    problems, closures = offenders(MODELS)
    assert len(closures) >= 8  # the scan saw the config files (a moved folder fails here)
    assert "configuration_transformer" in closures["configuration_decoder"]  # sibling chains were followed
    assert {"configuration_checks", "errors"} <= closures["configuration_decoder"]
    assert not problems, "configuration modules that are not torch-free:\n" + "\n".join(problems)


def test_the_scan_follows_sibling_chains_and_skips_function_bodies(tmp_path):
    (tmp_path / "configuration_a.py").write_text("from .helper import x\n\n\ndef lazy():\n    import torch\n")
    (tmp_path / "helper.py").write_text("from .deeper import y\nx = 1\n")
    (tmp_path / "deeper.py").write_text("import torch.nn\nfrom transformers.activations import ACT2FN\ny = 2\n")
    (tmp_path / "configuration_b.py").write_text("from transformers import PretrainedConfig\n"
                                                 "from .modeling_b import Model\n")
    (tmp_path / "modeling_b.py").write_text("Model = None\n")
    problems, _ = offenders(tmp_path)
    assert problems == [
        "configuration_a -> helper -> deeper: import of torch.nn",
        "configuration_a -> helper -> deeper: import of transformers.activations (only PretrainedConfig / "
        "transformers.configuration_utils)",
        "configuration_b -> modeling_b: a model-side module",
    ]


CONSTRUCT_WITHOUT_TORCH = textwrap.dedent("""
    import importlib, inspect, sys
    sys.modules["torch"] = None                      # any `import torch` now raises ImportError
    sys.path.insert(0, sys.argv[1])
    try:
        from transformers import PretrainedConfig
        PretrainedConfig()
    except Exception as error:                       # a limit of transformers, not of nlpseq
        print("SKIP transformers needs torch for its own config class:", error)
        sys.exit(0)
    for name in sys.argv[2:]:
        module = importlib.import_module("copied_models." + name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, PretrainedConfig) and value.__module__ == module.__name__:
                value()                              # defaults pass every check (the activation one is skipped)
                print("built", value.__name__)
""")


def test_configs_import_and_build_where_torch_cannot_be_imported(tmp_path):
    copy = tmp_path / "copied_models"                # the folder as a Hub repo gets it: no nlpseq package around
    copy.mkdir()
    for path in MODELS.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copyfile(path, copy / path.name)
    (copy / "__init__.py").write_text("")
    names = sorted(path.stem for path in MODELS.glob("configuration_*.py"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, "-c", CONSTRUCT_WITHOUT_TORCH, str(tmp_path), *names], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIP")]
    if skipped:
        pytest.skip(skipped[0])
    built = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("built ")}
    assert {"TransformerConfig", "DecoderConfig", "EncoderConfig", "TransformerSeq2SeqConfig", "RecurrentConfig",
            "RecurrentSeq2SeqConfig", "BowConfig", "SkipGramConfig", "SelectiveSSMConfig"} <= built, result.stdout


def test_moved_names_keep_their_old_import_paths():
    from nlpseq.models import (
        configuration_recurrent,
        configuration_transformer,
        positions,
        recurrent,
        transformer_blocks,
    )

    assert transformer_blocks.TransformerConfig is configuration_transformer.TransformerConfig
    assert transformer_blocks.NORM_POSITIONS is configuration_transformer.NORM_POSITIONS
    assert positions.POSITION_EMBEDDING_TYPES is configuration_transformer.POSITION_EMBEDDING_TYPES
    for name in ("RNN_IMPLEMENTATIONS", "check_cell", "check_implementation"):
        assert getattr(recurrent, name) is getattr(configuration_recurrent, name)
    assert set(recurrent.CELLS) == set(configuration_recurrent.RNN_CELLS)


@pytest.mark.parametrize("family", ["EncoderConfig", "DecoderConfig", "TransformerSeq2SeqConfig", "BowConfig"])
def test_an_unknown_activation_is_still_refused_where_torch_is_installed(family):
    import nlpseq.models
    from nlpseq.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="hidden_act='nope' is unknown"):
        getattr(nlpseq.models, family)(hidden_act="nope")
