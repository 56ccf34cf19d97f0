/* A native CSP written in C: the sync (ActiveSync-shaped) account store of the demo,
 * `<prefix>/Accounts/<Id>/{EmailAddress,UserName,Password,Domain,AccountName,ServerName,
 * Options/...}`, kept in memory. Password is write-only. Every callback counts its calls so
 * tests can check what the Configuration Manager asked. */
#ifndef OMADM_TEST_SYNC_CSP_H
#define OMADM_TEST_SYNC_CSP_H

#include <stddef.h>

#include "omadm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SYNC_CSP_MAX_NODES 128

typedef struct sync_node {
  char path[256]; /* relative to the prefix, "" for the prefix itself */
  int interior;
  unsigned char value[256];
  size_t value_len;
} sync_node;

typedef struct sync_csp {
  char prefix[128];
  sync_node nodes[SYNC_CSP_MAX_NODES];
  size_t count;
  unsigned calls;
  unsigned finalized;
  /* Failure injection: when set, add/replace on a path ending with this name answers
   * `fail_code` (any number, also garbage). */
  char fail_name[64];
  unsigned fail_code;
  /* When set, the next add callback unregisters the CSP from inside it, then does its work. */
  const omadm_agent *unregister_from_inside;
} sync_csp;

/* Initializes the store for `prefix` (only its root node). */
void sync_csp_init(sync_csp *csp, const char *prefix);
/* The callbacks; pass the sync_csp as userdata and sync_csp_finalize as finalizer. */
omadm_csp_callbacks sync_csp_callbacks(void);
void sync_csp_finalize(void *userdata);
/* The value at `relative` ("Accounts/x/UserName") as a NUL-terminated string, or NULL. */
const char *sync_csp_value(const sync_csp *csp, const char *relative);

#ifdef __cplusplus
}
#endif

#endif
