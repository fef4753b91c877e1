#!/usr/bin/env python3
"""One ACT training step, LeRobot (PyTorch eager) vs `embody train --bench`, in one run.

A training step is what lerobot-train does per batch: ACTPolicy.forward on a batch of B frames
(normalized images of every camera, state, a chunk of actions with its padding mask; CVAE
encoder, L1 + kl_weight * KL), backward, gradient clipping at 10 and AdamW with LeRobot's two
parameter groups (backbone at optimizer_lr_backbone). Both sides use the same config (LeRobot's
ACT defaults unless --dim-model is given), batch, cameras and image size, random inputs, and the
same thread count; each reports the median of --steps timed steps after one warm-up step.

Usage: /opt/embody-tools-venv/bin/python bench/compare_act_train.py [--threads 2] [--batch-size 8]
       [--cameras 3] [--hw 480x640] [--steps 3] [--dim-model 512] [--dim-feedforward 3200]
       [--use-amp] [--embody-train build/embody-train] [--skip-torch] [--json]

--use-amp is LeRobot's policy.use_amp on both sides: lerobot-train wraps the forward pass in
torch.autocast(device_type="cpu"), whose default dtype there is bfloat16; embody train --use-amp
does the same in libtorch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "golden"))

LOG = sys.stdout


def log(*a):
    print(*a, file=LOG, flush=True)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def torch_step_seconds(a) -> list[float]:
    import torch

    import act_golden as ag
    from lerobot.policies.act.modeling_act import ACTPolicy

    torch.set_num_threads(a.threads)
    h, w = a.hw
    cams = [f"cam{i}" for i in range(a.cameras)]
    cfg = ag.make_config(dict(cams=cams, hw=(h, w),
                              cfg={"dim_model": a.dim_model, "dim_feedforward": a.dim_feedforward}))
    torch.manual_seed(0)
    policy = ACTPolicy(cfg)
    policy.train()
    opt = torch.optim.AdamW(policy.get_optim_params(), lr=cfg.optimizer_lr,
                            weight_decay=cfg.optimizer_weight_decay)
    b, chunk = a.batch_size, cfg.chunk_size
    batch = {"observation.state": torch.randn(b, 6), "action": torch.randn(b, chunk, 6),
             "action_is_pad": torch.zeros(b, chunk, dtype=torch.bool)}
    for c in cams:
        batch[ag.cam_key(c)] = torch.randn(b, 3, h, w)

    def step():
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=a.use_amp):
            loss, _ = policy.forward(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 10.0)
        opt.step()
        opt.zero_grad()

    step()  # warm-up
    ts = []
    for i in range(a.steps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
        log(f"  torch step {i}: {ts[-1]:.2f} s")
    return ts


def embody_step_seconds(a) -> float:
    h, w = a.hw
    cmd = [a.embody_train, "train", "--bench", "--json", "--batch-size", str(a.batch_size),
           "--bench-cameras", str(a.cameras), "--bench-height", str(h), "--bench-width", str(w),
           "--bench-steps", str(a.steps), "--threads", str(a.threads), "--dim-model", str(a.dim_model),
           "--dim-feedforward", str(a.dim_feedforward)] + (["--use-amp"] if a.use_amp else [])
    log("embody: " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"embody train --bench failed: {p.stderr[-2000:]}")
    return float(json.loads(p.stdout)["seconds_per_step"])


def main(argv=None) -> int:
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--cameras", type=int, default=3)
    ap.add_argument("--hw", default="480x640", help="image H x W")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--dim-model", type=int, default=512)
    ap.add_argument("--dim-feedforward", type=int, default=3200)
    ap.add_argument("--use-amp", action="store_true", help="bf16 autocast of the forward pass on both sides")
    ap.add_argument("--embody-train", default=str(REPO / "build" / "embody-train"))
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--json", action="store_true", help="JSON on stdout, log on stderr")
    a = ap.parse_args(argv)
    a.hw = tuple(int(x) for x in a.hw.lower().split("x"))
    if a.json:
        LOG = sys.stderr

    log(f"ACT training step, batch {a.batch_size}, {a.cameras} cameras {a.hw[0]}x{a.hw[1]}, "
        f"dim_model {a.dim_model}, {a.threads} threads{', bf16 autocast' if a.use_amp else ''}; "
        f"load average {load_average()}")
    out = {"batch_size": a.batch_size, "cameras": a.cameras, "height": a.hw[0], "width": a.hw[1],
           "dim_model": a.dim_model, "dim_feedforward": a.dim_feedforward, "threads": a.threads,
           "use_amp": a.use_amp}
    if not a.skip_torch:
        ts = torch_step_seconds(a)
        out["torch_s"] = statistics.median(ts)
        log(f"LeRobot (PyTorch eager): {out['torch_s']:.2f} s/step (median of {len(ts)})")
    out["embody_s"] = embody_step_seconds(a)
    log(f"embody (libtorch):       {out['embody_s']:.2f} s/step (median of {a.steps})")
    if "torch_s" in out:
        out["torch_over_embody"] = out["torch_s"] / out["embody_s"]
        log(f"ratio torch / embody:    {out['torch_over_embody']:.2f}x")
    log(f"load average after: {load_average()}")
    if a.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
