"""Hub-style export: the saved folder carries its own code and loads where nlpseq cannot be imported."""

import json
import os
import subprocess
import sys
import textwrap

import torch

from nlpseq.models.configuration_decoder import DecoderConfig
from nlpseq.models.configuration_encoder import EncoderConfig
from nlpseq.models.modeling_decoder import DecoderForCausalLM
from nlpseq.models.modeling_encoder import EncoderForMaskedLM

EXPORTS = [(DecoderForCausalLM, DecoderConfig, "AutoModelForCausalLM"),
           (EncoderForMaskedLM, EncoderConfig, "AutoModelForMaskedLM")]

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
""")


def test_exported_folders_load_with_trust_remote_code(tmp_path):
    models, args = [], []
    for model_class, config_class, auto in EXPORTS:
        config = config_class(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=32, position_embedding_type="rotary")
        model = model_class(config).eval()
        folder = tmp_path / model_class.__name__
        config_class.register_for_auto_class()
        model_class.register_for_auto_class(auto)
        try:
            model.save_pretrained(folder)
        finally:                                                                 # keep other tests unaffected
            config_class._auto_class = model_class._auto_class = None
        auto_map = json.loads((folder / "config.json").read_text())["auto_map"]
        assert auto in auto_map and "AutoConfig" in auto_map
        assert {"attention.py", "positions.py", "transformer_blocks.py", "configuration_transformer.py",
                "configuration_checks.py", "heads.py", "speedups.py"} <= {p.name for p in folder.iterdir()}
        models.append((model, folder))
        args += [str(folder), auto]

    ids = torch.randint(0, 40, (2, 7))
    torch.save(ids, tmp_path / "ids.pt")
    script = tmp_path / "elsewhere" / "load.py"
    script.parent.mkdir()
    script.write_text(FRESH_LOAD)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "ids.pt"), *args], cwd=script.parent,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for model, folder in models:
        with torch.no_grad():
            assert torch.equal(torch.load(folder / "logits.pt"), model(ids).logits)
