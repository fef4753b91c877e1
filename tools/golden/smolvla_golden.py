#!/usr/bin/env python3
"""Golden outputs of LeRobot's SmolVLA policy, with seeded weights (docs/formats/seeded-weights.md).

For each case this builds a real LeRobot 0.4.4 SmolVLAPolicy (eval, float32, CPU) on a small or
full-width SmolVLM config, overwrites EVERY state_dict entry with the seeded rule (key = the
policy.state_dict() key, base_seed 0), saves the checkpoint with LeRobot's own
`policy.save_pretrained` and the processors from `make_pre_post_processors(config,
dataset_stats=...)` (state/action: seeded stats mean = 0.5*s, std = 0.5+u; VISUAL is IDENTITY, so
no image stats), runs LeRobot's inference path for a few select_action steps with a seeded noise
tensor, and writes into `<out>/<case>/`:

* config.json, policy_preprocessor.json, policy_postprocessor.json and the processor stats
  .safetensors, exactly as LeRobot wrote them (not model.safetensors: too big to commit);
* vlm_config.json: the full transformers SmolVLMConfig (to_dict()) the case was built with. A real
  checkpoint takes it from the hub (`vlm_model_name`); here it replaces that download;
* manifest.json: every tensor of the model.safetensors LeRobot wrote, in file order, with the
  fnv1a64 of its stored bytes (same format as the ACT goldens), plus which state_dict keys are
  absent from the file (none expected: lm_head is untied);
* expected.json: the task, the token ids / attention mask produced by LeRobot's tokenizer step,
  the noise, per step the state, the normalized padded state, image hashes, the full normalized
  chunk [chunk_size][max_action_dim] and the unnormalized executed action; plus block outputs of
  step 0 ("blocks", see BLOCKS_DOC below).

Pipeline per step (= lerobot.utils.control_utils.predict_action, plus noise=):
prepare_observation_for_inference(obs, cpu, task) -> policy_preprocessor ->
SmolVLAPolicy.select_action(batch, noise=noise.<t>) -> policy_postprocessor.

Offline operation. SmolVLA loads its VLM config, processor and tokenizer from the hub by name
(`HuggingFaceTB/SmolVLM2-500M-Video-Instruct`); this machine has no hub access, so this script
sets HF_HUB_OFFLINE=1 / TRANSFORMERS_OFFLINE=1 and PATCHES exactly three transformers class
methods (install_offline_patches). Each wrapper only intercepts that one model name (VLM_NAME);
every other name goes to the original method:

  1. transformers.AutoConfig.from_pretrained(VLM_NAME)   -> a deep copy of the case's
     SmolVLMConfig built by make_vlm_config() from lerobot-models.md section 4.2 (the
     SmolVLM2-500M values; smaller widths for the tiny case). Called by
     SmolVLMWithExpertModel.__init__ (load_vlm_weights=False path).
  2. transformers.AutoTokenizer.from_pretrained(VLM_NAME) -> AutoTokenizer.from_pretrained(<tmp dir>)
     where <tmp dir> holds the genuine SmolVLM2 tokenizer files from
     /work/shared/data/smolvlm2-tokenizer (tokenizer.json, vocab.json, merges.txt,
     added_tokens.json, special_tokens_map.json, byte copies) and a tokenizer_config.json made of
     tokenizer_config.smolvlm-256m-instruct.json plus
     "extra_special_tokens" = {fake_image_token, image_token, end_of_utterance_token,
     global_image_token} taken from the SmolVLM2 special_tokens_map.json (without it the
     tokenizer has no `fake_image_token_id`, which VLAFlowMatching.__init__ reads). Called by
     lerobot's TokenizerProcessorStep (tokenizer_name = VLM_NAME).
  3. transformers.AutoProcessor.from_pretrained(VLM_NAME) -> SmolVLMProcessor(
     SmolVLMImageProcessor(), <tokenizer of 2.>, SmolVLMVideoProcessor()). LeRobot only reads
     processor.tokenizer.fake_image_token_id / global_image_token_id from it (used only when
     add_image_special_tokens=True). Called by SmolVLMWithExpertModel.__init__.

config.json keeps vlm_model_name = VLM_NAME and policy_preprocessor.json keeps
tokenizer_name = VLM_NAME, as in a real checkpoint.

Usage: /opt/embody-tools-venv/bin/python tools/golden/smolvla_golden.py --out testdata/golden/smolvla
       [--case NAME ...] [--no-verify] [--keep-ckpt DIR] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import act_golden as ag  # noqa: E402  (shared helpers: safetensors layout, JSON writer)
import seeded  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoConfig, AutoProcessor, AutoTokenizer, SmolVLMConfig  # noqa: E402

from lerobot.configs.types import FeatureType, PolicyFeature  # noqa: E402
from lerobot.policies.factory import make_pre_post_processors  # noqa: E402
from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig  # noqa: E402
from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy  # noqa: E402
from lerobot.policies.utils import prepare_observation_for_inference  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BASE_SEED = 0
STATE_KEY = "observation.state"
ACTION_KEY = "action"
TOKENS_KEY = "observation.language.tokens"
MASK_KEY = "observation.language.attention_mask"
VLM_NAME = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"
TOKENIZER_FILES = ["tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json"]
TOKENIZER_CONFIG_SRC = "tokenizer_config.smolvlm-256m-instruct.json"
EXTRA_SPECIAL = ["fake_image_token", "image_token", "end_of_utterance_token", "global_image_token"]

# SmolVLM2-500M-Video-Instruct (lerobot-models.md section 4.2; every width is pinned by the
# smolvla_base tensor shapes listed in section 4.7).
FULL_VISION = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                   num_channels=3, image_size=512, patch_size=16, hidden_act="gelu_pytorch_tanh",
                   layer_norm_eps=1e-6)
FULL_TEXT = dict(model_type="llama", hidden_size=960, intermediate_size=2560, num_hidden_layers=32,
                 num_attention_heads=15, num_key_value_heads=5, head_dim=64, hidden_act="silu",
                 rms_norm_eps=1e-5, vocab_size=49280, max_position_embeddings=8192, rope_theta=100000.0,
                 attention_bias=False, mlp_bias=False, tie_word_embeddings=False, pad_token_id=2,
                 bos_token_id=1, eos_token_id=2)
FULL_TOP = dict(scale_factor=4, image_token_id=49190, tie_word_embeddings=False, vocab_size=49280)

TASK = "put the tea bag in the mug"
LONG_TASK = ("pick up the green tea bag from the wooden tray, drop it gently into the white mug, "
             "then push the mug next to the kettle")

CASES: dict[str, dict] = {
    # Small widths, real tokenizer/vocab. 2 cameras: top is 48x64 (non-square: pad 16 rows),
    # wrist 64x64. n_action_steps = chunk_size = 10 -> step 0 runs the model, step 1 pops.
    "tiny": dict(
        vision=dict(FULL_VISION, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, image_size=64, patch_size=16),
        text=dict(FULL_TEXT, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=16),
        top=dict(FULL_TOP, scale_factor=2),
        cams={"top": (48, 64), "wrist": (64, 64)}, steps=2, task=TASK, full_blocks=True,
        cfg=dict(chunk_size=10, n_action_steps=10, num_steps=10, resize_imgs_with_padding=(64, 64),
                 max_state_dim=32, max_action_dim=32, tokenizer_max_length=48, num_vlm_layers=2,
                 num_expert_layers=-1, self_attn_every_n_layers=2, expert_width_multiplier=0.75),
    ),
    # Same as tiny, language padded to max_length (48) with a ~20-word task.
    "tiny_padded": dict(
        vision=dict(FULL_VISION, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=4, image_size=64, patch_size=16),
        text=dict(FULL_TEXT, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=16),
        top=dict(FULL_TOP, scale_factor=2),
        cams={"top": (48, 64), "wrist": (64, 64)}, steps=2, task=LONG_TASK, full_blocks=True,
        cfg=dict(chunk_size=10, n_action_steps=10, num_steps=10, resize_imgs_with_padding=(64, 64),
                 max_state_dim=32, max_action_dim=32, tokenizer_max_length=48, num_vlm_layers=2,
                 num_expert_layers=-1, self_attn_every_n_layers=2, expert_width_multiplier=0.75,
                 pad_language_to="max_length"),
    ),
    # smolvla_base widths (vision 768, text 960, expert 720), 1 vision layer, 2 text layers
    # (vlm_config keeps the real 32; num_vlm_layers=2 truncates), num_expert_layers=0 as stored in
    # smolvla_base (<= 0: as many as the VLM). 1 camera 480x640 -> 384x512 + 128 top pad rows.
    "full_width": dict(
        vision=dict(FULL_VISION, num_hidden_layers=1),
        text=dict(FULL_TEXT),
        top=dict(FULL_TOP),
        cams={"top": (480, 640)}, steps=1, task=TASK, full_blocks=False,
        cfg=dict(chunk_size=50, n_action_steps=50, num_steps=10, resize_imgs_with_padding=(512, 512),
                 max_state_dim=32, max_action_dim=32, tokenizer_max_length=48, num_vlm_layers=2,
                 num_expert_layers=0, self_attn_every_n_layers=2, expert_width_multiplier=0.75),
    ),
}

BLOCKS_DOC = {
    "images": "per camera (config order), the tensor LeRobot feeds SigLIP: resize_with_pad(u8/255, "
              "W, H, pad_value=0) then x*2-1, shape [1,3,H,W]. sum / sum_per_channel: float64 sums of "
              "the float32 values; fnv: fnv1a64 of the float32 bytes [3,H,W]; channel0_first16: "
              "flat channel 0 from (row 0, col 0) (pad rows come first); first_valid_row: first row "
              "not in the top pad; channel0_first_valid_row_first16: its first 16 values from col pad_left",
    "vision_position_ids": "the position_embedding rows SigLIP added to the patches (row-major patches), "
                           "as transformers computed them (camera 0; identical for every full-size image). "
                           "NOT 0..N-1: see notes.vision_position_ids",
    "vision_tokens": "per camera: vision_model + connector output times sqrt(text hidden) (LeRobot "
                     "embed_prefix), [n_tokens][hidden]; 'values' holds rows 0..rows_included-1; "
                     "'connector_out' (tiny cases only) is the same before the scaling",
    "prefix": "prefix layout of step 0: pad_mask / att_mask (ar) / position_ids over the whole "
              "prefix [images..., language (tokenizer length), state]",
    "kv_cache": "per VLM layer, the prefix cache LeRobot fills (fill_kv_cache=True): key after RoPE "
                "and value, each [P][kv_heads*head_dim] (head-major: index = h*head_dim + d); "
                "'key'/'value' hold rows 0..rows_included-1 (all P rows for tiny cases, pad rows "
                "included; compare valid rows only)",
    "first_denoise": "the first denoising step (t = 1.0): x_t = the noise, v_t = "
                     "action_out_proj(expert output) [chunk_size][max_action_dim]",
}


NOTES = {
    "vision_position_ids": (
        "transformers 4.55.1+ (here 4.57.6, within LeRobot 0.4.4's pin >=4.57.1,<5) computes the SigLIP "
        "position ids as bucketize(float32(i / n) * (1 - 1e-6), arange(1/n, 1, 1/n), right=True) per axis "
        "(n = patches per side), which in float32 gives max(i - 1, 0) instead of i (transformers issue "
        "#41190). Position id of patch (r, c) = max(r-1,0) * n + max(c-1,0): row/col 0 and 1 share "
        "embeddings and row/col n-1 of the table is never used (max id 990 for n = 32). In bf16/fp16 the "
        "factor rounds to 1.0 and the ids are the exact 0..n*n-1 that older transformers (<= 4.54.1, "
        "which smolvla_base was trained with) produced. These goldens use the float32 4.57.6 ids; "
        "blocks.vision_position_ids lists them."),
    "dtype": (
        "every tensor here is float32 and vlm_config.json has dtype null. The real hub config of "
        "SmolVLM2-500M-Video-Instruct reportedly has text_config.torch_dtype = 'bfloat16' (top level "
        "'float32'); with it, transformers 4.57 (_from_config honours config.dtype) builds the text model "
        "and the expert in bfloat16 (all but the expert's cross-attention k_proj/v_proj, which LeRobot "
        "re-creates as float32 nn.Linear), so LeRobot 0.4.4 would run a real checkpoint in mixed "
        "precision; vision, connector, lm_head and the state/action/time projections stay float32."),
    "time": "t_k = 1 + k * (-1/num_steps) in double, cast to float32 (torch.tensor(t, float32)); the "
            "sinusoidal embedding is computed in float64 from that float32 t, then cast to float32",
    "lang_scale": "language embeddings * math.sqrt(hidden) (python float); image embeddings * "
                  "torch.tensor(hidden ** 0.5, float32)",
}

# ----------------------------------------------------------------------------------------------
# offline VLM config / tokenizer / processor
# ----------------------------------------------------------------------------------------------

_ACTIVE: dict = {"vlm_config": None}
_TOKENIZER_DIR: Path | None = None
_PATCHED = False


def find_tokenizer_src() -> Path:
    for c in (os.environ.get("EMBODY_SMOLVLM2_TOKENIZER"), REPO / "shared" / "data" / "smolvlm2-tokenizer",
              Path("/work/shared/data/smolvlm2-tokenizer")):
        if c and (Path(c) / "tokenizer.json").is_file():
            return Path(c)
    raise SystemExit("SmolVLM2 tokenizer files not found (set EMBODY_SMOLVLM2_TOKENIZER)")


def make_tokenizer_dir(dst: Path | None = None) -> Path:
    """Folder AutoTokenizer can load: genuine SmolVLM2 files + a tokenizer_config.json (see top)."""
    src = find_tokenizer_src()
    dst = Path(dst) if dst else Path(tempfile.mkdtemp(prefix="smolvlm2_tok_"))
    dst.mkdir(parents=True, exist_ok=True)
    for f in TOKENIZER_FILES:
        shutil.copyfile(src / f, dst / f)
    tc = json.loads((src / TOKENIZER_CONFIG_SRC).read_text())
    stm = json.loads((src / "special_tokens_map.json").read_text())
    tc["extra_special_tokens"] = {k: stm[k] for k in EXTRA_SPECIAL}
    (dst / "tokenizer_config.json").write_text(json.dumps(tc, indent=2, ensure_ascii=False) + "\n")
    return dst


def tokenizer_dir() -> Path:
    global _TOKENIZER_DIR
    if _TOKENIZER_DIR is None:
        _TOKENIZER_DIR = make_tokenizer_dir()
    return _TOKENIZER_DIR


def install_offline_patches() -> None:
    """Patch AutoConfig/AutoTokenizer/AutoProcessor.from_pretrained for VLM_NAME only."""
    global _PATCHED
    if _PATCHED:
        return
    _PATCHED = True
    orig_cfg = AutoConfig.from_pretrained
    orig_tok = AutoTokenizer.from_pretrained
    orig_proc = AutoProcessor.from_pretrained

    def cfg_from_pretrained(name, *args, **kwargs):
        if str(name) == VLM_NAME:
            if _ACTIVE["vlm_config"] is None:
                raise RuntimeError("no active SmolVLM config")
            return copy.deepcopy(_ACTIVE["vlm_config"])
        return orig_cfg(name, *args, **kwargs)

    def tok_from_pretrained(name, *args, **kwargs):
        if str(name) == VLM_NAME:
            return orig_tok(str(tokenizer_dir()), *args, **kwargs)
        return orig_tok(name, *args, **kwargs)

    def proc_from_pretrained(name, *args, **kwargs):
        if str(name) == VLM_NAME:
            from transformers import SmolVLMImageProcessor, SmolVLMProcessor, SmolVLMVideoProcessor

            tok = orig_tok(str(tokenizer_dir()))
            return SmolVLMProcessor(image_processor=SmolVLMImageProcessor(), tokenizer=tok,
                                    video_processor=SmolVLMVideoProcessor())
        return orig_proc(name, *args, **kwargs)

    AutoConfig.from_pretrained = staticmethod(cfg_from_pretrained)
    AutoTokenizer.from_pretrained = staticmethod(tok_from_pretrained)
    AutoProcessor.from_pretrained = staticmethod(proc_from_pretrained)


def make_vlm_config(case: dict) -> SmolVLMConfig:
    text = dict(case["text"])
    cfg = SmolVLMConfig(vision_config=dict(case["vision"]), text_config=text, **case["top"])
    vc = cfg.vision_config
    assert (vc.image_size // vc.patch_size) % cfg.scale_factor == 0, "pixel shuffle needs side % scale == 0"
    return cfg


def activate(case: dict) -> SmolVLMConfig:
    install_offline_patches()
    cfg = make_vlm_config(case)
    _ACTIVE["vlm_config"] = cfg
    return cfg


# ----------------------------------------------------------------------------------------------
# building a case
# ----------------------------------------------------------------------------------------------


def cam_key(c: str) -> str:
    return f"observation.images.{c}"


def make_config(case: dict) -> SmolVLAConfig:
    inputs = {STATE_KEY: PolicyFeature(type=FeatureType.STATE, shape=(6,))}
    for c, (h, w) in case["cams"].items():
        inputs[cam_key(c)] = PolicyFeature(type=FeatureType.VISUAL, shape=(3, h, w))
    outputs = {ACTION_KEY: PolicyFeature(type=FeatureType.ACTION, shape=(6,))}
    return SmolVLAConfig(device="cpu", vlm_model_name=VLM_NAME, load_vlm_weights=False,
                         input_features=inputs, output_features=outputs, **case["cfg"])


def make_stats() -> dict[str, dict[str, np.ndarray]]:
    return {f: {k: seeded.seeded_stat(f, k, (6,)) for k in ("mean", "std")} for f in (STATE_KEY, ACTION_KEY)}


def seed_policy(policy: torch.nn.Module) -> None:
    """Every state_dict entry <- seeded rule (key = state_dict key). Checks they are all float32."""
    sd = policy.state_dict()
    new = {}
    for key, t in sd.items():
        if t.dtype != torch.float32:
            raise SystemExit(f"{key}: dtype {t.dtype}, expected float32")
        new[key] = torch.from_numpy(seeded.seeded_tensor(key, tuple(t.shape), BASE_SEED))
    policy.load_state_dict(new, strict=True)


def build_policy(case: dict):
    vlm_cfg = activate(case)
    torch.manual_seed(0)
    cfg = make_config(case)
    policy = SmolVLAPolicy(cfg)
    policy.eval()
    seed_policy(policy)
    return cfg, vlm_cfg, policy


def seeded_noise(t: int, chunk: int, dim: int) -> torch.Tensor:
    v = seeded.seeded_s(f"noise.{t}", chunk * dim).reshape(1, chunk, dim)
    return torch.from_numpy(np.ascontiguousarray(v))


def make_observation(case: dict, t: int) -> dict[str, np.ndarray]:
    obs = {STATE_KEY: seeded.seeded_state(t, 6)}
    for c, (h, w) in case["cams"].items():
        obs[cam_key(c)] = seeded.seeded_image(t, cam_key(c), h, w)
    return obs


def as_list(t) -> list:
    return ag.as_list(t)


class Recorder:
    """Captures LeRobot's own intermediates by wrapping the methods it calls (no maths redone)."""

    def __init__(self, policy, pre, post, full_blocks: bool):
        self.full = full_blocks
        self.batch = None
        self.action_norm = None
        self.chunks = []
        self.state_padded = None
        self.blocks = None  # filled during the first model run
        self._cur = None
        m = policy.model
        vwe = m.vlm_with_expert
        self.n_pre = len(pre.steps)
        pre.register_after_step_hook(self._on_pre)
        post.register_before_step_hook(self._on_post)
        self._wrap(policy, "prepare_images", self._after_prepare_images)
        self._wrap(policy, "prepare_state", self._after_prepare_state)
        self._wrap(m, "sample_actions", self._after_sample_actions, before=self._before_sample_actions)
        self._wrap(m, "embed_prefix", self._after_embed_prefix)
        self._wrap(vwe, "embed_image", self._after_embed_image)
        self._wrap(vwe, "forward", self._after_vwe_forward)
        self._wrap(m, "denoise_step", self._after_denoise_step)
        self.image_keys = list(policy.config.image_features)
        pe = vwe.get_vlm_model().vision_model.embeddings.position_embedding
        pe.register_forward_pre_hook(self._on_pos_emb)

    @staticmethod
    def _wrap(obj, name, after, before=None):
        orig = getattr(obj, name)

        def wrapper(*args, **kwargs):
            if before is not None:
                before(args, kwargs)
            out = orig(*args, **kwargs)
            after(args, kwargs, out)
            return out

        setattr(obj, name, wrapper)

    def _on_pre(self, idx, transition):
        if idx == self.n_pre - 1:
            from lerobot.processor.core import TransitionKey

            self.batch = {k: v.clone() for k, v in transition[TransitionKey.OBSERVATION].items()
                          if isinstance(v, torch.Tensor)}

    def _on_post(self, idx, transition):
        if idx == 0:
            from lerobot.processor.core import TransitionKey

            self.action_norm = transition[TransitionKey.ACTION].detach().clone()

    # --- model internals ---
    def _on_pos_emb(self, module, inputs):
        if self._cur is not None and "vision_position_ids" not in self._cur:
            self._cur["vision_position_ids"] = inputs[0].detach().clone()

    def _before_sample_actions(self, args, kwargs):
        self._cur = {} if self.blocks is None else None
        if self._cur is not None:
            self._cur["noise"] = kwargs.get("noise")

    def _after_sample_actions(self, args, kwargs, out):
        self.chunks.append(out.detach().clone())
        if self._cur is not None:
            self.blocks = self._cur
        self._cur = None

    def _after_prepare_state(self, args, kwargs, out):
        self.state_padded = out.detach().clone()

    def _after_prepare_images(self, args, kwargs, out):
        if self.blocks is not None:
            return
        images, _ = out
        self._images = [im.detach().clone() for im in images]

    def _after_embed_image(self, args, kwargs, out):
        if self._cur is None:
            return
        self._cur.setdefault("connector_out", []).append(out.detach().clone())

    def _after_embed_prefix(self, args, kwargs, out):
        if self._cur is None:
            return
        embs, pad, att = out
        self._cur["prefix"] = (embs.detach().clone(), pad.detach().clone(), att.detach().clone())
        self._cur["images"] = self._images

    def _after_vwe_forward(self, args, kwargs, out):
        if self._cur is None or not kwargs.get("fill_kv_cache"):
            return
        _, pkv = out
        self._cur["kv"] = {i: (d["key_states"].detach().clone(), d["value_states"].detach().clone())
                           for i, d in pkv.items()}
        self._cur["prefix_position_ids"] = kwargs["position_ids"].detach().clone()

    def _after_denoise_step(self, args, kwargs, out):
        if self._cur is None or "v_t" in self._cur:
            return
        self._cur["v_t"] = out.detach().clone()
        self._cur["x_t"] = kwargs["x_t"].detach().clone()
        self._cur["t"] = float(kwargs["timestep"].reshape(-1)[0])


def predict_with_noise(obs, policy, pre, post, task, noise):
    """lerobot.utils.control_utils.predict_action (cpu, no amp) with noise= passed to select_action."""
    obs = dict(obs)
    with torch.inference_mode():
        batch = prepare_observation_for_inference(obs, torch.device("cpu"), task)
        batch = pre(batch)
        action = policy.select_action(batch, noise=noise)
        action = post(action)
    return action


def image_block(key: str, img: torch.Tensor) -> dict:
    x = img[0].to(torch.float32).contiguous().numpy()  # [3,H,W]
    c0 = x[0]
    row_is_pad = np.all(c0 == -1.0, axis=1)
    pad_top = int(np.argmin(row_is_pad)) if not row_is_pad.all() else c0.shape[0]
    col_is_pad = np.all(c0 == -1.0, axis=0)
    pad_left = int(np.argmin(col_is_pad)) if not col_is_pad.all() else c0.shape[1]
    return {
        "key": key,
        "shape": list(img.shape),
        "pad_top": pad_top,
        "pad_left": pad_left,
        "sum": float(x.astype(np.float64).sum()),
        "sum_per_channel": [float(x[c].astype(np.float64).sum()) for c in range(x.shape[0])],
        "fnv": seeded.fnv_hex(seeded.fnv1a64(np.ascontiguousarray(x, dtype=np.float32))),
        "channel0_first16": c0.reshape(-1)[:16].tolist(),
        "first_valid_row": pad_top,
        "channel0_first_valid_row_first16": c0[pad_top, pad_left:pad_left + 16].tolist(),
    }


def make_blocks(rec: Recorder, policy, full: bool) -> dict:
    b = rec.blocks
    m = policy.model
    hidden = m.vlm_with_expert.config.text_config.hidden_size
    out = {"doc": BLOCKS_DOC}
    out["images"] = [image_block(k, im) for k, im in zip(rec.image_keys, b["images"])]
    out["vision_position_ids"] = [int(v) for v in b["vision_position_ids"][0].tolist()]
    vt = []
    embs, pad, att = b["prefix"]
    off = 0
    for k, co in zip(rec.image_keys, b["connector_out"]):
        n = co.shape[1]
        scaled = embs[0, off:off + n]
        # the prefix embedding rows must be exactly connector_out * sqrt(hidden)
        ref = co[0] * torch.tensor(co.shape[-1] ** 0.5, dtype=co.dtype)
        assert torch.equal(scaled, ref), "image rows of prefix != connector_out * sqrt(hidden)"
        rows = n if full else min(4, n)
        e = {"key": k, "shape": [n, int(co.shape[-1])], "scale": float(co.shape[-1] ** 0.5),
             "rows_included": rows, "values": as_list(scaled[:rows])}
        if full:
            e["connector_out"] = as_list(co[0])
        vt.append(e)
        off += n
    out["vision_tokens"] = vt
    P = int(pad.shape[1])
    n_img = off
    n_lang = P - n_img - 1
    out["prefix"] = {
        "length": P, "valid_length": int(pad[0].sum()), "image_tokens": n_img, "language_tokens": n_lang,
        "state_tokens": 1, "hidden": hidden,
        "pad_mask": [int(v) for v in pad[0].tolist()],
        "att_mask": [int(v) for v in att[0].tolist()],
        "position_ids": [int(v) for v in b["prefix_position_ids"][0].tolist()],
    }
    kv = []
    for i in sorted(b["kv"]):
        k, v = b["kv"][i]
        k2 = k[0].reshape(k.shape[1], -1)
        v2 = v[0].reshape(v.shape[1], -1)
        rows = P if full else min(4, P)
        kv.append({"layer": i, "shape": [P, int(k2.shape[1])], "kv_heads": int(k.shape[2]),
                   "head_dim": int(k.shape[3]), "rows_included": rows,
                   "key": as_list(k2[:rows]), "value": as_list(v2[:rows])})
    out["kv_cache"] = kv
    assert torch.equal(b["x_t"], b["noise"]), "first denoise x_t must be the noise"
    out["first_denoise"] = {"t": b["t"], "v_t": as_list(b["v_t"][0])}
    return out


def run_steps(case, cfg, policy, pre, post, full_blocks):
    rec = Recorder(policy, pre, post, full_blocks)
    policy.reset()
    steps, tokens = [], None
    for t in range(case["steps"]):
        obs = make_observation(case, t)
        noise = seeded_noise(t, cfg.chunk_size, cfg.max_action_dim)
        n_before = len(rec.chunks)
        action = predict_with_noise(obs, policy, pre, post, case["task"], noise)
        ran = len(rec.chunks) > n_before
        tk = {"ids": [int(x) for x in rec.batch[TOKENS_KEY][0].tolist()],
              "attention_mask": [int(x) for x in rec.batch[MASK_KEY][0].tolist()]}
        if tokens is None:
            tokens = tk
        assert tk == tokens, "token ids changed between steps"
        step = {"t": t, "state": as_list(obs[STATE_KEY]),
                "state_normalized": as_list(rec.batch[STATE_KEY][0]),
                "image_fnv": {cam_key(c): seeded.fnv_hex(seeded.fnv1a64(obs[cam_key(c)])) for c in case["cams"]},
                "action": as_list(action.reshape(-1)),
                "action_normalized": as_list(rec.action_norm.reshape(-1)),
                "model_ran": ran}
        if ran:
            assert len(rec.chunks) == n_before + 1
            step["noise_key"] = f"noise.{t}"
            step["noise"] = as_list(noise[0])
            step["state_padded"] = as_list(rec.state_padded[0])
            step["chunk_normalized"] = as_list(rec.chunks[-1][0])
        steps.append(step)
    blocks = make_blocks(rec, policy, full_blocks)
    return steps, tokens, blocks


def tokenizer_info(pre, cfg) -> dict:
    from lerobot.processor import TokenizerProcessorStep

    step = next(s for s in pre.steps if isinstance(s, TokenizerProcessorStep))
    tok = step.input_tokenizer
    return {"padding": step.padding, "max_length": step.max_length, "padding_side": step.padding_side,
            "truncation": step.truncation, "truncation_side": tok.truncation_side,
            "pad_token_id": tok.pad_token_id, "tokenizer_class": type(tok).__name__,
            "truncation_note": "truncation_side comes from tokenizer_config.json; the file used offline is "
                               "SmolVLM-256M-Instruct's ('left'); no case here is long enough to truncate"}


def ckpt_dir_for(keep_ckpt, name, tmp):
    ckpt = keep_ckpt / name if keep_ckpt else tmp / "ckpt"
    if ckpt.exists():
        shutil.rmtree(ckpt)
    ckpt.mkdir(parents=True)
    return ckpt


def save_checkpoint(policy, pre, post, vlm_cfg, ckpt: Path, with_tokenizer: bool = False) -> None:
    policy.save_pretrained(ckpt)
    pre.save_pretrained(ckpt)
    post.save_pretrained(ckpt)
    ag.write_json(ckpt / "vlm_config.json", vlm_cfg.to_dict())
    if with_tokenizer:
        make_tokenizer_dir(ckpt / "tokenizer")


def run_case(name: str, out_root: Path, verify: bool, keep_ckpt: Path | None) -> None:
    case = CASES[name]
    t0 = time.perf_counter()
    cfg, vlm_cfg, policy = build_policy(case)
    stats = make_stats()
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)

    tmp = Path(tempfile.mkdtemp(prefix=f"smolvla_golden_{name}_"))
    ckpt = ckpt_dir_for(keep_ckpt, name, tmp)
    save_checkpoint(policy, pre, post, vlm_cfg, ckpt, with_tokenizer=keep_ckpt is not None)
    print(f"[{name}] built + saved in {time.perf_counter() - t0:.1f} s", flush=True)

    sd_shapes = {k: list(v.shape) for k, v in policy.state_dict().items()}
    vlm_built = policy.model.vlm_with_expert.vlm.config
    attn_impl = {"vision": vlm_built.vision_config._attn_implementation,
                 "text": vlm_built.text_config._attn_implementation,
                 "note": "transformers attention used by SigLIP (the text/expert layers use LeRobot's own "
                         "eager_attention_forward regardless)"}
    steps, tokens, blocks = run_steps(case, cfg, policy, pre, post, case["full_blocks"])
    print(f"[{name}] ran {case['steps']} steps ({time.perf_counter() - t0:.1f} s)", flush=True)

    if verify:
        del policy
        verify_reload(name, case, ckpt, steps, tokens, blocks)

    dst = out_root / name
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    copied = []
    for f in sorted(ckpt.iterdir()):
        if f.name == "model.safetensors" or f.is_dir():
            continue
        shutil.copy2(f, dst / f.name)
        copied.append(f.name)

    man = ag.build_manifest(ckpt / "model.safetensors", "float32", None, False, {})
    in_file = {e["key"] for e in man["tensors"]}
    man["state_dict_keys"] = len(sd_shapes)
    man["absent_from_file"] = sorted(set(sd_shapes) - in_file)
    man["not_in_state_dict"] = sorted(in_file - set(sd_shapes))
    man["absent_note"] = ("state_dict keys that LeRobot's save_pretrained (safetensors save_model, which "
                          "drops aliases of shared tensors) did not write. Empty: lm_head is untied "
                          "(tie_word_embeddings false) and stored, and the expert has no embed_tokens.")
    ag.write_json(dst / "manifest.json", man)

    lm = __import__("lerobot")
    expected = {
        "case": name,
        "lerobot_version": lm.__version__,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "threads": torch.get_num_threads(),
        "dtype": "float32",
        "layout": "processor_v0.4",
        "vlm_model_name": VLM_NAME,
        "vlm_config_file": "vlm_config.json",
        "attn_implementation": attn_impl,
        "camera_keys": [cam_key(c) for c in case["cams"]],
        "image_shapes": {cam_key(c): [3, h, w] for c, (h, w) in case["cams"].items()},
        "state_key": STATE_KEY, "state_dim": 6, "action_dim": 6,
        "chunk_size": cfg.chunk_size, "n_action_steps": cfg.n_action_steps, "num_steps": cfg.num_steps,
        "max_state_dim": cfg.max_state_dim, "max_action_dim": cfg.max_action_dim,
        "resize_imgs_with_padding": list(cfg.resize_imgs_with_padding),
        "stats": {f: {k: np.asarray(v, np.float32).reshape(-1).tolist() for k, v in d.items()}
                  for f, d in stats.items()},
        "task": case["task"],
        "task_tokenized": case["task"] if case["task"].endswith("\n") else case["task"] + "\n",
        "tokenizer": tokenizer_info(pre, cfg),
        "tokens": tokens,
        "inputs": {
            "image": "uint8 HWC RGB, element i = splitmix64(fnv1a64('input.<t>.<camera key>'), i) >> 56; "
                     "fed to LeRobot as float32 CHW = u8 / 255 (prepare_observation_for_inference)",
            "state": "float32 4*s, key 'input.<t>.observation.state' (values also listed per step)",
            "noise": "float32 s of the seeded rule, key 'noise.<t>', shape [1, chunk_size, max_action_dim] "
                     "row-major, passed as select_action(noise=) at every step (used when the model runs)",
        },
        "pipeline": "lerobot.utils.control_utils.predict_action with noise: prepare_observation_for_inference"
                    "(task) -> policy_preprocessor -> SmolVLAPolicy.select_action(noise=) -> "
                    "policy_postprocessor. state_normalized = preprocessor output [6]; state_padded = "
                    "prepare_state output [max_state_dim]; chunk_normalized = VLAFlowMatching.sample_actions "
                    "output [chunk_size][max_action_dim] (before truncation to action_dim); action = "
                    "postprocessed (unnormalized) executed action",
        "notes": NOTES,
        "files": copied,
        "steps": steps,
        "blocks": blocks,
    }
    ag.write_json(dst / "expected.json", expected)
    shutil.rmtree(tmp, ignore_errors=True)
    size = sum(f.stat().st_size for f in dst.iterdir())
    print(f"[{name}] wrote {dst} ({size / 1024:.1f} KiB): {sorted(p.name for p in dst.iterdir())}")
    print(f"  tokens {tokens['ids']} mask sum {sum(tokens['attention_mask'])}")
    for s in steps:
        if s["model_ran"]:
            c = np.asarray(s["chunk_normalized"])
            print(f"  t={s['t']} chunk {list(c.shape)} [0][:3]={c[0][:3].tolist()} action={s['action'][:3]}...")
    print(f"[{name}] done in {time.perf_counter() - t0:.1f} s", flush=True)


def verify_reload(name, case, ckpt, steps, tokens, blocks):
    """Reload the saved checkpoint with LeRobot and check it reproduces every step bit for bit."""
    activate(case)
    policy2 = SmolVLAPolicy.from_pretrained(str(ckpt))
    policy2.eval()
    pre2, post2 = make_pre_post_processors(policy2.config, pretrained_path=str(ckpt))
    steps2, tokens2, blocks2 = run_steps(case, policy2.config, policy2, pre2, post2, case["full_blocks"])
    if tokens2 != tokens:
        raise SystemExit(f"[{name}] reload: token mismatch")
    for a, b in zip(steps, steps2):
        if a != b:
            raise SystemExit(f"[{name}] reload mismatch at t={a['t']}")
    if json.dumps(blocks) != json.dumps(blocks2):
        raise SystemExit(f"[{name}] reload: block outputs differ")
    print(f"[{name}] reload from {ckpt.name}: identical outputs", flush=True)
    del policy2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write SmolVLA golden files from LeRobot with seeded weights.")
    ap.add_argument("--out", default="testdata/golden/smolvla")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    ap.add_argument("--no-verify", action="store_true", help="skip the reload-and-rerun check")
    ap.add_argument("--keep-ckpt", default=None,
                    help="also keep the full checkpoints (+ vlm_config.json, tokenizer/) under this folder")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.case or list(CASES):
        run_case(name, out, verify=not args.no_verify, keep_ckpt=Path(args.keep_ckpt) if args.keep_ckpt else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
