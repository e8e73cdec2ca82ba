"""Files in nlpseq/models are copied into Hub repos by save_pretrained: only sibling imports survive that."""

import ast
from pathlib import Path

MODELS = Path(__file__).resolve().parents[1] / "nlpseq" / "models"
ALLOWED = {"torch", "transformers", "math", "dataclasses", "typing", "collections", "functools", "itertools",
           "__future__", "warnings", "os", "json", "copy", "enum", "abc", "inspect", "contextlib", "numbers"}


def test_model_files_import_only_siblings_and_allowed_packages():
    offenders = []
    for path in sorted(MODELS.glob("*.py")):
        if path.name == "__init__.py":  # the registry is never exported
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level > 1 or (node.level == 1 and not node.module):
                    offenders.append(f"{path.name}: from {'.' * node.level}{node.module or ''} import ...")
                elif node.level == 0 and node.module.split(".")[0] not in ALLOWED:
                    offenders.append(f"{path.name}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name}: import {a.name}" for a in node.names
                              if a.name.split(".")[0] not in ALLOWED]
    assert len(list(MODELS.glob("modeling_*.py"))) >= 7  # the scan saw the model files (a moved folder fails here)
    assert not offenders, "non-exportable imports:\n" + "\n".join(offenders)
