// omadm.hpp compiles alone.
#include "omadm.hpp"

int main() { return omadm::version().empty() ? 1 : 0; }
