#!/usr/bin/env python3
"""Latency of a full-size SmolVLA (smolvla_base configuration): LeRobot eager PyTorch vs embody.

Builds LeRobot 0.4.4's SmolVLAPolicy with the smolvla_base configuration (SmolVLM2-500M widths:
12 SigLIP layers at 512x512, 16 of the 32 SmolLM2 layers, a 720-wide expert with as many layers,
chunk 50, 10 flow-matching steps, language padded to max_length 48 as smolvla_base stores it),
3 cameras observation.images.camera{1,2,3} at 3x512x512, state 6, action 6, seeded weights
(docs/formats/seeded-weights.md, base_seed 0, same rule as tools/golden/smolvla_golden.py) and
the offline VLM config / tokenizer of smolvla_golden.py (see the top of that file for what is
patched). It saves the checkpoint (LeRobot layout + vlm_config.json + tokenizer/ with the
tokenizer files) and measures, with the same thread count:

  (i)  torch: SmolVLAPolicy.predict_action_chunk(batch, noise=seeded "noise.0") on the
       preprocessed step-0 batch, under torch.inference_mode; median of --runs after --warmup.
       Per block (LeRobot's own calls, timed by wrapping them):
         vision[<camera>]  SmolVLMWithExpertModel.embed_image (SigLIP + connector) per camera
         llm               end of the last embed_image -> end of the prefix pass (language
                           embedding, state projection, masks, 16-layer prefix pass + KV cache)
         expert            end of the prefix pass -> end of sample_actions (10 denoising steps,
                           including LeRobot's per-step cross-attention K/V re-projection)
         other             the rest of predict_action_chunk (resize_with_pad, *2-1, padding, ...)
  (ii) embody: `<embody> bench <ckpt> --threads T --runs R --json`; reads "total_ms": {"median"}
       and, if present, per-block medians ("blocks": {name: {"median"} | number}, or ACT-style
       top-level "<name>_ms" summaries such as vision_ms [per camera], llm_ms, expert_ms).

Usage: /opt/embody-tools-venv/bin/python bench/compare_smolvla.py [--threads 2] [--runs 3]
       [--warmup 1] [--embody build/embody] [--ckpt-out DIR] [--json] [--skip-torch]
With --json the table goes to stderr and one JSON object to stdout.
Memory: ~450M parameters, 1.8 GB fp32 for the model plus a transient copy while saving.
On a shared machine torch's OpenMP threads slow down several-fold as soon as another process
takes a core (runs of the same input ranged 4.5 s to 37 s here), so the load average is logged
before and after the torch runs and the per-run times and per-block minima are reported too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "golden"))

import smolvla_golden as sg  # noqa: E402  (sets HF_HUB_OFFLINE, offline patches, seeded helpers)
import seeded  # noqa: E402
import torch  # noqa: E402

from lerobot.policies.factory import make_pre_post_processors  # noqa: E402
from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy  # noqa: E402
from lerobot.policies.utils import prepare_observation_for_inference  # noqa: E402

LOG = sys.stdout

BASE_CASE = dict(
    vision=dict(sg.FULL_VISION), text=dict(sg.FULL_TEXT), top=dict(sg.FULL_TOP),
    cams={}, steps=1, task=sg.TASK,
    cfg=dict(chunk_size=50, n_action_steps=50, num_steps=10, resize_imgs_with_padding=(512, 512),
             max_state_dim=32, max_action_dim=32, tokenizer_max_length=48, num_vlm_layers=16,
             num_expert_layers=0, self_attn_every_n_layers=2, expert_width_multiplier=0.75,
             pad_language_to="max_length"),
)


def log(*a):
    print(*a, file=LOG, flush=True)


def pct(xs, q):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q
    lo, hi = int(np.floor(k)), int(np.ceil(k))
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(ts):
    return {"median": statistics.median(ts), "p90": pct(ts, 0.9), "min": min(ts), "runs": ts}


def seed_policy_inplace(policy: torch.nn.Module) -> int:
    """Same values as sg.seed_policy, written tensor by tensor (no second full copy in memory)."""
    n = 0
    with torch.no_grad():
        for key, t in policy.state_dict().items():
            if t.dtype != torch.float32:
                raise SystemExit(f"{key}: dtype {t.dtype}, expected float32")
            t.copy_(torch.from_numpy(seeded.seeded_tensor(key, tuple(t.shape), sg.BASE_SEED)))
            n += t.numel()
    return n


class BlockTimer:
    """Times LeRobot's own calls by wrapping them (instance attributes; the module is unchanged)."""

    def __init__(self, policy):
        m = policy.model
        vwe = m.vlm_with_expert
        self.reset()
        self._wrap(vwe, "embed_image", self._image)
        self._wrap(vwe, "forward", self._vwe_forward)
        self._wrap(m, "sample_actions", self._sample)

    def reset(self):
        self.images = []          # (start, end) per embed_image call
        self.prefix_end = None
        self.sample = None        # (start, end)

    @staticmethod
    def _wrap(obj, name, rec):
        orig = getattr(obj, name)

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = orig(*args, **kwargs)
            rec(t0, time.perf_counter(), kwargs)
            return out

        setattr(obj, name, wrapper)

    def _image(self, t0, t1, kw):
        self.images.append((t0, t1))

    def _vwe_forward(self, t0, t1, kw):
        if kw.get("fill_kv_cache"):
            self.prefix_end = t1

    def _sample(self, t0, t1, kw):
        self.sample = (t0, t1)

    def blocks(self, total_ms, cam_names):
        ms = lambda a, b: (b - a) * 1e3  # noqa: E731
        out = {}
        for name, (a, b) in zip(cam_names, self.images):
            out[f"vision[{name}]"] = ms(a, b)
        out["llm"] = ms(self.images[-1][1], self.prefix_end)
        out["expert"] = ms(self.prefix_end, self.sample[1])
        out["other"] = total_ms - sum(out.values())
        return out


def run_embody(exe, ckpt, threads, runs, warmup):
    cmd = [exe, "bench", str(ckpt), "--threads", str(threads), "--runs", str(runs), "--warmup", str(warmup), "--json"]
    log("embody:", " ".join(cmd))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except Exception as e:  # noqa: BLE001
        log(f"embody: bench failed to run ({e})")
        return None
    if p.returncode != 0:
        log(f"embody: bench failed (rc={p.returncode}): {p.stderr.strip()[-2000:]}")
        return None
    d = None
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        for line in reversed(p.stdout.strip().splitlines()):
            try:
                d = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    if not isinstance(d, dict):
        log("embody: bench output is not JSON")
        return None
    tm = d.get("total_ms", {})
    if not isinstance(tm, dict) or "median" not in tm:
        log(f"embody: no total_ms.median in {list(d)}")
        return None
    return {"median": float(tm["median"]), "p90": float(tm.get("p90", float("nan"))),
            "blocks": embody_blocks(d), "raw": d}


def _median_of(v):
    if isinstance(v, dict) and "median" in v:
        return float(v["median"])
    if isinstance(v, (int, float)):
        return float(v)
    return None


def embody_blocks(d: dict) -> dict[str, float]:
    """Per-block medians from embody's JSON: entries of "blocks" and top-level "<name>_ms" entries
    (total/load excluded); a "_ms" suffix is dropped and a list becomes name[0], name[1], ...
    (embody 1098dd5 writes "blocks": {"vision_ms": [per camera], "llm_ms", "expert_ms",
    "expert_rerun_ms"}, each {"median", "p90", ...})."""
    out = {}

    def put(k, v):
        name = k[:-3] if k.endswith("_ms") else k
        if isinstance(v, list):
            for i, x in enumerate(v):
                m = _median_of(x)
                if m is not None:
                    out[f"{name}[{i}]"] = m
        else:
            m = _median_of(v)
            if m is not None:
                out[name] = m

    if isinstance(d.get("blocks"), dict):
        for k, v in d["blocks"].items():
            put(k, v)
    for k, v in d.items():
        if k.endswith("_ms") and k not in ("total_ms", "load_ms"):
            put(k, v)
    return out


def match_block(name: str, emb: dict[str, float], cam_names: list[str]):
    if name in emb:
        return emb[name]
    if name.startswith("vision["):
        cam = name[len("vision["):-1]
        i = cam_names.index(cam)
        for k in (f"vision[{i}]", f"vision_{i}", f"vision[{cam}]"):
            if k in emb:
                return emb[k]
    return None


def main(argv=None) -> int:
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--embody", default=str(REPO / "build" / "embody"))
    ap.add_argument("--ckpt-out", default=None, help="write the checkpoint here (kept)")
    ap.add_argument("--cams", default="camera1,camera2,camera3")
    ap.add_argument("--hw", default="512x512", help="camera H x W")
    ap.add_argument("--json", action="store_true", help="JSON on stdout, table on stderr")
    ap.add_argument("--skip-torch", action="store_true")
    args = ap.parse_args(argv)
    if args.json:
        LOG = sys.stderr

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    h, w = (int(x) for x in args.hw.lower().split("x"))
    cams = [c for c in args.cams.split(",") if c]
    case = dict(BASE_CASE, cams={c: (h, w) for c in cams})

    tmp = Path(tempfile.mkdtemp(prefix="compare_smolvla_"))
    ckpt = Path(args.ckpt_out) if args.ckpt_out else tmp / "ckpt"
    ckpt.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    vlm_cfg = sg.activate(case)
    torch.manual_seed(0)
    cfg = sg.make_config(case)
    with contextlib.redirect_stdout(LOG):  # LeRobot prints while building; keep --json stdout clean
        policy = SmolVLAPolicy(cfg)
    policy.eval()
    n_params = seed_policy_inplace(policy)
    stats = sg.make_stats()
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    sg.save_checkpoint(policy, pre, post, vlm_cfg, ckpt, with_tokenizer=True)
    log(f"checkpoint: {ckpt} ({n_params / 1e6:.1f} M params, {time.perf_counter() - t0:.1f} s) "
        f"cameras={[sg.cam_key(c) for c in cams]} {h}x{w} threads={args.threads} runs={args.runs} "
        f"warmup={args.warmup}")

    obs = sg.make_observation(case, 0)
    with torch.inference_mode():
        batch = pre(prepare_observation_for_inference(dict(obs), torch.device("cpu"), case["task"]))
    noise = sg.seeded_noise(0, cfg.chunk_size, cfg.max_action_dim)
    n_lang = int(batch[sg.MASK_KEY].sum())
    log(f"prefix: {len(cams)} x 64 image tokens + {batch[sg.TOKENS_KEY].shape[1]} language tokens "
        f"({n_lang} valid) + 1 state token")

    results, blocks, blocks_min = {}, {}, {}
    cam_names = [sg.cam_key(c) for c in cams]
    if not args.skip_torch:
        timer = BlockTimer(policy)
        log(f"load average before torch runs: {os.getloadavg()[0]:.2f}")
        tot, per = [], []
        for i in range(args.warmup + args.runs):
            timer.reset()
            b = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}
            ta = time.perf_counter()
            with torch.inference_mode():
                chunk = policy.predict_action_chunk(b, noise=noise.clone())
            ms = (time.perf_counter() - ta) * 1e3
            log(f"  torch run {i}{' (warmup)' if i < args.warmup else ''}: {ms:.0f} ms")
            if i >= args.warmup:
                tot.append(ms)
                per.append(timer.blocks(ms, cam_names))
        log(f"load average after torch runs: {os.getloadavg()[0]:.2f}")
        results["lerobot_torch_eager"] = summary(tot)
        blocks = {k: statistics.median(p[k] for p in per) for k in per[0]}
        blocks_min = {k: min(p[k] for p in per) for k in per[0]}
        log(f"torch: median {results['lerobot_torch_eager']['median']:.0f} ms "
            f"(min {results['lerobot_torch_eager']['min']:.0f} ms), chunk {list(chunk.shape)} "
            f"[0,0,:3]={chunk[0, 0, :3].tolist()}")

    exe = args.embody
    emb = None
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        log("embody: not built")
    else:
        emb = run_embody(exe, ckpt, args.threads, args.runs, args.warmup)
        if emb is not None:
            results["embody"] = emb
            if "prefix_length" in emb["raw"]:
                log(f"embody prefix length: {emb['raw']['prefix_length']} tokens "
                    f"(LeRobot: {64 * len(cams) + batch[sg.TOKENS_KEY].shape[1] + 1}, pads included)")

    base = results.get("embody", {}).get("median")
    log("")
    log(f"{'engine':<22} | {'median ms':>10} | {'p90 ms':>10} | {'median/embody':>15}")
    log("-" * 66)
    for name, r in results.items():
        ratio = f"{r['median'] / base:.2f}x" if base else "n/a"
        log(f"{name:<22} | {r['median']:>10.1f} | {r['p90']:>10.1f} | {ratio:>15}")
    if blocks:
        eb = emb["blocks"] if emb else {}
        log("")
        log(f"{'block (medians; torch min too)':<36} | {'torch ms':>10} | {'torch min':>10} | {'embody ms':>10} | "
            f"{'torch/embody':>13}")
        log("-" * 93)
        for k, v in blocks.items():
            e = match_block(k, eb, cam_names)
            es = f"{e:>10.1f}" if e is not None else f"{'-':>10}"
            rs = f"{v / e:>12.2f}x" if e else f"{'n/a':>13}"
            log(f"{k:<36} | {v:>10.1f} | {blocks_min[k]:>10.1f} | {es} | {rs}")
        extra = [k for k in eb if all(match_block(b, {k: 0.0}, cam_names) is None for b in blocks)]
        for k in extra:
            log(f"{'embody ' + k:<36} | {'-':>10} | {'-':>10} | {eb[k]:>10.1f} |")

    summary_json = {
        "model": "smolvla", "config": "smolvla_base widths, seeded weights", "cameras": cam_names,
        "image_hw": [h, w], "threads": args.threads, "runs": args.runs, "warmup": args.warmup,
        "num_steps": cfg.num_steps, "chunk_size": cfg.chunk_size, "params": n_params,
        "checkpoint": str(ckpt), "lerobot_version": __import__("lerobot").__version__,
        "torch_version": torch.__version__, "transformers_version": __import__("transformers").__version__,
        "results": {k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in results.items()},
        "torch_blocks_median_ms": blocks, "torch_blocks_min_ms": blocks_min,
    }
    if args.json:
        print(json.dumps(summary_json))
    del policy
    shutil.rmtree(tmp, ignore_errors=True)  # the checkpoint unless --ckpt-out
    return 0


if __name__ == "__main__":
    sys.exit(main())
