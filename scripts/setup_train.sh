#!/usr/bin/env bash
# Installs libtorch for the trainer (src/train, `embody train`): the C++ libraries and headers of
# PyPI's torch wheel, unpacked into .deps/torch (project-local; no Python at run time).
#
# Why not Debian's libtorch-dev: it is 1.13, built against netlib/OpenBLAS without oneDNN, and one
# ACT training step (batch 8, 3 cameras 96x128) took 22.7 s there against 1.2 s with torch 2.10
# (MKL + oneDNN) on the same 2 cores. It also pulls ~200 packages (OpenCV, Qt, GDAL).
#
# Only the CPU libraries are kept (libtorch_cpu, libc10: ~450 MB). The wheel's libgomp is left out:
# Debian's GCC 12 libgomp provides every symbol version libtorch_cpu needs (GOMP_4.0, OMP_1.0), and
# one OpenMP runtime serves both torch and embody's own OpenMP code. libtorch_cpu.so lists
# libcudart and libcupti as NEEDED even on CPU-only use, so their two small wheels come too and sit
# where the library's RPATH ($ORIGIN/../../nvidia/...) looks for them.
# Idempotent: skips the download when the version matches.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wheel_prefix.sh

TORCH_VERSION="${TORCH_VERSION:-2.10.0}"
CUDA_RT_VERSION="${CUDA_RT_VERSION:-12.8.90}"   # the versions torch 2.10.0's wheel requires
PREFIX=".deps/torch"

prefix_is_current setup_train "$PREFIX" "$TORCH_VERSION" && exit 0
plat="$(wheel_platform setup_train)"
command -v unzip >/dev/null || { echo "setup_train: needs unzip (scripts/setup.sh installs it)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "setup_train: downloading torch $TORCH_VERSION (~900 MB; only its C++ libraries are kept)"
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 311 --platform "$plat" \
  -d "$tmp" "torch==$TORCH_VERSION"
unzip -q "$tmp"/torch-*.whl 'torch/include/*' 'torch/share/*' torch/lib/libtorch_cpu.so \
  torch/lib/libc10.so -d "$tmp/x"
if [ "$plat" = manylinux_2_28_x86_64 ]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 311 --platform "$plat" \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 -d "$tmp" \
    "nvidia-cuda-runtime-cu12==$CUDA_RT_VERSION" \
    "nvidia-cuda-cupti-cu12==$CUDA_RT_VERSION"
  for w in "$tmp"/nvidia_cuda_runtime_cu12-*.whl "$tmp"/nvidia_cuda_cupti_cu12-*.whl; do
    unzip -q "$w" 'nvidia/*/lib/*.so*' -d "$tmp/x"
  done
fi
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
mv "$tmp/x/torch" "$PREFIX/torch"
[ -d "$tmp/x/nvidia" ] && mv "$tmp/x/nvidia" "$PREFIX/nvidia"
echo "$TORCH_VERSION" > "$PREFIX/VERSION"
echo "setup_train: libtorch $TORCH_VERSION -> $PREFIX ($(du -sh "$PREFIX" | cut -f1))"
