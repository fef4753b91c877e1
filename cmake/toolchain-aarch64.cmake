# Cross-compiling for AArch64 Linux with Debian's g++-aarch64-linux-gnu; binaries run on this
# machine through qemu-user (CMAKE_CROSSCOMPILING_EMULATOR, also used by gtest_discover_tests).
# `-cpu max` gives the emulated core every optional extension (dotprod, fp16, i8mm), so the
# runtime dispatch picks the same kernels as on a Cortex-A55/A76.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu;-cpu;max)
