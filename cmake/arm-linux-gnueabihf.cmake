# Cross-building libomadm for arm-linux-gnueabihf (Debian's gcc-arm-linux-gnueabihf, g++-arm-linux-gnueabihf and
# multiarch libssl-dev; the C tests run under qemu-arm from qemu-user).
#
#   cmake -S . -B build-arm --toolchain cmake/arm-linux-gnueabihf.cmake -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-arm
#   ctest --test-dir build-arm
set(OMADM_CROSS_TRIPLE arm-linux-gnueabihf)
set(OMADM_CROSS_PROCESSOR arm)
set(OMADM_CROSS_QEMU qemu-arm)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
