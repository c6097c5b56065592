# Cross build for arm-linux-gnueabihf (Debian's cross compilers) against a sysroot made
# of Debian's own armhf packages (scripts/cross prepares it).
# The sysroot comes from LPR_SYSROOT (cache or environment): no host paths
# are baked in. Tests run under qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)

# try_compile projects see this variable too
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES LPR_SYSROOT)
if(NOT LPR_SYSROOT)
  set(LPR_SYSROOT "$ENV{LPR_SYSROOT}" CACHE PATH "sysroot of arm-linux-gnueabihf packages")
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
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

# pkg-config looks only inside the sysroot
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${LPR_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${LPR_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${LPR_SYSROOT}")

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static -L "${LPR_SYSROOT}")
