#!/usr/bin/env bash
# Installs everything embody needs to build and test, from Debian's packages only.
# Idempotent: skips apt when every package is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev          # oneDNN: convolution / matmul kernels (x86 JIT, ARM builds too)
  nlohmann-json3-dev   # JSON: configs, safetensors headers
  libcli11-dev         # the embody CLI
  libstb-dev           # PNG/JPEG decode and encode
  libjpeg-dev          # libjpeg-turbo: MJPEG frames from USB cameras (src/camera)
  libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler  # embody serve / grpc:// policies (optional)
)
# The trainer (src/train, `embody train`) is opt-in: EMBODY_WITH_TRAIN=1 scripts/setup.sh unpacks
# libtorch 2.10 from PyPI's torch wheel into .deps/torch (scripts/setup_train.sh, ~500 MB). Without
# it CMake builds everything else and skips the trainer and its tests.

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# The MuJoCo simulation: MuJoCo from PyPI's mujoco-core wheel into .deps/, EGL + Mesa from Debian.
"$(dirname "$0")/setup_sim.sh"

# LeRobot datasets (src/data): Arrow C++ from PyPI's pyarrow wheel into .deps/arrow, FFmpeg's
# libraries (libavcodec-dev, libavformat-dev, libavutil-dev, libswscale-dev) from Debian.
"$(dirname "$0")/setup_data.sh"

if [ "${EMBODY_WITH_TRAIN:-0}" = "1" ]; then "$(dirname "$0")/setup_train.sh"; fi
