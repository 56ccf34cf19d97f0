# The body of the Debian cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake): they set OMADM_CROSS_TRIPLE (the GNU triple of Debian's
# gcc-<triple>) and OMADM_CROSS_PROCESSOR and OMADM_CROSS_QEMU, then include this file.
#
# From it CMakeLists.txt derives the Rust target (rust_target.cmake), the linker cargo uses
# (the C compiler below) and the target's OpenSSL (found through the multiarch directory
# /usr/lib/<triple>). For a vendor sysroot instead of multiarch packages, set CMAKE_SYSROOT
# (and CMAKE_FIND_ROOT_PATH) in a copy of the toolchain file; nothing else changes.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${OMADM_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${OMADM_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${OMADM_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${OMADM_CROSS_TRIPLE})
# Libraries and headers of the target only; programs (cargo, sh, valgrind) of the host.
set(CMAKE_FIND_ROOT_PATH /usr/${OMADM_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config (which FindOpenSSL asks first) sees the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${OMADM_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# Test programs run under user-mode emulation (Debian's qemu-user), with the target's dynamic
# loader and libc from multiarch (libc6:<arch>, which libssl-dev:<arch> brings). Not with
# `-L /usr/<triple>`: mixing that cross libc with multiarch libraries hangs threaded programs.
# With a vendor sysroot, the sysroot is the loader's prefix.
find_program(OMADM_QEMU ${OMADM_CROSS_QEMU})
if(OMADM_QEMU AND CMAKE_SYSROOT)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${OMADM_QEMU};-L;${CMAKE_SYSROOT}")
elseif(OMADM_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${OMADM_QEMU}")
endif()
