#!/usr/bin/env python3
"""Load a checkpoint written by `embody train` with LeRobot itself and compare its actions with
`embody infer` on the same observation.

    /opt/embody-tools-venv/bin/python tools/train/check_lerobot_load.py CKPT --embody build/embody

CKPT is a pretrained_model/ folder. LeRobot builds ACTPolicy from config.json, loads
model.safetensors (strict: every key must match) and its processors from the normalizer files;
the observation (seeded images, a state and environment state near the dataset mean) goes through LeRobot's
predict_action; the whole chunk is compared in normalized units (tolerance 1e-4 by default).
Exit status 0 when they agree.
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

from lerobot.policies.act.modeling_act import ACTPolicy
from lerobot.policies.factory import make_pre_post_processors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt", type=Path)
    ap.add_argument("--embody", default="build/embody")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    policy = ACTPolicy.from_pretrained(str(args.ckpt))  # strict key/shape check
    policy.eval()
    pre, post = make_pre_post_processors(policy.config, pretrained_path=str(args.ckpt))
    cfg = policy.config
    rng = np.random.default_rng(args.seed)
    obs = {}
    images = {}
    for key, feat in cfg.input_features.items():
        if feat.type.name == "VISUAL":
            c, h, w = feat.shape
            img = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
            images[key] = img
            obs[key] = torch.from_numpy(img).permute(2, 0, 1).float().div(255).unsqueeze(0)
    state = None
    if "observation.state" in cfg.input_features:
        dim = cfg.input_features["observation.state"].shape[0]
        state = (rng.standard_normal(dim) * 5).astype(np.float32)
        obs["observation.state"] = torch.from_numpy(state).unsqueeze(0)
    env_state = None
    if "observation.environment_state" in cfg.input_features:
        dim = cfg.input_features["observation.environment_state"].shape[0]
        env_state = rng.standard_normal(dim).astype(np.float32) * 0.1
        obs["observation.environment_state"] = torch.from_numpy(env_state).unsqueeze(0)

    with torch.no_grad():
        batch = pre(obs)
        chunk_norm = policy.predict_action_chunk(batch)[0].numpy()  # [chunk, action_dim]
        chunk = post(policy.predict_action_chunk(batch))[0].numpy()
    print(f"LeRobot loaded {args.ckpt}: {sum(p.numel() for p in policy.parameters())} parameters, "
          f"chunk {list(chunk.shape)}")

    with tempfile.TemporaryDirectory(prefix="embody_check_") as tmp:
        cmd = [args.embody, "infer", str(args.ckpt), "--json", "--normalized"]
        for key, img in images.items():
            path = Path(tmp) / (key.rsplit(".", 1)[-1] + ".png")
            Image.fromarray(img).save(path)
            cmd += ["--image", f"{key}={path}"]
        if state is not None:
            cmd += ["--state", ",".join(repr(float(x)) for x in state)]
        if env_state is not None:
            cmd += ["--env-state", ",".join(repr(float(x)) for x in env_state)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    ours = np.asarray(json.loads(out)["actions"], dtype=np.float32)
    err = float(np.abs(ours - chunk_norm).max())
    print(f"embody infer vs LeRobot, normalized chunk: max abs error {err:.2e} (tolerance {args.tolerance})")
    print(f"first action (robot units), LeRobot: {np.round(chunk[0], 4).tolist()}")
    return 0 if err <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
