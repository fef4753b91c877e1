#!/usr/bin/env bash
# Installs what the dataset module (src/data) needs:
#  - Apache Arrow C++ 26 (libarrow + libparquet and their headers) from PyPI's pyarrow wheel,
#    unpacked into .deps/arrow (project-local; no Python is needed at run time). Debian 12 packages
#    no Arrow. The wheel's libraries use the C++11 std::string ABI and need only GLIBCXX_3.4.22,
#    so Debian's g++ 12 links against them.
#  - FFmpeg's libraries from Debian (libavcodec with libsvtav1/libdav1d/libx264, libavformat,
#    libswscale) for the camera videos.
# Idempotent: skips apt when the packages are installed, the download when the version matches.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wheel_prefix.sh

ARROW_VERSION="${ARROW_VERSION:-26.0.0}"
PREFIX=".deps/arrow"

PACKAGES=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev unzip)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup_data: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

prefix_is_current setup_data "$PREFIX" "$ARROW_VERSION" && exit 0

plat="$(wheel_platform setup_data)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 311 --platform "$plat" \
  -d "$tmp" "pyarrow==$ARROW_VERSION"
whl="$(ls "$tmp"/pyarrow-*.whl)"
so="${ARROW_VERSION%%.*}00"  # 26.0.0 -> libarrow.so.2600
unzip -q "$whl" "pyarrow/libarrow.so.$so" "pyarrow/libparquet.so.$so" 'pyarrow/include/arrow/*' \
  'pyarrow/include/parquet/*' -d "$tmp/x"
rm -rf "$PREFIX"
mkdir -p "$PREFIX/lib"
cp -r "$tmp/x/pyarrow/include" "$PREFIX/include"
for lib in arrow parquet; do
  cp "$tmp/x/pyarrow/lib$lib.so.$so" "$PREFIX/lib/"
  ln -sf "lib$lib.so.$so" "$PREFIX/lib/lib$lib.so"
done
echo "$ARROW_VERSION" > "$PREFIX/VERSION"
echo "setup_data: Arrow $ARROW_VERSION -> $PREFIX"
