# Cross-building libomadm for aarch64-linux-gnu (Debian's gcc-aarch64-linux-gnu, g++-aarch64-linux-gnu and
# multiarch libssl-dev; the C tests run under qemu-aarch64 from qemu-user).
#
#   cmake -S . -B build-aarch64 --toolchain cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-aarch64
#   ctest --test-dir build-aarch64
set(OMADM_CROSS_TRIPLE aarch64-linux-gnu)
set(OMADM_CROSS_PROCESSOR aarch64)
set(OMADM_CROSS_QEMU qemu-aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake")
