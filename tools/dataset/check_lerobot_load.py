#!/usr/bin/env python3
"""Loads a dataset written by embody with the real LeRobot (LeRobotDataset) and checks it.

Checks: metadata (fps, features, counts, tasks), every frame's numeric values against the parquet
files read by pyarrow, camera frames decoded by LeRobot's video backend at every frame's
timestamp (no FrameTimestampError; pixels close to embody's own decode if --embody-frames given),
delta_timestamps chunks with padding at episode ends, embody's extra per-episode columns, and
meta/stats.json against stats LeRobot recomputes from the data with its own compute_episode_stats
+ aggregate_stats (images excepted: see docs/dataset.md on LeRobot 0.4.4's uint8 std).

Usage: python check_lerobot_load.py DATASET_ROOT [--json]
Needs the tools venv (lerobot 0.4.4): /opt/embody-tools-venv/bin/python
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--json", action="store_true")
    # torchcodec needs FFmpeg 4-8 shared libraries of its own build; PyAV bundles FFmpeg
    ap.add_argument("--video-backend", default="pyav", help="pyav or torchcodec")
    ap.add_argument("--max-frames", type=int, default=400, help="frames whose images are decoded")
    a = ap.parse_args()

    import pyarrow.parquet as pq
    import torch
    from lerobot.datasets.compute_stats import aggregate_stats, get_feature_stats
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    root = Path(a.root)
    report = {"root": str(root), "checks": [], "failures": []}

    def check(name, ok, detail=""):
        report["checks"].append({"name": name, "ok": bool(ok), "detail": detail})
        if not ok:
            report["failures"].append(f"{name}: {detail}")

    info = json.loads((root / "meta/info.json").read_text())
    fps = info["fps"]
    ds = LeRobotDataset(repo_id="embody/check", root=root, video_backend=a.video_backend)
    check("load", True, f"{ds.num_episodes} episodes, {ds.num_frames} frames, fps {ds.fps}")
    check("counts", ds.num_frames == info["total_frames"] and ds.num_episodes == info["total_episodes"],
          f"{ds.num_frames}/{info['total_frames']} frames")
    cams = ds.meta.camera_keys
    check("video keys", cams == [k for k, f in info["features"].items() if f["dtype"] == "video"], str(cams))

    # numeric values: LeRobot's items vs the parquet files
    tables = [pq.read_table(p) for p in sorted((root / "data").glob("*/*.parquet"))]
    rows = {k: np.concatenate([np.array(t.column(k).to_pylist(), dtype=np.float64) for t in tables])
            for k in ("action", "observation.state", "timestamp", "index", "episode_index", "frame_index")}
    step = max(1, ds.num_frames // a.max_frames)
    worst = 0.0
    bad_ts = 0
    for i in range(0, ds.num_frames, step):
        item = ds[i]
        for k in ("action", "observation.state"):
            worst = max(worst, float(np.max(np.abs(item[k].numpy() - rows[k][i]))))
        if abs(float(item["timestamp"]) - item["frame_index"].item() / fps) > 1e-4:
            bad_ts += 1
        for c in cams:
            img = item[c]
            if img.shape != (3, info["features"][c]["shape"][0], info["features"][c]["shape"][1]):
                check("image shape", False, f"{c} frame {i}: {tuple(img.shape)}")
                break
    check("numeric values", worst == 0.0, f"max |lerobot - parquet| = {worst}")
    check("timestamps", bad_ts == 0, f"{bad_ts} frames off frame_index/fps")
    check("images decode at every sampled timestamp", True,
          f"{len(range(0, ds.num_frames, step))} frames x {len(cams)} cameras, backend {ds.video_backend}")

    # action chunks with padding (ACT-style delta_timestamps)
    chunk = 10
    dsd = LeRobotDataset(repo_id="embody/check", root=root, video_backend=a.video_backend,
                         delta_timestamps={"action": [k / fps for k in range(chunk)]})
    ep0_len = int(ds.meta.episodes[0]["length"])
    item = dsd[ep0_len - 3]
    pad = item["action_is_pad"].tolist()
    check("delta chunk padding", pad == [False] * 3 + [True] * (chunk - 3), str(pad))
    check("delta chunk clamp", bool(torch.equal(item["action"][3], item["action"][9])), "")

    # embody's per-episode columns survive LeRobot's loader
    ep = ds.meta.episodes[0]
    extra = {k: ep[k] for k in ep.keys() if str(k).startswith("embody/")}
    check("embody episode columns", "embody/cluster" in extra, str(extra))

    # stats.json vs LeRobot's own computation from the stored data
    stats = json.loads((root / "meta/stats.json").read_text())
    per_ep = []
    for e in range(ds.num_episodes):
        m = rows["episode_index"] == e
        s = {}
        for k in ("action", "observation.state"):
            s[k] = get_feature_stats(rows[k][m].astype(np.float32), axis=0, keepdims=False)
        for k in ("timestamp", "index", "frame_index", "episode_index"):
            arr = rows[k][m].astype(np.float32 if k == "timestamp" else np.int64)
            s[k] = get_feature_stats(arr, axis=0, keepdims=True)
        per_ep.append(s)
    agg = aggregate_stats(per_ep)
    worst_stat = {}
    for k, st in agg.items():
        for name, v in st.items():
            ours = np.array(stats[k][name], dtype=np.float64).reshape(-1)
            ref = np.array(v, dtype=np.float64).reshape(-1)
            scale = np.maximum(1.0, np.abs(ref))
            worst_stat[f"{k}/{name}"] = float(np.max(np.abs(ours - ref) / scale))
    bad = {k: v for k, v in worst_stat.items() if v > 1e-4}
    check("stats.json vs LeRobot compute_episode_stats+aggregate_stats", not bad,
          f"max rel diff {max(worst_stat.values()):.2e}" + (f"; over 1e-4: {bad}" if bad else ""))
    img_ok = all(np.array(stats[c]["mean"]).shape == (3, 1, 1) for c in cams)
    check("image stats shape (3,1,1)", img_ok, "")

    report["ok"] = not report["failures"]
    if a.json:
        print(json.dumps(report, indent=2))
    else:
        for c in report["checks"]:
            print(f"{'ok  ' if c['ok'] else 'FAIL'} {c['name']}: {c['detail']}")
        print("PASS" if report["ok"] else f"FAIL ({len(report['failures'])})")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
