#!/usr/bin/env python3
"""SmolVLA's arithmetic per block, and how close `embody bench` gets to the machine's peak.

Counts the multiply-adds of one predict_action_chunk from a checkpoint's config.json and
vlm_config.json (2 FLOPs each; softmax, norms and activations are not counted), runs
`embody bench <ckpt> --json` (or reads a saved JSON), and prints per block: GFLOP, measured
median, achieved GFLOP/s and the share of the peak. The peak is what one large GEMM reaches on
this machine with the same threads (`build/bench/embody_quant_bench`'s f32 2048^3 row times the
thread count, or pass --peak-gflops). The time the whole chunk needs at that peak is a floor no
f32 implementation can beat; --torch-ms turns it into the largest speed-up over PyTorch that f32
arithmetic allows here.

Usage: python3 bench/smolvla_roofline.py CKPT [--embody build/embody] [--threads 2] [--runs 3]
       [--plan f32] [--bench-json FILE] [--peak-gflops 268] [--torch-ms 4526]
Standard library only (no PyTorch).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def expert_intermediate(hidden: int) -> int:
    # LeRobot's get_intermediate_size (smolvlm_with_expert.py): 4 * int(2h/3), rounded up to 256.
    h = 4 * int(2 * hidden / 3)
    return 256 * ((h + 255) // 256)


def flops(cfg: dict, vlm: dict, prefix_len: int, cameras: int) -> dict[str, float]:
    """FLOPs (2 per multiply-add) of each block for one chunk."""
    v, t = vlm["vision_config"], vlm["text_config"]
    patches = (v["image_size"] // v["patch_size"]) ** 2
    d, f = v["hidden_size"], v["intermediate_size"]
    vision_layer = 2 * patches * (4 * d * d + 2 * d * f) + 2 * 2 * patches * patches * d
    patch_embed = 2 * patches * (3 * v["patch_size"] ** 2) * d
    vision = cameras * (v["num_hidden_layers"] * vision_layer + patch_embed)
    sf = vlm.get("scale_factor", 4)
    connector = cameras * 2 * (patches // (sf * sf)) * (d * sf * sf) * t["hidden_size"]

    h, hd = t["hidden_size"], t["head_dim"]
    q_dim, kv_dim = t["num_attention_heads"] * hd, t["num_key_value_heads"] * hd
    layers = cfg.get("num_vlm_layers", t["num_hidden_layers"])
    llm_params = 2 * h * q_dim + 2 * h * kv_dim + 3 * h * t["intermediate_size"]
    llm = layers * (2 * prefix_len * llm_params + 2 * 2 * prefix_len * prefix_len * q_dim)

    eh = int(h * cfg.get("expert_width_multiplier", 0.75))
    ei = expert_intermediate(eh)
    chunk, steps = cfg["chunk_size"], cfg.get("num_steps", 10)
    n_expert = cfg.get("num_expert_layers", -1)
    n_expert = layers if n_expert <= 0 else n_expert
    every = cfg.get("self_attn_every_n_layers", 2)
    per_step = 0
    reproject = 0
    for i in range(n_expert):
        self_attn = every > 0 and i % every == 0
        per_step += 2 * chunk * (eh * q_dim + q_dim * eh + 3 * eh * ei)
        if self_attn:  # K/V from the expert's own tokens, attending to prefix + chunk
            per_step += 2 * chunk * 2 * eh * kv_dim + 2 * 2 * chunk * (prefix_len + chunk) * q_dim
        else:  # cross-attention to the prefix K/V, re-projected once per chunk
            reproject += 2 * prefix_len * 2 * kv_dim * kv_dim
            per_step += 2 * 2 * chunk * prefix_len * q_dim
    expert = steps * per_step + reproject
    return {"vision": vision, "connector": connector, "llm": llm, "expert": expert}


def median(x):
    if isinstance(x, dict):
        return float(x["median"])
    return float(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("--embody", default=str(Path(__file__).resolve().parents[1] / "build" / "embody"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--plan", default="f32")
    ap.add_argument("--bench-json", help="read `embody bench --json` output instead of running it")
    ap.add_argument("--peak-gflops", type=float, default=0.0, help="f32 GEMM peak for --threads")
    ap.add_argument("--torch-ms", type=float, default=0.0, help="PyTorch eager total, same threads")
    a = ap.parse_args(argv)

    ckpt = Path(a.ckpt)
    cfg = json.loads((ckpt / "config.json").read_text())
    vlm = json.loads((ckpt / "vlm_config.json").read_text())
    if a.bench_json:
        bench = json.loads(Path(a.bench_json).read_text())
    else:
        cmd = [a.embody, "bench", str(ckpt), "--threads", str(a.threads), "--runs", str(a.runs),
               "--plan", a.plan, "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}", file=sys.stderr)
            return 1
        bench = json.loads(p.stdout)
    cams = int(bench.get("cameras", 3))
    fl = flops(cfg, vlm, int(bench["prefix_length"]), cams)
    blocks = bench.get("blocks", {})
    ms = {
        "vision": sum(median(x) for x in blocks.get("vision_ms", [])),
        "llm": median(blocks["llm_ms"]) if "llm_ms" in blocks else 0.0,
        "expert": median(blocks["expert_ms"]) if "expert_ms" in blocks else 0.0,
    }
    # embody times the connector inside the vision block
    rows = [("vision+connector", fl["vision"] + fl["connector"], ms["vision"]),
            ("llm", fl["llm"], ms["llm"]), ("expert", fl["expert"], ms["expert"])]
    total_fl = sum(r[1] for r in rows)
    total_ms = median(bench["total_ms"])
    rows.append(("total", total_fl, total_ms))
    print(f"SmolVLA {cams} cameras, prefix {bench['prefix_length']} tokens, plan {bench.get('plan', a.plan)}, "
          f"{bench.get('threads', a.threads)} threads")
    # The share of the f32 peak only means something for f32 arithmetic; an int8 plan's blocks
    # run integer instructions with a higher peak, so their column stays empty.
    plan = str(bench.get("plan", a.plan))
    all_f32 = plan == "f32" or all(part.endswith("=f32") for part in plan.split(","))
    print(f"{'block':<18} {'GFLOP':>8} {'ms':>9} {'GFLOP/s':>9} {'of f32 peak':>12}")
    for name, f, t in rows:
        rate = f / 1e9 / (t / 1e3) if t > 0 else 0.0
        share = f"{rate / a.peak_gflops:11.0%}" if a.peak_gflops > 0 and t > 0 and all_f32 else ""
        print(f"{name:<18} {f / 1e9:8.1f} {t:9.1f} {rate:9.1f} {share:>12}")
    if a.peak_gflops > 0:
        floor_ms = total_fl / 1e9 / a.peak_gflops * 1e3
        print(f"floor at {a.peak_gflops:.0f} GFLOP/s: {floor_ms:.0f} ms for the chunk")
        if a.torch_ms > 0:
            print(f"PyTorch {a.torch_ms:.0f} ms: at most {a.torch_ms / floor_ms:.2f}x faster in f32 on this machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
