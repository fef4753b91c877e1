#!/usr/bin/env bash
# Set up, build and run the whole test suite: release build, then a debug build with address and
# undefined-behaviour sanitizers over the fast tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
(cd build && ctest --output-on-failure -j1)
# The quantized kernels cross-built for AArch64 and run under qemu-user (NEON dot-product paths).
scripts/test_aarch64.sh build-aarch64
if [ "${EMBODY_SKIP_SANITIZERS:-0}" != 1 ]; then
  # ThreadSanitizer over the action queue and the asynchronous inference thread.
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBODY_BUILD_SIM=OFF \
    -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
  ninja -C build-tsan -j "$(nproc)" embody_async_tests
  TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/runtime/embody_async_tests

  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEMBODY_SANITIZE=ON >/dev/null
  # Every fast (label "unit") test binary this configuration has: core/kernels/models, quantized
  # kernels and checkpoints, datasets, servo bus and cameras.
  asan_targets=$(ninja -C build-asan -t targets all | sed -n 's/^\(embody_\(tests\|quantize_tests\|quant_tests\|data_tests\|robot_tests\|camera_tests\)\): .*/\1/p')
  ninja -C build-asan -j "$(nproc)" $asan_targets
  # oneDNN's JIT code is opaque to the sanitizers; the reference backend and all our own code run.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j1 -L unit)
fi
