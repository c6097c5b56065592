# Cross build for aarch64-linux-gnu (Debian's cross compilers) against a sysroot made
# of Debian's own arm64 packages (scripts/cross prepares it).
# The sysroot comes from LPR_SYSROOT (cache or environment): no host paths
# are baked in. Tests run under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# try_compile projects see this variable too
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES LPR_SYSROOT)
if(NOT LPR_SYSROOT)
  set(LPR_SYSROOT "$ENV{LPR_SYSROOT}" CACHE PATH "sysroot of aarch64-linux-gnu packages")
endif()
if(NOT LPR_SYSROOT OR NOT EXISTS "${LPR_SYSROOT}/usr/include")
  message(FATAL_ERROR "LPR_SYSROOT must name a prepared sysroot (see scripts/cross)")
endif()
set(CMAKE_SYSROOT "${LPR_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${LPR_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config looks only inside the sysroot
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${LPR_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${LPR_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${LPR_SYSROOT}")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L "${LPR_SYSROOT}")
