/* A translation unit with nothing in it: libomadm.so is linked from libomadm.a alone (see
 * CMakeLists.txt). ISO C wants at least one declaration. */
typedef int omadm_empty_unit;
