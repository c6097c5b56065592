# Cross build for 64-bit ARM boards (Raspberry Pi 4/5 with a 64-bit OS,
# Jetson) with Debian's aarch64-linux-gnu compilers against a sysroot of
# Debian's arm64 packages; see cross-common.cmake and scripts/cross.
set(LPR_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(LPR_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
