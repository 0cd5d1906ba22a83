"""Write a tiny random-weight Qwen3-VL checkpoint that vLLM loads.

No model can be downloaded on the machines this project is tested on, so the
tests and the offline demo serve a checkpoint of the real architecture
(`Qwen3VLForConditionalGeneration`) with random weights. Its answers are
random text: tests check structure, the timestamps the model saw and error
handling, never answer content.

The recipe (see ../shared/FACTS.md, "A tiny Qwen3-VL checkpoint"):
- a byte-level BPE tokenizer with Qwen's special tokens registered as *added*
  special tokens (otherwise the processor finds 0 video tokens);
- head_dim >= 32 (vLLM's CPU attention rejects 16) and an interleaved mrope
  whose sections sum to head_dim / 2;
- a 2-layer vision tower with Qwen3-VL's real patch geometry (16 px patches,
  2x2 merge, 2-frame temporal patches), so timestamps are grouped exactly as
  in the full-size models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# Qwen's chat template, reduced to what the tests exercise: text, image and
# video parts, a default system message, and the generation prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or part['type'] == 'image_url' %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' or part['type'] == 'video_url' %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Text the tokenizer is trained on: enough English, Chinese and time formats
# that prompts tokenize into sensible pieces (and `<12.5 seconds>` decodes back).
_CORPUS = [
    "The event happens in 64.0 - 72.0 seconds.",
    "<0.2 seconds> <1.2 seconds> <12.5 seconds> <123.4 seconds>",
    "00:00:05 00:01:23.400 01:32.40 - 01:35.60 from 12 to 15 seconds",
    "- 人物进入房间：00:00:05 第12秒 1分30秒 12秒到15秒 在00:02:15",
    "When does the person open the door? List all actions with timestamps.",
    "You are a helpful assistant. Answer with start and end times.",
    "[{\"start\": 1.0, \"end\": 2.5, \"event\": \"a red square appears\"}]",
    "0123456789 .:-~,;()[]{}\"' seconds second minutes hours",
]


@dataclass(frozen=True)
class TestModelSpec:
    """Sizes of the random checkpoint. Defaults give about 0.5 M parameters."""

    vocab_size: int = 1024
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 2
    num_kv_heads: int = 1
    head_dim: int = 32
    intermediate_size: int = 128
    vision_hidden_size: int = 32
    vision_depth: int = 2
    max_position_embeddings: int = 16384
    # Total video pixels (frames x height x width) the processor allows; 32*32*2
    # pixels make one visual token, so this is a 512-token video budget.
    video_max_pixels: int = 32 * 32 * 2 * 512
    video_min_pixels: int = 32 * 32 * 2
    seed: int = 0


def _train_tokenizer(spec: TestModelSpec):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size - len(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    return tokenizer


def make_test_model(directory: str | Path, spec: TestModelSpec = TestModelSpec()) -> Path:
    """Write the checkpoint to `directory` (created if missing) and return its path."""
    import torch
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    raw = _train_tokenizer(spec)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
        model_max_length=spec.max_position_embeddings,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {tok: raw.token_to_id(tok) for tok in SPECIAL_TOKENS}

    config = Qwen3VLConfig(
        text_config={
            "vocab_size": spec.vocab_size,
            "hidden_size": spec.hidden_size,
            "intermediate_size": spec.intermediate_size,
            "num_hidden_layers": spec.num_layers,
            "num_attention_heads": spec.num_heads,
            "num_key_value_heads": spec.num_kv_heads,
            "head_dim": spec.head_dim,
            "max_position_embeddings": spec.max_position_embeddings,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 5_000_000.0,
                "mrope_section": _mrope_section(spec.head_dim),
                "mrope_interleaved": True,
            },
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "torch_dtype": "bfloat16",
        },
        vision_config={
            "depth": spec.vision_depth,
            "hidden_size": spec.vision_hidden_size,
            "intermediate_size": spec.vision_hidden_size * 2,
            "num_heads": 2,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": spec.hidden_size,
            "num_position_embeddings": 256,
            "deepstack_visual_indexes": [0],
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    config.architectures = ["Qwen3VLForConditionalGeneration"]

    torch.manual_seed(spec.seed)
    model = Qwen3VLForConditionalGeneration(config).to(torch.bfloat16)
    model.save_pretrained(out)

    image_processor = Qwen2VLImageProcessor(
        patch_size=16,
        merge_size=2,
        temporal_patch_size=2,
        min_pixels=32 * 32,
        max_pixels=32 * 32 * 256,
    )
    video_processor = Qwen3VLVideoProcessor(
        patch_size=16,
        merge_size=2,
        temporal_patch_size=2,
        size={"shortest_edge": spec.video_min_pixels, "longest_edge": spec.video_max_pixels},
    )
    processor = Qwen3VLProcessor(
        image_processor=image_processor,
        video_processor=video_processor,
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    _force_tokenizer_class(out / "tokenizer_config.json")
    (out / "generation_config.json").write_text(
        json.dumps({"eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"]})
    )
    (out / "README.md").write_text(
        "Random-weight Qwen3-VL checkpoint written by `framestamp make-test-model`.\n"
        "Its answers are random text; it exists to test the serving path offline.\n"
    )
    return out


def _mrope_section(head_dim: int) -> list[int]:
    """Split head_dim/2 rotary pairs over (time, height, width) like Qwen's [24, 20, 20]."""
    half = head_dim // 2
    spatial = half * 5 // 16
    return [half - 2 * spatial, spatial, spatial]


def _force_tokenizer_class(path: Path) -> None:
    # vLLM resolves the tokenizer through this name; Qwen's checkpoints use it.
    config = json.loads(path.read_text())
    config["tokenizer_class"] = "Qwen2TokenizerFast"
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False))
