#!/usr/bin/env python3
"""Golden outputs of LeRobot's ACT policy, with seeded weights (docs/formats/seeded-weights.md).

For each case this builds a real LeRobot ACTPolicy (eval, float32, CPU), overwrites every
state_dict entry with the seeded rule (key = state_dict key, base_seed 0), except the
non-learned deterministic buffer `model.vae_encoder_pos_enc` (LeRobot's own sinusoid), saves the
checkpoint with LeRobot's `policy.save_pretrained` and the processors from
`make_pre_post_processors(config, dataset_stats=...)`, runs LeRobot's inference path
(`lerobot.utils.control_utils.predict_action`: prepare_observation_for_inference ->
preprocessor -> policy.select_action -> postprocessor) for a few steps, and writes into
`<out>/<case>/`:

* config.json, policy_preprocessor.json, policy_postprocessor.json and the processor stats
  .safetensors, exactly as LeRobot wrote them (not model.safetensors: too big to commit);
* manifest.json: every tensor of the model.safetensors LeRobot wrote, in file order, with the
  fnv1a64 of its stored bytes, so the C++ test can re-materialize the file;
* expected.json: per select_action step the state, the postprocessed action, and for steps where
  the model ran, the full normalized chunk.

Usage: /opt/embody-tools-venv/bin/python tools/golden/act_golden.py --out testdata/golden/act
       [--case NAME ...] [--no-verify] [--keep-ckpt DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seeded  # noqa: E402

import torch  # noqa: E402

from lerobot.configs.types import FeatureType, PolicyFeature  # noqa: E402
from lerobot.policies.act.configuration_act import ACTConfig  # noqa: E402
from lerobot.policies.act.modeling_act import ACTPolicy  # noqa: E402
from lerobot.policies.factory import make_pre_post_processors  # noqa: E402
from lerobot.utils.control_utils import predict_action  # noqa: E402

BASE_SEED = 0
STATE_KEY = "observation.state"
ACTION_KEY = "action"
# Non-learned buffers computed deterministically by LeRobot: kept as LeRobot makes them.
NON_SEEDED = {"model.vae_encoder_pos_enc"}
# Non-seeded tensors with more elements than this get a "generator" entry instead of "values"
# (keeps the committed goldens small; the fnv still pins the bytes).
MAX_INLINE_VALUES = 4096

CASES: dict[str, dict] = {
    "default_1cam": dict(cams=["top"], hw=(480, 640), steps=1, cfg={}),
    "three_cams": dict(
        cams=["top", "gripper", "left"], hw=(240, 320), steps=12, cfg=dict(n_action_steps=10),
        image_stats={"left": ([0.4, 0.5, 0.6], [0.2, 0.3, 0.25])},
    ),
    "stateless": dict(cams=["top"], hw=(96, 128), steps=3, cfg={}, state=False),
    "bf16": dict(cams=["top"], hw=(120, 160), steps=1, cfg={}, bf16=True),
    "legacy_layout": dict(cams=["top", "gripper"], hw=(96, 128), steps=2, cfg={}, legacy=True),
    "temporal_ensemble": dict(
        cams=["top"], hw=(96, 128), steps=8, cfg=dict(temporal_ensemble_coeff=0.01, n_action_steps=1),
    ),
    "small_prenorm": dict(
        cams=["top", "gripper"], hw=(64, 96), steps=2,
        cfg=dict(dim_model=64, n_heads=4, dim_feedforward=128, n_encoder_layers=2, n_decoder_layers=2,
                 pre_norm=True, feedforward_activation="gelu", chunk_size=20, n_action_steps=20),
        # replace_final_stride_with_dilation=True is dropped: torchvision's resnet18 BasicBlock
        # raises "Dilation > 1 not supported in BasicBlock", so no resnet18 ACT can use it.
    ),
}

ST_DTYPES = {"F32": ("float32", 4), "BF16": ("bfloat16", 2), "F16": ("float16", 2), "I64": ("int64", 8)}


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def cam_key(c: str) -> str:
    return f"observation.images.{c}"


def read_safetensors_layout(path: Path):
    """(metadata, [(key, dtype_str, shape, raw_bytes)] in file order)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    base = 8 + n
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    out = []
    for key, info in entries:
        a, b = info["data_offsets"]
        out.append((key, info["dtype"], list(info["shape"]), blob[base + a:base + b]))
    return meta, out


def lerobot_sinusoid_1d(num_positions: int, dimension: int) -> np.ndarray:
    """Re-derivation of LeRobot's create_sinusoidal_pos_embedding with scalar libm math:
    angle = p / 10000^(2*(j//2)/D) in double; sin for even j, cos for odd j; cast to float32."""
    out = np.empty((num_positions, dimension), dtype=np.float32)
    for p in range(num_positions):
        for j in range(dimension):
            a = p / math.pow(10000.0, 2 * (j // 2) / dimension)
            out[p, j] = math.sin(a) if j % 2 == 0 else math.cos(a)
    return out


def as_list(t) -> list:
    if isinstance(t, torch.Tensor):
        t = t.detach().to(torch.float32).cpu().numpy()
    return np.asarray(t, dtype=np.float32).tolist()


def dumps(obj, level=0) -> str:
    """JSON with numeric lists on one line (compact but readable); floats use repr."""
    ind, ind1 = "  " * level, "  " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        flat = json.dumps(obj, separators=(", ", ": "))
        if len(flat) <= 160 and all(not isinstance(v, dict) for v in obj.values()):
            return flat
        items = [f"{ind1}{json.dumps(k)}: {dumps(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + ind + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return "[" + ", ".join(json.dumps(x) for x in obj) + "]"
        return "[\n" + ",\n".join(ind1 + dumps(x, level + 1) for x in obj) + "\n" + ind + "]"
    return json.dumps(obj)


def write_json(path: Path, obj):
    path.write_text(dumps(obj) + "\n")


# ----------------------------------------------------------------------------------------------
# building a case
# ----------------------------------------------------------------------------------------------


def make_config(case: dict) -> ACTConfig:
    h, w = case["hw"]
    inputs = {}
    if case.get("state", True):
        inputs[STATE_KEY] = PolicyFeature(type=FeatureType.STATE, shape=(6,))
    for c in case["cams"]:
        inputs[cam_key(c)] = PolicyFeature(type=FeatureType.VISUAL, shape=(3, h, w))
    outputs = {ACTION_KEY: PolicyFeature(type=FeatureType.ACTION, shape=(6,))}
    # pretrained_backbone_weights=None: no download here; all weights are overwritten anyway.
    return ACTConfig(device="cpu", pretrained_backbone_weights=None, input_features=inputs,
                     output_features=outputs, **case["cfg"])


def make_stats(case: dict) -> dict[str, dict[str, np.ndarray]]:
    stats: dict[str, dict[str, np.ndarray]] = {}
    if case.get("state", True):
        stats[STATE_KEY] = {k: seeded.seeded_stat(STATE_KEY, k, (6,)) for k in ("mean", "std")}
    for c in case["cams"]:
        if c in case.get("image_stats", {}):
            m, s = case["image_stats"][c]
            stats[cam_key(c)] = {"mean": np.array(m, dtype=np.float32).reshape(3, 1, 1),
                                 "std": np.array(s, dtype=np.float32).reshape(3, 1, 1)}
        else:
            stats[cam_key(c)] = {"mean": seeded.IMAGENET_MEAN.copy(), "std": seeded.IMAGENET_STD.copy()}
    stats[ACTION_KEY] = {k: seeded.seeded_stat(ACTION_KEY, k, (6,)) for k in ("mean", "std")}
    return stats


def seed_policy(policy: ACTPolicy, bf16: bool) -> None:
    sd = policy.state_dict()
    buffers = dict(policy.named_buffers())
    new = {}
    for key, t in sd.items():
        if key in NON_SEEDED:
            v = t.detach().cpu().numpy().astype(np.float32)
        else:
            if key in buffers:  # only FrozenBatchNorm2d buffers are expected here
                assert seeded.tensor_rule(key, tuple(t.shape)) != "scaled", key
            v = seeded.seeded_tensor(key, tuple(t.shape), BASE_SEED)
        if bf16:
            v = seeded.round_bf16(v)
        new[key] = torch.from_numpy(np.ascontiguousarray(v)).to(t.dtype)
    policy.load_state_dict(new, strict=True)


def legacy_tensors(case: dict, stats) -> dict[str, torch.Tensor]:
    """<= v0.3.x normalization buffers (no `model.` prefix)."""
    out = {}

    def put(prefix, feature):
        name = "buffer_" + feature.replace(".", "_")
        for k in ("mean", "std"):
            out[f"{prefix}.{name}.{k}"] = torch.from_numpy(np.asarray(stats[feature][k], np.float32).copy())

    if case.get("state", True):
        put("normalize_inputs", STATE_KEY)
    for c in case["cams"]:
        put("normalize_inputs", cam_key(c))
    put("normalize_targets", ACTION_KEY)
    put("unnormalize_outputs", ACTION_KEY)
    return out


def make_observation(case: dict, t: int, dummy_state: bool) -> dict[str, np.ndarray]:
    """Raw robot observation for step t (uint8 HWC frames, float32 state)."""
    h, w = case["hw"]
    obs = {}
    if case.get("state", True):
        obs[STATE_KEY] = seeded.seeded_state(t, 6)
    elif dummy_state:
        obs[STATE_KEY] = np.zeros(6, dtype=np.float32)
    for c in case["cams"]:
        obs[cam_key(c)] = seeded.seeded_image(t, cam_key(c), h, w)
    return obs


class Recorder:
    """Hooks capturing the model chunk, the preprocessed batch and the normalized action."""

    def __init__(self, policy, pre, post):
        self.chunks = []
        self.batch = None
        self.action_norm = None
        policy.model.register_forward_hook(self._on_model)
        pre.register_after_step_hook(self._on_pre)
        post.register_before_step_hook(self._on_post)
        self.n_pre = len(pre.steps)

    def _on_model(self, module, inputs, output):
        self.chunks.append(output[0].detach().clone())

    def _on_pre(self, idx, transition):
        if idx == self.n_pre - 1:
            from lerobot.processor.core import TransitionKey

            self.batch = {k: v.clone() for k, v in transition[TransitionKey.OBSERVATION].items()
                          if isinstance(v, torch.Tensor)}

    def _on_post(self, idx, transition):
        if idx == 0:
            from lerobot.processor.core import TransitionKey

            self.action_norm = transition[TransitionKey.ACTION].detach().clone()


def run_steps(case, policy, pre, post, dummy_state):
    rec = Recorder(policy, pre, post)
    policy.reset()
    steps = []
    for t in range(case["steps"]):
        obs = make_observation(case, t, dummy_state)
        n_before = len(rec.chunks)
        action = predict_action(obs, policy, torch.device("cpu"), pre, post, use_amp=False)
        ran = len(rec.chunks) > n_before
        step = {"t": t}
        if case.get("state", True):
            step["state"] = as_list(obs[STATE_KEY])
            step["state_normalized"] = as_list(rec.batch[STATE_KEY][0])
        step["image_fnv"] = {cam_key(c): seeded.fnv_hex(seeded.fnv1a64(obs[cam_key(c)])) for c in case["cams"]}
        step["action"] = as_list(action.reshape(-1))
        step["action_normalized"] = as_list(rec.action_norm.reshape(-1))
        step["model_ran"] = ran
        if ran:
            assert len(rec.chunks) == n_before + 1
            step["chunk_normalized"] = as_list(rec.chunks[-1][0])
        steps.append(step)
    return steps


def build_manifest(model_path: Path, dtype: str, policy_sd: dict, bf16: bool, extra_values: dict):
    meta, entries = read_safetensors_layout(model_path)
    tensors = []
    for key, st_dtype, shape, raw in entries:
        dname, esize = ST_DTYPES[st_dtype]
        assert len(raw) == esize * int(np.prod(shape, dtype=np.int64)), key
        entry = {"key": key, "shape": shape, "dtype": dname, "fnv": seeded.fnv_hex(seeded.fnv1a64(raw))}
        if key in NON_SEEDED or key in extra_values:
            if dname == "float32":
                vals = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            else:
                vals = seeded.bf16_bits_to_f32(np.frombuffer(raw, dtype="<u2"))
            if key == "model.vae_encoder_pos_enc" and vals.size > MAX_INLINE_VALUES:
                npos, dim = shape[1], shape[2]
                gen = lerobot_sinusoid_1d(npos, dim)
                if bf16:
                    gen = seeded.round_bf16(gen)
                if not np.array_equal(gen.reshape(-1).view(np.uint32), vals.view(np.uint32)):
                    raise SystemExit(f"{key}: scalar libm re-derivation differs from LeRobot's buffer")
                entry["generator"] = {
                    "name": "lerobot_sinusoid_1d", "num_positions": npos, "dimension": dim,
                    "formula": "v[0][p][j] = float32(sin(a)) if j even else float32(cos(a)), "
                               "a = double(p) / pow(10000.0, double(2*(j/2)) / D) in double (j/2 integer division)"
                               + ("; then rounded to bf16 (RNE)" if bf16 else ""),
                }
                idx = [dim, dim + 1, dim + 2, dim + 3] + list(range(vals.size - 4, vals.size))
                entry["values_sample"] = {"flat_index": idx, "values": vals[idx].tolist()}
            else:
                entry["values"] = vals.tolist()
        else:
            # Check that the stored bytes really are the seeded rule for this key.
            v = seeded.seeded_tensor(key, tuple(shape), BASE_SEED)
            want = seeded.to_bf16_bits(v) if dname == "bfloat16" else v
            if seeded.fnv1a64(want) != seeded.fnv1a64(raw):
                raise SystemExit(f"{key}: stored bytes differ from the seeded rule")
        tensors.append(entry)
    man = {
        "format": "embody-seeded-v1",
        "base_seed": BASE_SEED,
        "dtype": dtype,
        "file": "model.safetensors",
        "safetensors_metadata": meta,
        "notes": "Tensors without 'values'/'generator' follow the seeded tensor rule of "
                 "docs/formats/seeded-weights.md with key = 'key' (stored as 'dtype'). "
                 "'fnv' = fnv1a64 of the stored little-endian bytes. Tensors are in file order.",
        "tensors": tensors,
    }
    return man


def run_case(name: str, out_root: Path, verify: bool, keep_ckpt: Path | None) -> None:
    case = CASES[name]
    torch.manual_seed(0)
    cfg = make_config(case)
    policy = ACTPolicy(cfg)
    policy.eval()
    bf16 = case.get("bf16", False)
    legacy = case.get("legacy", False)
    seed_policy(policy, bf16)
    stats = make_stats(case)
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)

    tmp = Path(tempfile.mkdtemp(prefix=f"act_golden_{name}_"))
    ckpt = keep_ckpt / name if keep_ckpt else tmp / "ckpt"
    if ckpt.exists():
        shutil.rmtree(ckpt)
    ckpt.mkdir(parents=True)
    if bf16:
        copy.deepcopy(policy).to(torch.bfloat16).save_pretrained(ckpt)
    else:
        policy.save_pretrained(ckpt)
    extra = {}
    if legacy:
        # <= v0.3.x layout: stats inside model.safetensors, no processor files.
        from safetensors.torch import load_file, save_file

        meta, _ = read_safetensors_layout(ckpt / "model.safetensors")
        sd = load_file(str(ckpt / "model.safetensors"))
        extra = legacy_tensors(case, stats)
        sd.update(extra)
        save_file(sd, str(ckpt / "model.safetensors"), metadata=meta)
    else:
        pre.save_pretrained(ckpt)
        post.save_pretrained(ckpt)

    dummy_state = not case.get("state", True)
    steps = run_steps(case, policy, pre, post, dummy_state)

    if verify:
        verify_reload(name, case, cfg, ckpt, stats, steps, dummy_state, legacy)

    dst = out_root / name
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    copied = []
    for f in sorted(ckpt.iterdir()):
        if f.name == "model.safetensors":
            continue
        shutil.copy2(f, dst / f.name)
        copied.append(f.name)

    man = build_manifest(ckpt / "model.safetensors", "bfloat16" if bf16 else "float32",
                         policy.state_dict(), bf16, extra)
    write_json(dst / "manifest.json", man)

    h, w = case["hw"]
    expected = {
        "case": name,
        "lerobot_version": __import__("lerobot").__version__,
        "torch_version": torch.__version__,
        "dtype": "bfloat16" if bf16 else "float32",
        "layout": "legacy_v0.3_stats_in_model" if legacy else "processor_v0.4",
        "camera_keys": [cam_key(c) for c in case["cams"]],
        "image_shapes": {cam_key(c): [3, h, w] for c in case["cams"]},
        "state_key": STATE_KEY if case.get("state", True) else None,
        "state_dim": 6 if case.get("state", True) else 0,
        "action_dim": 6,
        "chunk_size": cfg.chunk_size,
        "n_action_steps": cfg.n_action_steps,
        "temporal_ensemble_coeff": cfg.temporal_ensemble_coeff,
        "stats": {f: {k: np.asarray(v, np.float32).reshape(-1).tolist() for k, v in d.items()}
                  for f, d in stats.items()},
        "inputs": {
            "image": "uint8 HWC RGB, element i = splitmix64(fnv1a64('input.<t>.<camera key>'), i) >> 56; "
                     "fed to LeRobot as float32 CHW = u8 / 255 (lerobot.policies.utils."
                     "prepare_observation_for_inference), no resize",
            "state": "float32 4*s, key 'input.<t>.observation.state' (values also listed per step)",
        },
        "pipeline": "lerobot.utils.control_utils.predict_action: prepare_observation_for_inference -> "
                    "policy_preprocessor -> ACTPolicy.select_action -> policy_postprocessor; "
                    "chunk_normalized = output of ACT.forward (normalized space) when it ran",
        "dummy_state_in_batch": dummy_state,
        "files": copied,
        "steps": steps,
    }
    if dummy_state:
        expected["dummy_state_note"] = (
            "LeRobot 0.4.4 ACT.forward takes the latent's device from batch['observation.state'] even "
            "when the config has no state feature (KeyError otherwise), so the raw observation carries "
            "a zero 'observation.state' [6] that is not in the config; the normalizer skips it and the "
            "model only reads its .device. It does not affect any value.")
    if legacy:
        expected["legacy_note"] = (
            "No processor files: the stats are the normalize_inputs/normalize_targets/unnormalize_outputs "
            "buffers in model.safetensors (see manifest). Outputs were computed with the ordinary 0.4.4 "
            "processor pipeline built from the same stats (eps 1e-8, same maths).")
    write_json(dst / "expected.json", expected)
    shutil.rmtree(tmp, ignore_errors=True)
    size = sum(f.stat().st_size for f in dst.iterdir())
    print(f"[{name}] wrote {dst} ({size / 1024:.1f} KiB): {sorted(p.name for p in dst.iterdir())}")
    for s in steps:
        if s["model_ran"]:
            c = np.asarray(s["chunk_normalized"])
            print(f"  t={s['t']} chunk {list(c.shape)} [0][:3]={c[0][:3].tolist()} action={s['action'][:3]}...")


def verify_reload(name, case, cfg, ckpt, stats, steps, dummy_state, legacy):
    """Reload the saved checkpoint with LeRobot and check it reproduces every step bit for bit."""
    policy2 = ACTPolicy.from_pretrained(str(ckpt), strict=False) if legacy else ACTPolicy.from_pretrained(str(ckpt))
    policy2.eval()
    if legacy:
        from safetensors.torch import load_file

        from lerobot.processor.migrate_policy_normalization import extract_normalization_stats

        st = extract_normalization_stats(load_file(str(ckpt / "model.safetensors")))
        for f, d in stats.items():
            for k, v in d.items():
                assert np.array_equal(st[f][k].numpy(), np.asarray(v, np.float32)), (f, k)
        pre2, post2 = make_pre_post_processors(policy2.config, dataset_stats=st)
    else:
        pre2, post2 = make_pre_post_processors(policy2.config, pretrained_path=str(ckpt))
    steps2 = run_steps(case, policy2, pre2, post2, dummy_state)
    for a, b in zip(steps, steps2):
        if a != b:
            raise SystemExit(f"[{name}] reload mismatch at t={a['t']}")
    print(f"[{name}] reload from {ckpt.name}: identical outputs")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write ACT golden files from LeRobot with seeded weights.")
    ap.add_argument("--out", default="testdata/golden/act")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    ap.add_argument("--no-verify", action="store_true", help="skip the reload-and-rerun check")
    ap.add_argument("--keep-ckpt", default=None, help="also keep the full checkpoints under this folder")
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
