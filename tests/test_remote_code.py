"""Hub-style export: the saved folder carries its own code and loads where nlpseq cannot be imported."""

import json
import os
import subprocess
import sys
import textwrap

import torch

from nlpseq.models.configuration_decoder import DecoderConfig
from nlpseq.models.configuration_encoder import EncoderConfig
from nlpseq.models.configuration_ssm import SelectiveSSMConfig
from nlpseq.models.modeling_decoder import DecoderForCausalLM
from nlpseq.models.modeling_encoder import EncoderForMaskedLM
from nlpseq.models.modeling_ssm import SelectiveSSMForCausalLM

TRANSFORMER = dict(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                   position_embedding_type="rotary")
TRANSFORMER_FILES = {"attention.py", "positions.py", "transformer_blocks.py", "configuration_transformer.py",
                     "configuration_checks.py", "heads.py", "speedups.py"}
SSM = dict(vocab_size=40, hidden_size=16, state_size=4, num_hidden_layers=2, chunk_size=4)
#: (model class, config class, Auto class, config values, sibling files the folder must carry)
EXPORTS = [(DecoderForCausalLM, DecoderConfig, "AutoModelForCausalLM", TRANSFORMER, TRANSFORMER_FILES),
           (EncoderForMaskedLM, EncoderConfig, "AutoModelForMaskedLM", TRANSFORMER, TRANSFORMER_FILES),
           (SelectiveSSMForCausalLM, SelectiveSSMConfig, "AutoModelForCausalLM", SSM,
            {"configuration_ssm.py", "configuration_checks.py", "heads.py"})]
NEW_TOKENS = 4  # as FRESH_LOAD generates

FRESH_LOAD = textwrap.dedent("""
    import sys
    sys.modules["nlpseq"] = None                     # any `import nlpseq` now raises ImportError
    import torch
    import transformers
    ids = torch.load(sys.argv[1])
    for folder, auto in zip(sys.argv[2::2], sys.argv[3::2]):
        model = getattr(transformers, auto).from_pretrained(folder, trust_remote_code=True).eval()
        assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
        with torch.no_grad():
            torch.save(model(ids).logits, folder + "/logits.pt")
        if auto == "AutoModelForCausalLM":          # the cache (a decoder's keys and values, an SSM's state)
            torch.save(model.generate(ids[:, :3], max_new_tokens=4, do_sample=False), folder + "/generated.pt")
""")


def export(model_class: type, config_class: type, auto: str, values: dict, folder) -> torch.nn.Module:
    """Save a random model with its source files (``auto_map``), as ``nlpseq.hub`` does."""
    model = model_class(config_class(**values)).eval()
    config_class.register_for_auto_class()
    model_class.register_for_auto_class(auto)
    try:
        model.save_pretrained(folder)
    finally:                                                                 # keep other tests unaffected
        config_class._auto_class = model_class._auto_class = None
    return model


def test_exported_folders_load_with_trust_remote_code(tmp_path):
    models, args = [], []
    for model_class, config_class, auto, values, files in EXPORTS:
        folder = tmp_path / model_class.__name__
        model = export(model_class, config_class, auto, values, folder)
        auto_map = json.loads((folder / "config.json").read_text())["auto_map"]
        assert auto in auto_map and "AutoConfig" in auto_map
        assert files <= {p.name for p in folder.iterdir()}
        models.append((model, folder, auto))
        args += [str(folder), auto]

    ids = torch.randint(3, 40, (2, 7))
    torch.save(ids, tmp_path / "ids.pt")
    script = tmp_path / "elsewhere" / "load.py"
    script.parent.mkdir()
    script.write_text(FRESH_LOAD)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "ids.pt"), *args], cwd=script.parent,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for model, folder, auto in models:
        with torch.no_grad():
            assert torch.equal(torch.load(folder / "logits.pt"), model(ids).logits)
        if auto == "AutoModelForCausalLM":
            expected = model.generate(ids[:, :3], max_new_tokens=NEW_TOKENS, do_sample=False)
            assert torch.equal(torch.load(folder / "generated.pt"), expected)
