/* omadm.h compiles alone, as C (the program uses only its constants, no library). */
#include "omadm.h"

int main(void) { return OMADM_RESULT_OK; }
