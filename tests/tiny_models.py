"""Tiny randomly initialised checkpoints of the real model classes, for offline tests.

Each ``make_tiny_*(path)`` saves a model and its preprocessor with ``save_pretrained`` into
``path`` and returns it; extractors then load the folder through the same
``from_pretrained(path)`` call that a user's real checkpoint takes. The classes match the
real defaults' (a full CLIPModel, VideoMAE and AST *classification* checkpoints whose encoder
is loaded out of them, a full ClapModel), so the prefix and sub-config handling is exercised
too. Weights are seeded: the same builder gives the same checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CHATML_TEMPLATE",
    "make_tiny_ast",
    "make_tiny_clap",
    "make_tiny_clip",
    "make_tiny_clip_vision",
    "make_tiny_llava",
    "make_tiny_qwen2_chat",
    "make_tiny_videomae",
]


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def save_tiny_word_tokenizer(path: str | Path, words: Sequence[str]) -> None:
    """A word-level CLIP-style tokenizer (bos 0, pad 1, eos 2, unknown 3, then ``words``) whose
    ids fit the tiny CLIP's vocabulary (99), for tests of CLIP's text tower."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<|startoftext|>", "<pad>", "<|endoftext|>", "[UNK]"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(words) - set(specials)))}
    if len(vocab) > 99:
        raise ValueError(f"{len(vocab)} tokens do not fit the tiny CLIP's vocabulary of 99")
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", 0), ("<|endoftext|>", 2)],
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<pad>",
        unk_token="[UNK]",
        model_max_length=77,
    ).save_pretrained(path)


def make_tiny_clip(path: str | Path, *, seed: int = 0, words: Sequence[str] | None = None) -> Path:
    """A CLIPModel (hidden 32, 2 layers, 32 px images, patch 8, projection 16) + processor;
    with ``words``, also a word-level tokenizer of them (the text tower's input)."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    _seed(seed)
    common = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 37,
    }
    config = CLIPConfig(
        text_config={
            **common,
            "vocab_size": 99,
            "bos_token_id": 0,
            "eos_token_id": 2,
            "pad_token_id": 1,
        },
        vision_config={**common, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    path = Path(path)
    CLIPModel(config).save_pretrained(path)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    if words is not None:
        save_tiny_word_tokenizer(path, words)
    return path


def make_tiny_clip_vision(clip_path: str | Path, path: str | Path, *, projection: bool) -> Path:
    """The vision tower of the CLIP at ``clip_path`` saved alone, as
    ``CLIPVisionModelWithProjection`` (``projection=True``) or ``CLIPVisionModel``."""
    import copy

    from transformers import (
        AutoConfig,
        AutoImageProcessor,
        CLIPVisionModel,
        CLIPVisionModelWithProjection,
    )

    full = AutoConfig.from_pretrained(clip_path)
    vision = copy.deepcopy(full.vision_config)
    vision.projection_dim = full.projection_dim
    cls = CLIPVisionModelWithProjection if projection else CLIPVisionModel
    path = Path(path)
    cls.from_pretrained(clip_path, config=vision).save_pretrained(path)
    AutoImageProcessor.from_pretrained(clip_path).save_pretrained(path)
    return path


def make_tiny_videomae(path: str | Path, *, seed: int = 0) -> Path:
    """A VideoMAEForVideoClassification (4 frames, tubelet 2, 32 px, patch 8, hidden 32)."""
    from transformers import (
        VideoMAEConfig,
        VideoMAEForVideoClassification,
        VideoMAEImageProcessor,
    )

    _seed(seed)
    config = VideoMAEConfig(
        image_size=32,
        patch_size=8,
        num_frames=4,
        tubelet_size=2,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=3,
    )
    path = Path(path)
    VideoMAEForVideoClassification(config).save_pretrained(path)
    VideoMAEImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    return path


def make_tiny_ast(path: str | Path, *, seed: int = 0) -> Path:
    """An ASTForAudioClassification (16 mel bins, 64 frames, hidden 32) + feature extractor."""
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    _seed(seed)
    config = ASTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_length=64,
        num_mel_bins=16,
        num_labels=3,
    )
    path = Path(path)
    ASTForAudioClassification(config).save_pretrained(path)
    ASTFeatureExtractor(num_mel_bins=16, max_length=64).save_pretrained(path)
    return path


def make_tiny_clap(path: str | Path, *, seed: int = 0, fusion: bool = False) -> Path:
    """A ClapModel (HTS-AT spec 64, window 4, depths [1, 1], 16 mel bins, projection 16) and
    a 48 kHz ClapFeatureExtractor whose window is 2 s (201 frames fit the 256 the tiny
    tower takes)."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    _seed(seed)
    config = ClapConfig(
        text_config={
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 37,
            "vocab_size": 99,
            "projection_dim": 16,
        },
        audio_config={
            "spec_size": 64,
            "window_size": 4,
            "depths": [1, 1],
            "num_attention_heads": [2, 2],
            "patch_embeds_hidden_size": 16,
            "hidden_size": 32,
            "num_mel_bins": 16,
            "enable_fusion": fusion,
            "projection_dim": 16,
        },
        projection_dim=16,
    )
    path = Path(path)
    ClapModel(config).save_pretrained(path)
    ClapFeatureExtractor(feature_size=16, max_length_s=2).save_pretrained(path)
    return path


# --------------------------------------------------------------------------------------------
# Chat models (for the LLM backends and ``transformers serve``)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ '<image>' }}"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
"""ChatML, with ``<image>`` for an image part: what Qwen2 and the tiny LLaVA use."""

_TOKENIZER_TEXT = (
    "You describe short clips of films and TV dramas precisely and briefly. "
    "A man runs across the roof; the camera follows him; the music is loud. "
    'Answer with ONLY a JSON list: [{"index": 1, "on_topic": true, "confidence": 0.9}]. '
    "The quick brown fox jumps over the lazy dog. 0123456789 {}[]:,\"'.!?-_\n"
)


def _tiny_chat_tokenizer(special: list[str]):
    """A byte-level BPE tokenizer trained by ``tokenizers`` on a little text (any string
    encodes: unknown bytes fall back to the 256 byte tokens), with ChatML's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_TOKENIZER_TEXT] * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=CHATML_TEMPLATE,
    )


def make_tiny_qwen2_chat(path: str | Path, *, seed: int = 0) -> Path:
    """A random Qwen2ForCausalLM (hidden 32, 2 layers) with a byte-level BPE tokenizer and a
    ChatML chat template: what ``transformers serve`` and the transformers backend load as a
    text chat model. Its answers are random tokens (often empty once special tokens go)."""
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    _seed(seed)
    tokenizer = _tiny_chat_tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    path = Path(path)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def make_tiny_llava(path: str | Path, *, seed: int = 0) -> Path:
    """A random LLaVA (CLIP vision tower 32 px, patch 8; Llama hidden 32, 2 layers) with
    LlavaProcessor + CLIPImageProcessor (PIL): one image becomes 16 ``<image>`` tokens, so a
    base64 ``image_url`` part goes through the real image path (``transformers serve``'s VLM
    route, the transformers backend's processor)."""
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        GenerationConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    _seed(seed)
    tokenizer = _tiny_chat_tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"])
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=image_token,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        projector_hidden_act="gelu",
    )
    path = Path(path)
    model = LlavaForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(path)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(  # the torchvision-free one
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tokenizer,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        image_token="<image>",
        chat_template=CHATML_TEMPLATE,
    )
    processor.save_pretrained(path)
    return path
