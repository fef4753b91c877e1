#!/usr/bin/env bash
# The main job as it stands: set up, build, then
#   1. ACT: make a 3-camera 480x640 checkpoint in LeRobot's layout (seeded weights: real ones
#      cannot be downloaded here), inspect it, run it, benchmark it, quantize it per block;
#   2. SmolVLA: the same for smolvla_base's architecture with one camera;
#   3. the MuJoCo tea-bag task: the scripted expert on every cluster, and a contact sheet;
#   4. the study's loop in miniature: train ACT on scripted-expert episodes (embody train, libtorch),
#      evaluate it in the simulation (f32 sync, async, int8 plan) and print the results table.
#      A few hundred steps do not solve the task; docs/training.md has the full-size run.
#      EMBODY_WITH_TRAIN=0 skips the libtorch download (~900 MB) and this step.
set -euo pipefail
cd "$(dirname "$0")/.."
EMBODY_WITH_TRAIN="${EMBODY_WITH_TRAIN:-1}" scripts/setup.sh
scripts/build.sh build
OUT=${OUT:-build/demo}
mkdir -p "$OUT"
E=./build/embody

ACT="$OUT/act_3cam"
[ -f "$ACT/model.safetensors" ] || $E seed-checkpoint -o "$ACT" --cameras top,gripper,left --height 480 --width 640
echo; echo "== ACT: embody info"; $E info "$ACT"
echo; echo "== ACT: embody infer (seeded camera frames and state), first rows of the chunk"
$E infer "$ACT" --seeded-inputs | sed -n '1,6p'
echo; echo "== ACT: embody bench"; $E bench "$ACT" --threads "$(nproc)" --runs 7
echo; echo "== ACT: per-block precision (int8 backbone and encoder, f32 decoder), its error, and its speed"
$E quantize "$ACT" --plan backbone=int8,encoder=int8 -o "$OUT/act_3cam_int8" --calib seeded:2 --static-activations
$E bench "$OUT/act_3cam_int8" --threads "$(nproc)" --runs 7

SHARED_TOKENIZER="../shared/data/smolvlm2-tokenizer"
if [ -f "$SHARED_TOKENIZER/tokenizer.json" ]; then
  SV="$OUT/smolvla_1cam"
  [ -f "$SV/model.safetensors" ] || $E seed-checkpoint --policy smolvla -o "$SV" --cameras top --height 480 --width 640 \
    --tokenizer-dir "$SHARED_TOKENIZER"
  echo; echo "== SmolVLA: embody info"; $E info "$SV"
  echo; echo "== SmolVLA: embody infer --task ..., first rows of the chunk"
  $E infer "$SV" --seeded-inputs --task "put the tea bag in the mug" | sed -n '1,6p'
  echo; echo "== SmolVLA: embody bench (per block)"; $E bench "$SV" --threads "$(nproc)" --runs 2 --warmup 1
else
  echo "(SmolVLA demo skipped: $SHARED_TOKENIZER not found)"
fi

if $E sim --help >/dev/null 2>&1; then
  echo; echo "== Simulation: scripted expert, 3 episodes in each of the 11 clusters"
  $E sim --episodes 3 --cluster all | sed -n '$p'
  $E sim --show "$OUT/tea_bag_task.png"
  echo "contact sheet of the three cameras: $OUT/tea_bag_task.png"
  echo; echo "== Asynchronous vs synchronous inference (oracle policy, simulated latency)"
  $E run --sim --policy oracle --mode sync,async --latency 100,1000,imx95-act --episodes 3 --max-seconds 30 \
    --plot "$OUT/async_trace.png"
fi

if [ -x build/embody-train ] && $E eval --help >/dev/null 2>&1; then
  RUN="$OUT/act_train"
  rm -rf "$RUN"
  echo; echo "== Training ACT on 12 scripted-expert episodes (96x128, 3 cameras), 300 steps"
  $E train --policy act --sim-episodes 12 --sim-val-episodes 2 -o "$RUN" --steps 300 --save-every 300 \
    --log-every 50 --batch-size 8 --dim-model 128 --dim-feedforward 512 --n-encoder-layers 2 \
    --n-vae-encoder-layers 2 --n-action-steps 50 --lr 1e-4 --lr-backbone 1e-4
  CKPT="$RUN/checkpoints/last/pretrained_model"
  echo; echo "== Evaluating it in the simulation: 1 position per training cluster + 3 held-out"
  $E eval --policy "$CKPT" --episodes-per-cluster 1 --val-episodes 3 --mode sync -o "$RUN/eval_f32_sync.json" 2>/dev/null | tail -2
  $E eval --policy "$CKPT" --episodes-per-cluster 1 --val-episodes 3 --mode async -o "$RUN/eval_f32_async.json" 2>/dev/null | tail -2
  $E eval --policy "$CKPT" --episodes-per-cluster 1 --val-episodes 3 --mode sync --plan backbone=int8,encoder=int8 \
    -o "$RUN/eval_int8_sync.json" 2>/dev/null | tail -2
  echo; echo "== embody report"
  $E report "$RUN/eval_f32_sync.json" "$RUN/eval_f32_async.json" "$RUN/eval_int8_sync.json" --plot "$RUN/report.png"
  echo "results chart: $RUN/report.png"
else
  echo "(training demo skipped: build/embody-train needs libtorch, EMBODY_WITH_TRAIN=1 scripts/setup.sh)"
fi
