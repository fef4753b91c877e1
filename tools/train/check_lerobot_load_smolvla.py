#!/usr/bin/env python3
"""Load a SmolVLA checkpoint written by `embody train --policy smolvla` with LeRobot itself and
compare its action chunk with `embody infer` on the same observation and noise.

    /opt/embody-tools-venv/bin/python tools/train/check_lerobot_load_smolvla.py CKPT --embody build/embody

CKPT is a pretrained_model/ folder. LeRobot builds SmolVLAPolicy from config.json (the backbone's
SmolVLMConfig from the checkpoint's vlm_config.json, the tokenizer from tools/golden's offline
patches), loads model.safetensors (strict: every key must match) and its processors from the
checkpoint's processor files; the observation (random images from a seeded generator, a state
near the dataset mean, the task) goes through LeRobot's preprocessor and select_action with the seeded noise that
`embody infer --noise-seed` uses. LeRobot 0.4.4 runs SigLIP with float32 position ids, so embody
runs with --siglip-position-ids transformers-fp32. The whole chunk is compared in normalized units
(tolerance 1e-4 by default). Exit status 0 when they agree.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
import smolvla_golden as sg  # noqa: E402  (offline SmolVLM config/tokenizer patches, seeded rules)
from transformers import SmolVLMConfig  # noqa: E402

from lerobot.policies.factory import make_pre_post_processors  # noqa: E402
from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy  # noqa: E402
from lerobot.policies.utils import prepare_observation_for_inference  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt", type=Path)
    ap.add_argument("--embody", default="build/embody")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--task", default="put the tea bag in the mug")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    vlm = json.loads((args.ckpt / "vlm_config.json").read_text())
    sg.install_offline_patches()
    sg._ACTIVE["vlm_config"] = SmolVLMConfig(vision_config=vlm["vision_config"], text_config=vlm["text_config"],
                                             scale_factor=vlm["scale_factor"], vocab_size=vlm["vocab_size"])
    policy = SmolVLAPolicy.from_pretrained(str(args.ckpt))  # strict key/shape check
    policy.eval()
    pre, post = make_pre_post_processors(policy.config, pretrained_path=str(args.ckpt))

    cfg = policy.config
    # a state near the dataset's mean (the normalizer step's statistics)
    state = np.asarray(pre.steps[-1].stats["observation.state"]["mean"], dtype=np.float32) + 0.1
    rng = np.random.default_rng(args.seed)
    obs = {"observation.state": state.astype(np.float32)}
    cmd = [args.embody, "infer", str(args.ckpt), "--json", "--normalized", "--noise-seed", str(args.seed),
           "--siglip-position-ids", "transformers-fp32", "--threads", "2", "--task", args.task]
    with tempfile.TemporaryDirectory() as tmp:
        for key, feat in cfg.input_features.items():
            if not key.startswith("observation.images."):
                continue
            _, h, w = feat.shape
            img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            obs[key] = img
            png = Path(tmp) / (key.split(".")[-1] + ".png")
            Image.fromarray(img).save(png)
            cmd += ["--image", f"{key}={png}"]
        cmd += ["--state", ",".join(f"{v:.9g}" for v in state)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    ours = np.asarray(json.loads(out)["actions"], dtype=np.float32)

    # embody infer --noise-seed S: the seeded tensor rule for key "noise.S", shape [chunk * dim, 1]
    n = cfg.chunk_size * cfg.max_action_dim
    noise = torch.from_numpy(sg.seeded.seeded_tensor(f"noise.{args.seed}", (n, 1)).reshape(1, cfg.chunk_size,
                                                                                            cfg.max_action_dim))
    with torch.inference_mode():
        batch = pre(prepare_observation_for_inference(dict(obs), torch.device("cpu"), args.task))
        theirs = policy.predict_action_chunk(batch, noise=noise)[0].numpy()  # normalized, max_action_dim wide
    theirs = np.asarray(theirs, dtype=np.float32)

    width = min(theirs.shape[-1], ours.shape[-1])
    err = float(np.abs(theirs[:, :width] - ours[:, :width]).max())
    print(f"{args.ckpt}: LeRobot {type(policy).__name__} loaded (strict); chunk {theirs.shape}, "
          f"max abs error vs embody infer {err:.3g} (normalized)")
    return 0 if err <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
