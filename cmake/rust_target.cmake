# omadm_rust_target(OUT): the Rust target triple to build libomadm for.
#
# OMADM_RUST_TARGET when set; empty for a native build (cargo builds for the host); in a cross
# build (CMAKE_CROSSCOMPILING, a toolchain file such as cmake/aarch64-linux-gnu.cmake), the
# Rust name of the C compiler's target, as `cc -dumpmachine` reports it. A target it cannot
# name stops the configuration with a message asking for OMADM_RUST_TARGET.
function(omadm_rust_target out)
  if(OMADM_RUST_TARGET)
    set(${out} "${OMADM_RUST_TARGET}" PARENT_SCOPE)
    return()
  endif()
  if(NOT CMAKE_CROSSCOMPILING)
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  if(CMAKE_C_COMPILER_TARGET)
    set(machine "${CMAKE_C_COMPILER_TARGET}")
  else()
    execute_process(COMMAND ${CMAKE_C_COMPILER} -dumpmachine
      OUTPUT_VARIABLE machine OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed)
    if(failed)
      message(FATAL_ERROR "omadm: ${CMAKE_C_COMPILER} -dumpmachine failed; set OMADM_RUST_TARGET")
    endif()
  endif()
  # GNU triples name the vendor optionally (aarch64-linux-gnu, aarch64-unknown-linux-gnu).
  string(REGEX REPLACE "^([^-]+)-(unknown-|pc-|none-)?linux-" "\\1-linux-" machine "${machine}")
  if(machine MATCHES "^(aarch64|x86_64|i686|powerpc64le|s390x|mips64el)-linux-gnu$")
    set(triple "${CMAKE_MATCH_1}-unknown-linux-gnu")
  elseif(machine MATCHES "^riscv64-linux-gnu$")
    set(triple "riscv64gc-unknown-linux-gnu")
  elseif(machine MATCHES "^(arm|armv7|armv7l)-linux-gnueabihf$")
    # Debian's and most handset BSPs' hard-float ARM: ARMv7-A, Thumb-2, VFPv3-D16.
    set(triple "armv7-unknown-linux-gnueabihf")
  elseif(machine MATCHES "^(arm|armv5te)-linux-gnueabi$")
    set(triple "armv5te-unknown-linux-gnueabi")
  elseif(machine MATCHES "^(aarch64|armv7|x86_64|i686)-linux-android")
    set(triple "${CMAKE_MATCH_1}-linux-android")
    if(CMAKE_MATCH_1 STREQUAL "armv7")
      set(triple "armv7-linux-androideabi")
    endif()
  else()
    message(FATAL_ERROR "omadm: no Rust target known for the C compiler's ${machine}; "
                        "set OMADM_RUST_TARGET (rustc --print target-list)")
  endif()
  set(${out} "${triple}" PARENT_SCOPE)
endfunction()
