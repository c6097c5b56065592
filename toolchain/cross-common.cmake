# Shared part of the cross toolchain files: the including file sets
# LPR_TRIPLET, CMAKE_SYSTEM_PROCESSOR and LPR_QEMU. The sysroot of Debian
# packages for the target comes from LPR_SYSROOT (cache or environment;
# scripts/cross prepares it): no host paths are baked in. Tests run under
# qemu-user through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${LPR_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${LPR_TRIPLET}-g++)

# try_compile projects see these variables too
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES LPR_SYSROOT LPR_TRIPLET LPR_QEMU)
if(NOT LPR_SYSROOT)
  set(LPR_SYSROOT "$ENV{LPR_SYSROOT}" CACHE PATH "sysroot of ${LPR_TRIPLET} packages")
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
set(CMAKE_LIBRARY_ARCHITECTURE ${LPR_TRIPLET})

# pkg-config looks only inside the sysroot
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${LPR_SYSROOT}/usr/lib/${LPR_TRIPLET}/pkgconfig:${LPR_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${LPR_SYSROOT}")

set(CMAKE_CROSSCOMPILING_EMULATOR ${LPR_QEMU} -L "${LPR_SYSROOT}")
