# Cross build for 32-bit ARM boards (Raspberry Pi OS 32-bit) with Debian's
# arm-linux-gnueabihf compilers against a sysroot of Debian's armhf
# packages; see cross-common.cmake and scripts/cross.
set(LPR_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(LPR_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
