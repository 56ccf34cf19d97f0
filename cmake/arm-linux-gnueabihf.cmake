# Cross-building libomadm for arm-linux-gnueabihf (Debian's gcc-arm-linux-gnueabihf and multiarch libssl-dev).
#
#   cmake -S . -B build-arm --toolchain cmake/arm-linux-gnueabihf.cmake -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-arm
#   ctest --test-dir build-arm        # the C tests, run under qemu-arm
#
# From this file CMakeLists.txt derives the Rust target (rust_target.cmake), the linker cargo
# uses (the C compiler below) and the target's OpenSSL (found below, through the multiarch
# directory /usr/lib/arm-linux-gnueabihf). For a vendor sysroot instead of multiarch packages, set
# CMAKE_SYSROOT (and CMAKE_FIND_ROOT_PATH) here; nothing else changes.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# Libraries and headers of the target only; programs (cargo, sh, valgrind) of the host.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config (which FindOpenSSL asks first) sees the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# Test programs run under user-mode emulation (Debian's qemu-user), with the target's dynamic
# loader and libc from multiarch (libc6:<arch>, which libssl-dev:<arch> brings). Not with
# `-L /usr/arm-linux-gnueabihf`: mixing that cross libc with multiarch libraries hangs threaded programs.
# With a vendor sysroot, the sysroot is the loader's prefix.
find_program(OMADM_QEMU qemu-arm)
if(OMADM_QEMU AND CMAKE_SYSROOT)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${OMADM_QEMU};-L;${CMAKE_SYSROOT}")
elseif(OMADM_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${OMADM_QEMU}")
endif()
