#!/usr/bin/env bash
# Cross-builds core + kernels + the quantized-kernel tests for AArch64 (Debian's
# g++-aarch64-linux-gnu, no oneDNN) and runs the tests under qemu-user with `-cpu max`, so the
# NEON dot-product kernels run and are checked bit for bit against the scalar reference.
# Usage: scripts/test_aarch64.sh [build dir, default build-aarch64]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build-aarch64}"
PACKAGES=(g++-aarch64-linux-gnu qemu-user libgtest-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "test_aarch64: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cmake -S tests/kernels_quant/aarch64 -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" >/dev/null
ninja -C "$BUILD" -j "$(nproc)" embody_quant_tests
file "$BUILD/kernels_quant/embody_quant_tests" | grep -q "ARM aarch64" || { echo "not an AArch64 binary"; exit 1; }
# The features qemu's `max` core reports, then every test (the neon-dot family must be among them).
OMP_NUM_THREADS=2 qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max "$BUILD/kernels_quant/embody_quant_tests" \
  --gtest_brief=1 | tee "$BUILD/quant_tests.log"
grep -q "neon_dot" <(qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max "$BUILD/kernels_quant/embody_quant_tests" \
  --gtest_list_tests) || { echo "test_aarch64: the neon-dot kernels were not tested"; exit 1; }
