// omadm.h compiles alone, as C++.
#include "omadm.h"

int main() { return OMADM_RESULT_OK; }
