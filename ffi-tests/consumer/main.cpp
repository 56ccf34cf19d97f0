// The C++ wrapper from an install tree.
#include <omadm.hpp>

#include <cstdio>

int main() {
  std::printf("consumer_cpp (omadm %s)\n", omadm::version().c_str());
  return omadm::version() == OMADM_VERSION_STRING ? 0 : 1;
}
