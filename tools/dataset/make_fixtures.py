#!/usr/bin/env python3
"""Writes the small test fixtures of testdata/datasets with the real LeRobot 0.4.4 and pyarrow.

  lerobot_v30_video/   LeRobotDataset.create + add_frame + save_episode (libsvtav1 video, 2
                       cameras 64x96, 3 episodes of 6-9 frames, 2 tasks): LeRobot's own v3.0 files
  lerobot_v30_image/   the same with image features (PNG bytes embedded in the data parquet)
  lerobot_v21/         a v2.1 layout (per-episode parquet + mp4, jsonl metadata) as LeRobot 0.3
                       wrote it, built with pyarrow/PyAV from the v3.0 one (0.4.4 no longer writes v2.1)
  parquet_variants/    one small table written by pyarrow with: dictionary pages, data page v2,
                       snappy, zstd, gzip, nulls, large_list/list instead of fixed_size_list,
                       dictionary-typed strings, and a truncated file

Needs the tools venv: /opt/embody-tools-venv/bin/python tools/dataset/make_fixtures.py testdata/datasets
Deterministic values (frame index based); video bytes depend on the encoder build.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FPS = 30
H, W = 64, 96


def frame_values(ep, i):
    st = np.array([ep * 100 + i + 0.1 * j for j in range(3)], dtype=np.float32)
    ac = -st
    return st, ac


def image(ep, i, cam):
    img = np.zeros((H, W, 3), dtype=np.uint8)
    img[..., 0] = (i * 7) % 200 + 20
    img[..., 1] = (ep * 40) % 200 + 20
    img[..., 2] = cam * 60 + 40
    return img


def make_lerobot(root: Path, use_videos: bool):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    names = ["a.pos", "b.pos", "c.pos"]
    features = {
        "action": {"dtype": "float32", "shape": (3,), "names": names},
        "observation.state": {"dtype": "float32", "shape": (3,), "names": names},
        "observation.images.top": {"dtype": "video" if use_videos else "image", "shape": (H, W, 3),
                                   "names": ["height", "width", "channels"]},
        "observation.images.wrist": {"dtype": "video" if use_videos else "image", "shape": (H, W, 3),
                                     "names": ["height", "width", "channels"]},
    }
    if root.exists():
        shutil.rmtree(root)
    ds = LeRobotDataset.create("embody/fixture", FPS, features, root=root, robot_type="so101_follower",
                               use_videos=use_videos, image_writer_threads=2)
    for ep, n in enumerate([6, 9, 7]):
        for i in range(n):
            st, ac = frame_values(ep, i)
            ds.add_frame({"action": ac, "observation.state": st, "observation.images.top": image(ep, i, 0),
                          "observation.images.wrist": image(ep, i, 1),
                          "task": "task a" if ep != 1 else "task b"})
        ds.save_episode()
    ds.finalize()
    shutil.rmtree(root / "images", ignore_errors=True)


def make_v21(src: Path, dst: Path):
    """v2.1 layout from a v3.0 video dataset: one parquet and one mp4 per episode."""
    import av

    if dst.exists():
        shutil.rmtree(dst)
    (dst / "meta").mkdir(parents=True)
    info = json.loads((src / "meta/info.json").read_text())
    data = pq.read_table(sorted((src / "data").glob("*/*.parquet"))[0])
    eps = pq.read_table(sorted((src / "meta/episodes").glob("*/*.parquet"))[0]).to_pylist()
    tasks = pq.read_table(src / "meta/tasks.parquet").to_pandas()
    info["codebase_version"] = "v2.1"
    info["data_path"] = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
    info["video_path"] = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
    info["total_chunks"] = 1
    info["total_videos"] = len(eps) * 2
    for k in ("data_files_size_in_mb", "video_files_size_in_mb"):
        info.pop(k, None)
    (dst / "meta/info.json").write_text(json.dumps(info, indent=4))
    with open(dst / "meta/tasks.jsonl", "w") as f:
        for task, row in tasks.iterrows():
            f.write(json.dumps({"task_index": int(row["task_index"]), "task": task}) + "\n")
    with open(dst / "meta/episodes.jsonl", "w") as f:
        for e in eps:
            f.write(json.dumps({"episode_index": e["episode_index"], "tasks": e["tasks"], "length": e["length"]}) + "\n")
    with open(dst / "meta/episodes_stats.jsonl", "w") as f:
        for e in eps:
            stats = {}
            for k, v in e.items():
                if k.startswith("stats/"):
                    _, feat, stat = k.split("/")
                    if stat in ("min", "max", "mean", "std", "count"):
                        stats.setdefault(feat, {})[stat] = v
            f.write(json.dumps({"episode_index": e["episode_index"], "stats": stats}) + "\n")
    for e in eps:
        ep = e["episode_index"]
        rows = data.slice(e["dataset_from_index"], e["length"])
        # v2.1 used datasets' Sequence -> list<float> (variable lists)
        cols = {}
        for name in rows.column_names:
            col = rows.column(name)
            if pa.types.is_fixed_size_list(col.type):
                col = col.cast(pa.list_(col.type.value_type))
            cols[name] = col
        out = dst / f"data/chunk-000/episode_{ep:06d}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(cols), out)
        for key in ("observation.images.top", "observation.images.wrist"):
            srcv = src / f"videos/{key}/chunk-{e[f'videos/{key}/chunk_index']:03d}/file-{e[f'videos/{key}/file_index']:03d}.mp4"
            outv = dst / f"videos/chunk-000/{key}/episode_{ep:06d}.mp4"
            outv.parent.mkdir(parents=True, exist_ok=True)
            t0, t1 = e[f"videos/{key}/from_timestamp"], e[f"videos/{key}/to_timestamp"]
            with av.open(str(srcv)) as inp, av.open(str(outv), "w") as o:
                s = o.add_stream("libsvtav1", rate=FPS, options={"crf": "30", "g": "2", "preset": "12"})
                s.width, s.height, s.pix_fmt = W, H, "yuv420p"
                for fr in inp.decode(video=0):
                    t = float(fr.pts * fr.time_base)
                    if t0 - 1e-6 <= t < t1 - 1e-6:
                        nf = av.VideoFrame.from_ndarray(fr.to_ndarray(format="rgb24"), format="rgb24")
                        for p in s.encode(nf):
                            o.mux(p)
                for p in s.encode():
                    o.mux(p)


def make_parquet_variants(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    n = 12
    action = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(n * 3, dtype=np.float32)), 3)
    base = {
        "action": action,
        "timestamp": pa.array(np.arange(n, dtype=np.float32) / FPS),
        "index": pa.array(np.arange(n, dtype=np.int64)),
        "task": pa.array(["pick" if i % 3 else "place" for i in range(n)]),
    }
    t = pa.table(base)
    pq.write_table(t, out / "snappy_dict.parquet", compression="snappy", use_dictionary=True, row_group_size=5)
    pq.write_table(t, out / "zstd_pagev2.parquet", compression="zstd", data_page_version="2.0", use_dictionary=False)
    pq.write_table(t, out / "gzip_plain.parquet", compression="gzip", use_dictionary=False)
    lists = dict(base)
    lists["action"] = action.cast(pa.list_(pa.float32()))
    lists["task"] = pa.array(base["task"].to_pylist()).dictionary_encode()
    lists["state"] = pa.array([[float(i)] * 3 for i in range(n)], type=pa.large_list(pa.float64()))
    pq.write_table(pa.table(lists), out / "lists_dictionary_type.parquet", compression="snappy")
    nulls = dict(base)
    nulls["action"] = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(n * 3, dtype=np.float32)), 3,
                                                        mask=pa.array([i == 4 for i in range(n)]))
    nulls["timestamp"] = pa.array([None if i == 7 else i / FPS for i in range(n)], type=pa.float32())
    pq.write_table(pa.table(nulls), out / "nulls.parquet")
    raw = (out / "snappy_dict.parquet").read_bytes()
    (out / "truncated.parquet").write_bytes(raw[: len(raw) * 2 // 3])


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "testdata/datasets")
    out.mkdir(parents=True, exist_ok=True)
    make_lerobot(out / "lerobot_v30_video", use_videos=True)
    make_lerobot(out / "lerobot_v30_image", use_videos=False)
    make_v21(out / "lerobot_v30_video", out / "lerobot_v21")
    make_parquet_variants(out / "parquet_variants")
    print("fixtures in", out)


if __name__ == "__main__":
    main()
