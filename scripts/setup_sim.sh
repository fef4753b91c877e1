#!/usr/bin/env bash
# Installs what the MuJoCo simulation (src/sim) needs:
#  - MuJoCo 4.0.1's C library and headers from PyPI's `mujoco-core` wheel, unpacked into
#    .deps/mujoco (project-local, no Python needed at run time);
#  - Debian's EGL + Mesa (software rasterizer) for headless rendering.
# Idempotent. Debian 12 has only libmujoco-dev 2.2.2; we use the wheel for the current API.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wheel_prefix.sh

MUJOCO_VERSION="${MUJOCO_VERSION:-4.0.1}"
PREFIX=".deps/mujoco"

PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libegl-dev libgl-dev unzip)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup_sim: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

prefix_is_current setup_sim "$PREFIX" "$MUJOCO_VERSION" && exit 0

# The wheel is a zip; we only need libmujoco.so.* and include/. pip download picks the wheel for
# this interpreter and platform; the C library inside does not depend on the Python version.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "mujoco-core==$MUJOCO_VERSION"
whl="$(ls "$tmp"/mujoco_core-*.whl)"
unzip -q "$whl" 'mujoco/libmujoco.so.*' 'mujoco/include/*' -d "$tmp/x"
rm -rf "$PREFIX"
mkdir -p "$PREFIX/lib"
cp -r "$tmp/x/mujoco/include" "$PREFIX/include"
lib="$(basename "$(ls "$tmp"/x/mujoco/libmujoco.so.*)")"
cp "$tmp/x/mujoco/$lib" "$PREFIX/lib/"
ln -sf "$lib" "$PREFIX/lib/libmujoco.so"
echo "$MUJOCO_VERSION" > "$PREFIX/VERSION"
echo "setup_sim: MuJoCo $MUJOCO_VERSION -> $PREFIX"
