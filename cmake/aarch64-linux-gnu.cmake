# Cross-building libomadm for aarch64-linux-gnu (Debian's gcc-aarch64-linux-gnu and multiarch libssl-dev).
#
#   cmake -S . -B build-aarch64 --toolchain cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-aarch64
#   ctest --test-dir build-aarch64        # the C tests, run under qemu-aarch64
#
# From this file CMakeLists.txt derives the Rust target (rust_target.cmake), the linker cargo
# uses (the C compiler below) and the target's OpenSSL (found below, through the multiarch
# directory /usr/lib/aarch64-linux-gnu). For a vendor sysroot instead of multiarch packages, set
# CMAKE_SYSROOT (and CMAKE_FIND_ROOT_PATH) here; nothing else changes.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries and headers of the target only; programs (cargo, sh, valgrind) of the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config (which FindOpenSSL asks first) sees the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# Test programs run under user-mode emulation (Debian's qemu-user), with the target's dynamic
# loader and libc from multiarch (libc6:<arch>, which libssl-dev:<arch> brings). Not with
# `-L /usr/aarch64-linux-gnu`: mixing that cross libc with multiarch libraries hangs threaded programs.
# With a vendor sysroot, the sysroot is the loader's prefix.
find_program(OMADM_QEMU qemu-aarch64)
if(OMADM_QEMU AND CMAKE_SYSROOT)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${OMADM_QEMU};-L;${CMAKE_SYSROOT}")
elseif(OMADM_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${OMADM_QEMU}")
endif()
