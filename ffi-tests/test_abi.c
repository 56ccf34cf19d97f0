/* The C ABI 1.0 contract, as a host sees it:
 * - versions: the header's and the library's numbers agree;
 * - structs that grow: a binary built against an older, shorter struct (a smaller
 *   struct_size, garbage where newer fields would be) still works, and omadm never reads past
 *   struct_size; a struct_size of 0 (no OMADM_*_INIT) is refused;
 * - misuse is an error: omadm_agent_free from a callback, a second agent on the same state
 *   directory, a callback answering an API code, a removed log callback (finalized once);
 * - accounts from C (omadm_account), and sessions whose failures have distinct codes:
 *   untrusted server certificate, device credentials refused;
 * - access control from C: under the OMA ACL model a server's Replace in a native CSP is
 *   refused (425) until the host grants it with omadm_agent_tree_set_acl. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omadm.h"
#include "session_flow.h"
#include "support.h"

#define ACME "./Vendor/acme"
#define LOCAL OMADM_ROLE_MANAGER

/* A native CSP holding one leaf, ACME/Level; it can be told to free its agent from inside a
 * callback, or to answer an API code. */
typedef struct acme_csp {
  char level[32];
  omadm_agent *agent;
  int free_inside;
  omadm_result free_result;
  uint32_t answer;
  unsigned finalized;
} acme_csp;

static uint32_t acme_get(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  acme_csp *c = (acme_csp *)userdata;
  omadm_str empty = {NULL, 0};
  if (c->free_inside) {
    c->free_result = omadm_agent_free(c->agent);
  }
  if (strcmp(p->path.data, ACME) == 0) {
    return omadm_csp_out_set_interior(out, empty) == OMADM_RESULT_OK ? 200 : 500;
  }
  if (strcmp(p->path.data, ACME "/Level") == 0) {
    return omadm_csp_out_set_value(out, (const uint8_t *)c->level, strlen(c->level), empty,
                                   empty) == OMADM_RESULT_OK
               ? 200
               : 500;
  }
  return 404;
}

static uint32_t acme_children(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  (void)userdata;
  if (strcmp(p->path.data, ACME) == 0) {
    return omadm_csp_out_add_child(out, "Level", 5) == OMADM_RESULT_OK ? 200 : 500;
  }
  return 200;
}

static uint32_t acme_replace(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  acme_csp *c = (acme_csp *)userdata;
  (void)out;
  if (c->answer != 0) {
    return c->answer;
  }
  if (strcmp(p->path.data, ACME "/Level") != 0 || p->data.len >= sizeof c->level) {
    return 404;
  }
  memcpy(c->level, p->data.data, p->data.len);
  c->level[p->data.len] = '\0';
  return 200;
}

static void acme_finalize(void *userdata) { ((acme_csp *)userdata)->finalized++; }

/* An "old binary's" CSP callbacks: the first layout's fields only (get, child_names,
 * replace), struct_size saying so, and garbage where later fields would be. */
static omadm_csp_callbacks old_layout_callbacks(void) {
  omadm_csp_callbacks cb;
  memset(&cb, 0xA5, sizeof cb);
  cb.struct_size = offsetof(omadm_csp_callbacks, delete_node);
  cb.get = acme_get;
  cb.child_names = acme_children;
  cb.add = NULL;
  cb.replace = acme_replace;
  return cb;
}

typedef struct logs {
  unsigned lines;
  unsigned finalized;
} logs;

static void count_log(void *userdata, const omadm_log_params *p) {
  (void)p;
  ((logs *)userdata)->lines++;
}

static void logs_finalize(void *userdata) { ((logs *)userdata)->finalized++; }

/* OMADM_TEST_LOG=1 prints the agent's log (to debug a failing run). */
static void print_log(void *userdata, const omadm_log_params *p) {
  (void)userdata;
  fprintf(stderr, "[omadm %u] %s: %s\n", p->level, p->target.data, p->message.data);
}

static omadm_str str_of(const char *s) {
  omadm_str v;
  v.data = s;
  v.len = strlen(s);
  return v;
}

static omadm_agent_config *base_config(const char *state) {
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_device_info dev;
  CHECK(cfg != NULL);
  /* An older, shorter omadm_device_info: DevId only, garbage past struct_size. */
  memset(&dev, 0x5A, sizeof dev);
  dev.struct_size = offsetof(omadm_device_info, manufacturer);
  dev.dev_id = str_of(FLOW_DEV_ID);
  CHECK_OK(omadm_agent_config_set_state_dir(cfg, state, strlen(state)));
  CHECK_OK(omadm_agent_config_set_device(cfg, &dev));
  if (getenv("OMADM_TEST_LOG") != NULL) {
    CHECK_OK(omadm_agent_config_set_log_callback(cfg, print_log, NULL, NULL, OMADM_LOG_DEBUG));
  }
  return cfg;
}

static void versions_and_struct_sizes(void) {
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_device_info dev = OMADM_DEVICE_INFO_INIT;
  CHECK(omadm_version_number() == OMADM_VERSION_NUMBER);
  CHECK(OMADM_VERSION_NUMBER ==
        ((OMADM_VERSION_MAJOR << 16) | (OMADM_VERSION_MINOR << 8) | OMADM_VERSION_PATCH));
  CHECK(strcmp(omadm_version(), OMADM_VERSION_STRING) == 0);
  CHECK(dev.struct_size == sizeof(omadm_device_info));
  dev.dev_id = str_of("IMEI:1");
  CHECK_OK(omadm_agent_config_set_device(cfg, &dev));
  /* Forgot the INIT macro: struct_size 0, refused. */
  dev.struct_size = 0;
  CHECK_RESULT(omadm_agent_config_set_device(cfg, &dev), OMADM_RESULT_INVALID_ARGUMENT);
  /* Shorter than the first layout's required fields: refused. */
  dev.struct_size = sizeof(size_t);
  CHECK_RESULT(omadm_agent_config_set_device(cfg, &dev), OMADM_RESULT_INVALID_ARGUMENT);
  /* A newer binary's larger struct: the tail this library does not know is ignored. */
  {
    unsigned char bigger[sizeof(omadm_device_info) + 64];
    omadm_device_info *d = (omadm_device_info *)(void *)bigger;
    memset(bigger, 0, sizeof bigger);
    d->struct_size = sizeof bigger;
    d->dev_id = str_of("IMEI:2");
    CHECK_OK(omadm_agent_config_set_device(cfg, d));
  }
  omadm_agent_config_free(cfg);
}

static void old_layouts_and_misuse(void) {
  char state[512];
  omadm_agent_config *cfg;
  omadm_agent *agent = NULL, *second = NULL;
  static acme_csp acme;
  static logs log_a, log_b;
  omadm_csp_callbacks cb = old_layout_callbacks();
  char buf[64];
  size_t len = 0;

  make_temp_dir(state, sizeof state, "abi");
  cfg = base_config(state);
  CHECK_OK(omadm_agent_open(cfg, &agent));
  /* The state directory is this agent's: a second one is refused, nothing written. */
  CHECK_RESULT(omadm_agent_open(cfg, &second), OMADM_RESULT_STATE_LOCKED);
  CHECK(second == NULL);
  omadm_agent_config_free(cfg);

  snprintf(acme.level, sizeof acme.level, "3");
  acme.agent = agent;
  CHECK_OK(omadm_agent_register_csp(agent, ACME, strlen(ACME), LOCAL, &cb, &acme, acme_finalize));
  /* The old callbacks work; the fields past their struct_size are NULL to omadm: an Add,
   * which the old layout's garbage `add` slot would have crashed, is refused (405). */
  CHECK_OK(omadm_agent_tree_get(agent, ACME "/Level", strlen(ACME "/Level"), LOCAL,
                                (uint8_t *)buf, sizeof buf, &len));
  CHECK(len == 1 && buf[0] == '3');
  {
    /* An older, shorter omadm_value: data only (format and type past struct_size). */
    omadm_value v;
    memset(&v, 0x77, sizeof v);
    v.struct_size = offsetof(omadm_value, format);
    v.data = (const uint8_t *)"9";
    v.data_len = 1;
    CHECK_RESULT(omadm_agent_tree_add(agent, ACME "/Other", strlen(ACME "/Other"), LOCAL, &v),
                 OMADM_RESULT_NOT_ALLOWED);
    CHECK_OK(omadm_agent_tree_replace(agent, ACME "/Level", strlen(ACME "/Level"), LOCAL, &v));
    CHECK(strcmp(acme.level, "9") == 0);
  }
  /* A callback answering an omadm_result (the other code space) is taken as the DM status
   * it stands for: OMADM_RESULT_OK as 200, OMADM_RESULT_PERMISSION_DENIED (3425) as 425. */
  {
    omadm_value v = OMADM_VALUE_INIT;
    v.data = (const uint8_t *)"4";
    v.data_len = 1;
    acme.answer = OMADM_RESULT_PERMISSION_DENIED;
    CHECK_RESULT(omadm_agent_tree_replace(agent, ACME "/Level", strlen(ACME "/Level"), LOCAL, &v),
                 OMADM_RESULT_PERMISSION_DENIED);
    acme.answer = OMADM_RESULT_OK;
    CHECK_OK(omadm_agent_tree_replace(agent, ACME "/Level", strlen(ACME "/Level"), LOCAL, &v));
    acme.answer = 0;
  }
  /* omadm_agent_free from inside a callback: refused, and the agent goes on working. */
  acme.free_inside = 1;
  CHECK_OK(omadm_agent_tree_get(agent, ACME "/Level", strlen(ACME "/Level"), LOCAL,
                                (uint8_t *)buf, sizeof buf, &len));
  acme.free_inside = 0;
  CHECK(acme.free_result == OMADM_RESULT_REENTRANT);
  CHECK_OK(omadm_agent_tree_get(agent, ACME, strlen(ACME), LOCAL, (uint8_t *)buf, sizeof buf,
                                &len));

  /* Log callbacks: set, replaced (the old one finalized at once), removed with NULL. */
  CHECK_OK(omadm_agent_set_log_callback(agent, count_log, &log_a, logs_finalize, OMADM_LOG_TRACE));
  CHECK_OK(omadm_agent_request_session(agent, "nobody", 6));
  CHECK_OK(omadm_agent_process(agent));
  CHECK(log_a.lines > 0);
  CHECK_OK(omadm_agent_set_log_callback(agent, count_log, &log_b, logs_finalize, OMADM_LOG_TRACE));
  CHECK(log_a.finalized == 1);
  CHECK_OK(omadm_agent_set_log_callback(agent, NULL, NULL, NULL, OMADM_LOG_OFF));
  CHECK(log_b.finalized == 1);
  log_b.lines = 0;
  CHECK_OK(omadm_agent_request_session(agent, "nobody", 6));
  CHECK_OK(omadm_agent_process(agent));
  CHECK(log_b.lines == 0);

  CHECK_OK(omadm_agent_free(agent));
  CHECK(acme.finalized == 1);
  CHECK(log_a.finalized == 1 && log_b.finalized == 1);
  /* The state directory is free again. */
  cfg = base_config(state);
  CHECK_OK(omadm_agent_open(cfg, &second));
  omadm_agent_config_free(cfg);
  CHECK_OK(omadm_agent_free(second));
}

/* Adds the reference server's account through omadm_account, with `client_secret`. */
static void add_account(const omadm_agent *agent, const test_server *server,
                        const char *client_secret) {
  omadm_account *a = omadm_account_new();
  CHECK(a != NULL);
  CHECK_RESULT(omadm_agent_add_account(agent, a), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_OK(omadm_account_set_server_id(a, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID)));
  CHECK_RESULT(omadm_account_set_url(a, "not a url", 9), OMADM_RESULT_BAD_URL);
  CHECK_OK(omadm_account_set_url(a, server->url, strlen(server->url)));
  CHECK_OK(omadm_account_set_client_credentials(a, OMADM_AUTH_DIGEST, "dev", 3, client_secret,
                                                strlen(client_secret)));
  CHECK_OK(omadm_account_set_server_credentials(a, OMADM_AUTH_DIGEST, NULL, 0, "srv-secret", 10));
  CHECK_RESULT(omadm_account_set_roles(a, OMADM_ROLE_KNOWN_PPG), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_OK(omadm_account_set_roles(a, OMADM_ROLE_MANAGER));
  CHECK_OK(omadm_agent_add_account(agent, a));
  /* One ServerID, one account: the one "already registered" code. */
  CHECK_RESULT(omadm_agent_add_account(agent, a), OMADM_RESULT_ALREADY_REGISTERED);
  omadm_account_free(a);
}

static void set_client_secret(const omadm_agent *agent, const char *secret) {
  omadm_account *a = omadm_account_new();
  CHECK_OK(omadm_account_set_client_credentials(a, OMADM_AUTH_DIGEST, "dev", 3, secret,
                                                strlen(secret)));
  CHECK_OK(omadm_agent_update_account(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), a));
  CHECK_RESULT(omadm_agent_update_account(agent, "nobody", 6, a), OMADM_RESULT_UNKNOWN_ID);
  omadm_account_free(a);
}

static void sessions_and_access_control(void) {
  test_server server;
  char state[512], other[512];
  omadm_agent_config *cfg;
  omadm_agent *agent = NULL;
  static acme_csp acme;
  omadm_csp_callbacks cb = OMADM_CSP_CALLBACKS_INIT;
  uint32_t http = 0;
  char acl[128];
  size_t len = 0;

  flow_start_server(&server, "acl.jobs");

  /* A server whose certificate the device does not trust: TLS_FAILED. */
  make_temp_dir(other, sizeof other, "abi-untrusted");
  cfg = base_config(other);
  CHECK_OK(omadm_agent_config_set_system_trust_store(cfg, false));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);
  add_account(agent, &server, "dev-secret");
  CHECK_RESULT(omadm_agent_run_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &http),
               OMADM_RESULT_TLS_FAILED);
  CHECK_RESULT(omadm_agent_run_session(agent, "nobody", 6, &http), OMADM_RESULT_NO_ACCOUNT);
  CHECK_OK(omadm_agent_remove_account(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID)));
  CHECK_RESULT(omadm_agent_remove_account(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID)),
               OMADM_RESULT_UNKNOWN_ID);
  CHECK_OK(omadm_agent_free(agent));

  /* The trusted server, the OMA ACL model, a native CSP at ./Vendor/acme. */
  make_temp_dir(state, sizeof state, "abi-acl");
  cfg = flow_agent_config(&server, state);
  if (getenv("OMADM_TEST_LOG") != NULL) {
    CHECK_OK(omadm_agent_config_set_log_callback(cfg, print_log, NULL, NULL, OMADM_LOG_DEBUG));
  }
  CHECK_OK(omadm_agent_config_set_access_model(cfg, OMADM_ACCESS_ACL));
  CHECK_RESULT(omadm_agent_config_set_access_model(cfg, 77), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_OK(omadm_agent_config_set_root_acl(cfg, "Add=*&Get=*", 11));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);
  snprintf(acme.level, sizeof acme.level, "3");
  cb.get = acme_get;
  cb.child_names = acme_children;
  cb.replace = acme_replace;
  CHECK_OK(omadm_agent_register_csp(agent, ACME, strlen(ACME), LOCAL, &cb, &acme, NULL));

  /* Wrong device credentials: the server refuses them, a code of its own. The right ones
   * then work at once, although the server never heard the nonce the device issued in the
   * refused session (both sides refuse each other once, and each still hears the other's
   * challenge). */
  add_account(agent, &server, "not-the-secret");
  CHECK_RESULT(omadm_agent_run_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &http),
               OMADM_RESULT_CREDENTIALS_REFUSED);
  set_client_secret(agent, "dev-secret");

  /* By default a server may Get and Add in the CSP's subtree, not Replace: 425. */
  CHECK_OK(omadm_agent_run_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &http));
  CHECK(server_records_contain(&server, ACME "/Level\t425", 10));
  CHECK(strcmp(acme.level, "3") == 0);

  /* The host grants Replace to this server on the mount point; the next session's Replace
   * succeeds. */
  CHECK_OK(omadm_agent_tree_set_acl(agent, ACME, strlen(ACME), "Get=*&Replace=" FLOW_SERVER_ID,
                                    strlen("Get=*&Replace=" FLOW_SERVER_ID)));
  CHECK_OK(omadm_agent_tree_get_acl(agent, ACME, strlen(ACME), (uint8_t *)acl, sizeof acl - 1,
                                    &len));
  acl[len] = '\0';
  CHECK(strcmp(acl, "Get=*&Replace=" FLOW_SERVER_ID) == 0);
  CHECK_OK(omadm_agent_run_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &http));
  CHECK(server_records_contain(&server, ACME "/Level\t200", 10));
  CHECK(strcmp(acme.level, "7") == 0);

  CHECK_OK(omadm_agent_free(agent));
  server_stop(&server);
}

int main(void) {
  versions_and_struct_sizes();
  old_layouts_and_misuse();
  sessions_and_access_control();
  printf("test_abi: ok\n");
  return 0;
}
