#!/usr/bin/env python3
"""Latency of the default ACT policy: LeRobot eager PyTorch vs ONNX Runtime FP32 vs embody.

Builds the default LeRobot ACT (cameras top/gripper/left at 3x480x640, state 6, action 6) with
seeded weights (docs/formats/seeded-weights.md, base_seed 0, same as tools/golden/act_golden.py),
saves a full LeRobot checkpoint (model.safetensors + config + processors) and measures, all with
the same thread count:

  (i)   torch: ACTPolicy.predict_action_chunk on a preprocessed batch, torch.inference_mode
  (ii)  ort:   the ACT network (images + state -> normalized action chunk) exported with
               torch.onnx.export and run with ONNX Runtime FP32 (output checked against torch)
  (iii) embody: `<embody> bench <ckpt> --threads T --runs R --json`, field total_ms.median/.p90
  (iv)  with --plan P (repeatable): `embody quantize <ckpt> --plan P` then (iii) on the quantized
        checkpoint, and with --ort-int8 ONNX Runtime's dynamic int8 quantization of (ii); the
        action error of each against torch f32 is printed in action-std units (the normalized
        chunk: ACT normalizes actions with MEAN_STD)

Inputs are the seeded step-0 inputs (uint8 frames "input.0.<camera key>" / 255 -> CHW, state
"input.0.observation.state"), passed through LeRobot's preprocessor.

Usage: /opt/embody-tools-venv/bin/python bench/compare_act.py [--threads 2] [--runs 7]
       [--embody build/embody] [--ckpt-out DIR] [--json] [--skip-ort] [--hw 480x640]
       [--plan backbone=int8,encoder=int8 ...] [--ort-int8]
With --json the table goes to stderr and one JSON object to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "golden"))

import act_golden as ag  # noqa: E402
import torch  # noqa: E402

from lerobot.policies.act.modeling_act import ACTPolicy  # noqa: E402
from lerobot.policies.factory import make_pre_post_processors  # noqa: E402
from lerobot.policies.utils import prepare_observation_for_inference  # noqa: E402

LOG = sys.stdout


def log(*a):
    print(*a, file=LOG, flush=True)


def pct(xs, q):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q
    lo, hi = int(np.floor(k)), int(np.ceil(k))
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def time_fn(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return {"median": statistics.median(ts), "p90": pct(ts, 0.9), "min": min(ts), "runs": ts}


class ActNet(torch.nn.Module):
    """images (one tensor per camera, normalized, [1,3,H,W]) + normalized state -> chunk."""

    def __init__(self, policy: ACTPolicy, cam_keys: list[str], has_state: bool):
        super().__init__()
        self.model = policy.model
        self.cam_keys = cam_keys
        self.has_state = has_state

    def forward(self, state, *images):
        batch = {"observation.state": state, "observation.images": list(images)}
        return self.model(batch)[0]


def export_onnx(net, args, path, exporter):
    names = ["observation.state"] + [f"image{i}" for i in range(len(args) - 1)]
    kw = dict(input_names=names, output_names=["actions_normalized"], opset_version=18)
    if exporter == "dynamo":
        torch.onnx.export(net, tuple(args), str(path), dynamo=True, external_data=True, **kw)
    else:
        torch.onnx.export(net, tuple(args), str(path), dynamo=False, do_constant_folding=True, **kw)


def run_embody(exe, ckpt, threads, runs):
    cmd = [exe, "bench", str(ckpt), "--threads", str(threads), "--runs", str(runs), "--json"]
    log("embody:", " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        log(f"embody: bench failed (rc={p.returncode}): {p.stderr.strip()[-2000:]}")
        return None
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        # tolerate log lines before the JSON object: take the last line that parses
        d = None
        for line in reversed(p.stdout.strip().splitlines()):
            try:
                d = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
        if d is None:
            log("embody: bench output is not JSON")
            return None
    tm = d.get("total_ms", {})
    if not isinstance(tm, dict) or "median" not in tm:
        log(f"embody: no total_ms.median in {list(d)}")
        return None
    return {"median": float(tm["median"]), "p90": float(tm.get("p90", float("nan"))), "raw": d}


def embody_infer_diff(exe, ckpt, chunk_norm, chunk_unnorm):
    cmd = [exe, "infer", str(ckpt), "--seeded-inputs", "--json"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except Exception as e:  # noqa: BLE001
        log(f"embody infer: skipped ({e})")
        return None
    if p.returncode != 0:
        log(f"embody infer: skipped (rc={p.returncode})")
        return None
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        log("embody infer: skipped (output is not JSON)")
        return None
    out = {}
    for key, ref in (("chunk_normalized", chunk_norm), ("actions_normalized", chunk_norm),
                     ("chunk", chunk_unnorm), ("actions", chunk_unnorm)):
        if key in d:
            got = np.asarray(d[key], dtype=np.float64).reshape(ref.shape)
            out[key] = float(np.max(np.abs(got - ref)))
            log(f"embody infer: max |{key} - torch| = {out[key]:.3e}")
    if not out:
        log(f"embody infer: no chunk field in {list(d)}")
    return out or None


def embody_action_err_std(exe, ckpt, chunk_unnorm, std):
    """max |embody - torch| / std over the chunk (robot units divided by the action std)."""
    p = subprocess.run([exe, "infer", str(ckpt), "--seeded-inputs", "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        log(f"embody infer {ckpt}: failed (rc={p.returncode})")
        return None
    got = np.asarray(json.loads(p.stdout)["actions"], dtype=np.float64).reshape(chunk_unnorm.shape)
    err = float(np.max(np.abs(got - chunk_unnorm) / std))
    log(f"embody infer {Path(ckpt).name}: max action error {err:.3e} std")
    return err


def main(argv=None) -> int:
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--embody", default=str(REPO / "build" / "embody"))
    ap.add_argument("--ckpt-out", default=None, help="write the checkpoint here (kept)")
    ap.add_argument("--cams", default="top,gripper,left")
    ap.add_argument("--hw", default="480x640", help="camera H x W")
    ap.add_argument("--json", action="store_true", help="JSON on stdout, table on stderr")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-ort", action="store_true")
    ap.add_argument("--plan", action="append", default=[],
                    help="also run embody quantized with this precision plan (repeatable)")
    ap.add_argument("--ort-int8", action="store_true", help="also run ONNX Runtime dynamic int8 quantization")
    ap.add_argument("--onnx-exporter", choices=["legacy", "dynamo"], default="legacy",
                    help="torch.onnx.export path (falls back to the other one on failure)")
    args = ap.parse_args(argv)
    if args.json:
        LOG = sys.stderr

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    h, w = (int(x) for x in args.hw.lower().split("x"))
    case = dict(cams=[c for c in args.cams.split(",") if c], hw=(h, w), steps=1, cfg={})

    tmp = Path(tempfile.mkdtemp(prefix="compare_act_"))
    ckpt = Path(args.ckpt_out) if args.ckpt_out else tmp / "ckpt"
    ckpt.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    torch.manual_seed(0)
    cfg = ag.make_config(case)
    policy = ACTPolicy(cfg)
    policy.eval()
    ag.seed_policy(policy, bf16=False)
    stats = ag.make_stats(case)
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    policy.save_pretrained(ckpt)
    pre.save_pretrained(ckpt)
    post.save_pretrained(ckpt)
    log(f"checkpoint: {ckpt} ({time.perf_counter() - t0:.1f} s) "
        f"cameras={[ag.cam_key(c) for c in case['cams']]} {h}x{w} threads={args.threads} runs={args.runs}")

    obs = ag.make_observation(case, 0, dummy_state=False)
    with torch.inference_mode():
        batch = pre(prepare_observation_for_inference(dict(obs), torch.device("cpu")))
    cam_keys = [ag.cam_key(c) for c in case["cams"]]
    batch = {k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}

    results = {}
    with torch.inference_mode():
        ref = policy.predict_action_chunk(batch)
    chunk_norm = ref[0].numpy().astype(np.float64)
    mean = stats["action"]["mean"].astype(np.float64)
    std = stats["action"]["std"].astype(np.float64)
    chunk_unnorm = chunk_norm * std + mean

    if not args.skip_torch:
        def run_torch():
            with torch.inference_mode():
                policy.predict_action_chunk(batch)

        results["lerobot_torch_eager"] = time_fn(run_torch, args.warmup, args.runs)
        log(f"torch: median {results['lerobot_torch_eager']['median']:.1f} ms")

    ort_diff = None
    if not args.skip_ort:
        import onnxruntime as ort

        net = ActNet(policy, cam_keys, True).eval()
        inputs = [batch["observation.state"]] + [batch[k] for k in cam_keys]
        onnx_path = tmp / "act.onnx"
        t0 = time.perf_counter()
        order = [args.onnx_exporter] + [e for e in ("legacy", "dynamo") if e != args.onnx_exporter]
        used = None
        for exp in order:
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    export_onnx(net, inputs, onnx_path, exp)
                used = exp
                break
            except Exception as e:  # noqa: BLE001
                log(f"onnx export ({exp}) failed: {type(e).__name__}: {str(e)[:300]}")
        if used is None:
            log("ort: skipped (export failed)")
        else:
            log(f"onnx export ({used}): {time.perf_counter() - t0:.1f} s")
            so = ort.SessionOptions()
            so.intra_op_num_threads = args.threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
            feed = {i.name: t.numpy() for i, t in zip(sess.get_inputs(), inputs)}
            out = sess.run(None, feed)[0]
            ort_diff = float(np.max(np.abs(out[0].astype(np.float64) - chunk_norm)))
            log(f"ort vs torch: max abs diff {ort_diff:.3e} (normalized chunk {list(out.shape)})")
            results["onnxruntime_fp32"] = time_fn(lambda: sess.run(None, feed), args.warmup, args.runs)
            results["onnxruntime_fp32"]["exporter"] = used
            log(f"ort: median {results['onnxruntime_fp32']['median']:.1f} ms")
            if args.ort_int8:
                try:
                    from onnxruntime.quantization import QuantType, quantize_dynamic

                    q_path = tmp / "act_int8.onnx"
                    quantize_dynamic(str(onnx_path), str(q_path), weight_type=QuantType.QInt8)
                    qs = ort.InferenceSession(str(q_path), so, providers=["CPUExecutionProvider"])
                    qout = qs.run(None, feed)[0]
                    qerr = float(np.max(np.abs(qout[0].astype(np.float64) - chunk_norm)))
                    results["onnxruntime_int8_dynamic"] = time_fn(lambda: qs.run(None, feed), args.warmup, args.runs)
                    results["onnxruntime_int8_dynamic"]["action_err_std"] = qerr
                    log(f"ort int8: median {results['onnxruntime_int8_dynamic']['median']:.1f} ms, "
                        f"max action error {qerr:.3e} std")
                except Exception as e:  # noqa: BLE001
                    log(f"ort int8: skipped ({type(e).__name__}: {str(e)[:300]})")

    emb_diff = None
    exe = args.embody
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        log("embody: not built")
    else:
        r = run_embody(exe, ckpt, args.threads, args.runs)
        if r is not None:
            results["embody"] = r
        emb_diff = embody_infer_diff(exe, ckpt, chunk_norm, chunk_unnorm)
        for i, plan in enumerate(args.plan):
            # Numbered, not named after the plan: a plan with per-layer overrides is longer than
            # a file name may be.
            qdir = tmp / f"q{i}"
            cmd = [exe, "quantize", str(ckpt), "--plan", plan, "-o", str(qdir), "--no-report", "--json"]
            log("embody:", " ".join(cmd))
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                log(f"embody quantize failed (rc={p.returncode}): {p.stderr.strip()[-1000:]}")
                continue
            r = run_embody(exe, qdir, args.threads, args.runs)
            if r is None:
                continue
            r["action_err_std"] = embody_action_err_std(exe, qdir, chunk_unnorm, std)
            results["embody " + plan] = r

    base = results.get("embody", {}).get("median")
    log("")
    ort_base = results.get("onnxruntime_fp32", {}).get("median")
    log(f"{'engine':<40} | {'median ms':>10} | {'p90 ms':>10} | {'median/embody':>13} | {'ort_fp32/x':>10} | {'act err (std)':>13}")
    log("-" * 112)
    for name, r in results.items():
        ratio = f"{r['median'] / base:.2f}x" if base else "n/a"
        speed = f"{ort_base / r['median']:.2f}x" if ort_base else "n/a"
        err = r.get("action_err_std")
        err_s = f"{err:.2e}" if isinstance(err, float) else ""
        log(f"{name:<40} | {r['median']:>10.1f} | {r['p90']:>10.1f} | {ratio:>13} | {speed:>10} | {err_s:>13}")
    if ort_diff is not None:
        log(f"ort max abs diff vs torch (normalized chunk): {ort_diff:.3e}")

    summary = {
        "model": "act", "cameras": cam_keys, "image_hw": [h, w], "threads": args.threads,
        "runs": args.runs, "warmup": args.warmup, "checkpoint": str(ckpt),
        "lerobot_version": __import__("lerobot").__version__, "torch_version": torch.__version__,
        "results": {k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in results.items()},
        "ort_max_abs_diff": ort_diff, "embody_infer_max_abs_diff": emb_diff,
    }
    if args.json:
        print(json.dumps(summary))
    shutil.rmtree(tmp, ignore_errors=True)  # the ONNX file, and the checkpoint unless --ckpt-out
    return 0


if __name__ == "__main__":
    sys.exit(main())
