#!/usr/bin/env bash
# The main job as it stands: set up, build, make a LeRobot-layout ACT checkpoint (3 cameras
# 480x640, seeded weights: real ones cannot be downloaded here), inspect it, run it, benchmark it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
CKPT=${CKPT:-build/demo/act_3cam}
[ -f "$CKPT/model.safetensors" ] || ./build/embody seed-checkpoint -o "$CKPT" --cameras top,gripper,left --height 480 --width 640
echo; echo "== embody info"; ./build/embody info "$CKPT"
echo; echo "== embody infer (seeded camera frames and state), first rows of the chunk"
./build/embody infer "$CKPT" --seeded-inputs | head -6
echo; echo "== embody bench"; ./build/embody bench "$CKPT" --threads "$(nproc)" --runs 7
