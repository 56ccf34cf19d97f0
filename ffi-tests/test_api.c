/* The C ABI's contracts without a server: version, NULL and bad arguments, the agent's
 * configuration, a native CSP through local tree access, callbacks that fail, return codes
 * that are not OMA DM statuses, re-entrant calls, and unregistering a CSP while it is in use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omadm.h"
#include "support.h"
#include "sync_csp.h"

#define PREFIX "./Vendor/MSFT/ActiveSync"
#define ACC PREFIX "/Accounts/A1"

static const uint32_t LOCAL = OMADM_ROLE_MANAGER;

static omadm_str str_of(const char *s) {
  omadm_str v;
  v.data = s;
  v.len = strlen(s);
  return v;
}

static omadm_result add_leaf(const omadm_agent *a, const char *uri, const char *value) {
  omadm_value v;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  v.data = (const uint8_t *)value;
  v.data_len = strlen(value);
  return omadm_agent_tree_add(a, uri, strlen(uri), LOCAL, &v);
}

static omadm_result add_interior(const omadm_agent *a, const char *uri) {
  omadm_value v;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  v.format = str_of("node");
  return omadm_agent_tree_add(a, uri, strlen(uri), LOCAL, &v);
}

static omadm_result get_text(const omadm_agent *a, const char *uri, char *buf, size_t cap) {
  size_t len = 0;
  omadm_result r = omadm_agent_tree_get(a, uri, strlen(uri), LOCAL, (uint8_t *)buf, cap - 1, &len);
  if (r == OMADM_RESULT_OK) {
    buf[len] = '\0';
  }
  return r;
}

static unsigned log_records;
static void count_log(void *userdata, const omadm_log_params *p) {
  (void)userdata;
  CHECK(p->message.data != NULL && p->message.data[p->message.len] == '\0');
  log_records++;
}

typedef struct pushed {
  unsigned calls;
  char content_type[64];
  char body[64];
  uint32_t bearer;
  unsigned finalized;
} pushed;

static void on_push(void *userdata, const omadm_push_message *m) {
  pushed *p = (pushed *)userdata;
  p->calls++;
  snprintf(p->content_type, sizeof p->content_type, "%s", m->content_type.data);
  snprintf(p->body, sizeof p->body, "%.*s", (int)m->body.len, (const char *)m->body.data);
  p->bearer = m->bearer;
}

static void push_finalize(void *userdata) { ((pushed *)userdata)->finalized++; }

static omadm_agent *open_agent(const char *dir) {
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_device_info dev;
  omadm_agent *agent = NULL;
  CHECK(cfg != NULL);
  memset(&dev, 0, sizeof dev);
  dev.struct_size = sizeof dev;
  dev.dev_id = str_of("IMEI:356938035643809");
  dev.manufacturer = str_of("Contoso");
  CHECK_OK(omadm_agent_config_set_state_dir(cfg, dir, strlen(dir)));
  CHECK_OK(omadm_agent_config_set_device(cfg, &dev));
  CHECK_OK(omadm_agent_config_set_log_callback(cfg, count_log, NULL, NULL, OMADM_LOG_DEBUG));
  CHECK_OK(omadm_agent_config_add_ppg(cfg, "127.0.0.1", 9, false));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);
  return agent;
}

static void version_and_results(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", OMADM_VERSION_MAJOR, OMADM_VERSION_MINOR,
           OMADM_VERSION_PATCH);
  CHECK(strcmp(omadm_version(), expected) == 0);
  CHECK(strcmp(omadm_version(), OMADM_VERSION_STRING) == 0);
  CHECK(strcmp(omadm_result_str(OMADM_RESULT_OK), "success") == 0);
  CHECK(strcmp(omadm_result_str(OMADM_RESULT_NOT_FOUND), "404 node not found") == 0);
  CHECK(strcmp(omadm_result_str(987654), "unknown result") == 0);
}

static void config_refuses_bad_arguments(void) {
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_device_info dev;
  omadm_agent *agent = NULL;
  const char bad_utf8[] = {'\xff', '\xfe'};
  memset(&dev, 0, sizeof dev);
  dev.struct_size = sizeof dev;
  CHECK_RESULT(omadm_agent_config_set_state_dir(NULL, "x", 1), OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_agent_config_set_state_dir(cfg, NULL, 3), OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_agent_config_set_state_dir(cfg, NULL, 0), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_config_set_state_dir(cfg, bad_utf8, 2), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_config_set_device(cfg, NULL), OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_agent_config_set_device(cfg, &dev), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_config_set_max_msg_size(cfg, 10), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_config_add_trust_anchor_pem(cfg, (const uint8_t *)"junk", 4),
               OMADM_RESULT_TLS);
  CHECK_RESULT(omadm_agent_config_set_policy(cfg, 4113, 7), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_config_set_policy(cfg, 1, 0), OMADM_RESULT_UNKNOWN_ID);
  /* A NULL callback removes the log callback (there is none yet: nothing to do). */
  CHECK_OK(omadm_agent_config_set_log_callback(cfg, NULL, NULL, NULL, 3));
  CHECK_RESULT(omadm_agent_config_set_log_callback(cfg, count_log, NULL, NULL, 9),
               OMADM_RESULT_INVALID_ARGUMENT);
  /* No state directory and no DevId: refused, nothing written to `agent`. */
  CHECK_RESULT(omadm_agent_open(cfg, &agent), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK(agent == NULL);
  CHECK_RESULT(omadm_agent_open(NULL, &agent), OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_agent_open(cfg, NULL), OMADM_RESULT_NULL_PARAMETER);
  omadm_agent_config_free(cfg);
  omadm_agent_config_free(NULL);
  omadm_agent_free(NULL);
}

/* A CSP whose get calls back into the agent that is running it. */
typedef struct reentrant_csp {
  const omadm_agent *agent;
  omadm_result inner;
} reentrant_csp;

static uint32_t reentrant_get(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  reentrant_csp *r = (reentrant_csp *)userdata;
  size_t len = 0;
  omadm_str empty = {NULL, 0};
  (void)p;
  r->inner = omadm_agent_tree_get(r->agent, "./DevInfo/Man", 13, LOCAL, NULL, 0, &len);
  return omadm_csp_out_set_value(out, (const uint8_t *)"x", 1, empty, empty) == OMADM_RESULT_OK
             ? 200
             : 500;
}

/* A CSP whose get answers 200 without saying what the node is. */
static uint32_t empty_get(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  (void)userdata;
  (void)p;
  (void)out;
  return 200;
}

static void csp_through_the_local_tree(const char *dir) {
  omadm_agent *agent = open_agent(dir);
  static sync_csp csp;
  sync_csp other;
  omadm_csp_callbacks cb = sync_csp_callbacks();
  omadm_csp_callbacks no_get;
  char buf[256];
  size_t len = 0;
  omadm_ui_answer answer;

  sync_csp_init(&csp, PREFIX);
  sync_csp_init(&other, PREFIX);
  memset(&no_get, 0, sizeof no_get);
  no_get.struct_size = sizeof no_get;
  CHECK_RESULT(omadm_agent_register_csp(agent, PREFIX, strlen(PREFIX), LOCAL, NULL, &csp, NULL),
               OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_agent_register_csp(agent, PREFIX, strlen(PREFIX), LOCAL, &no_get, &csp, NULL),
               OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_agent_register_csp(NULL, PREFIX, strlen(PREFIX), LOCAL, &cb, &csp, NULL),
               OMADM_RESULT_NULL_PARAMETER);
  CHECK_OK(omadm_agent_register_csp(agent, PREFIX, strlen(PREFIX), LOCAL, &cb, &csp,
                                    sync_csp_finalize));
  /* A second registration at the same prefix is refused (the one "already registered"
   * code) and its finalizer is not called. */
  CHECK_RESULT(omadm_agent_register_csp(agent, PREFIX, strlen(PREFIX), LOCAL, &cb, &other,
                                        sync_csp_finalize),
               OMADM_RESULT_ALREADY_REGISTERED);
  CHECK(other.finalized == 0);

  CHECK_OK(add_interior(agent, PREFIX "/Accounts"));
  CHECK_OK(add_interior(agent, ACC));
  CHECK_OK(add_leaf(agent, ACC "/UserName", "ann.lee"));
  CHECK_OK(add_leaf(agent, ACC "/Password", "mail-secret"));
  CHECK(strcmp(sync_csp_value(&csp, "Accounts/A1/UserName"), "ann.lee") == 0);
  CHECK_OK(get_text(agent, ACC "/UserName", buf, sizeof buf));
  CHECK(strcmp(buf, "ann.lee") == 0);
  CHECK_OK(get_text(agent, ACC, buf, sizeof buf));
  CHECK(strstr(buf, "UserName") != NULL && strstr(buf, "Password") != NULL);
  /* Secrets are write-only. */
  CHECK_RESULT(get_text(agent, ACC "/Password", buf, sizeof buf), OMADM_RESULT_NOT_ALLOWED);
  /* Buffer too small: the length needed comes back, nothing else. */
  CHECK_RESULT(omadm_agent_tree_get(agent, ACC "/UserName", strlen(ACC "/UserName"), LOCAL,
                                    (uint8_t *)buf, 3, &len),
               OMADM_RESULT_BUFFER_TOO_SMALL);
  CHECK(len == 7);
  CHECK_RESULT(omadm_agent_tree_get(agent, ACC "/UserName", strlen(ACC "/UserName"), LOCAL,
                                    NULL, 5, &len),
               OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(get_text(agent, ACC "/Nope", buf, sizeof buf), OMADM_RESULT_NOT_FOUND);
  CHECK_RESULT(add_leaf(agent, ACC "/UserName", "again"), OMADM_RESULT_ALREADY_EXISTS);

  /* A callback that fails: a DM status passes through; the node is not there afterwards. */
  snprintf(csp.fail_name, sizeof csp.fail_name, "Domain");
  csp.fail_code = 420;
  CHECK_RESULT(add_leaf(agent, ACC "/Domain", "EXAMPLE"), OMADM_RESULT_DEVICE_FULL);
  /* Garbage codes fail the command with 500 and change nothing. */
  csp.fail_code = 12345;
  CHECK_RESULT(add_leaf(agent, ACC "/Domain", "EXAMPLE"), OMADM_RESULT_COMMAND_FAILED);
  /* A callback that answers an omadm_result by mistake (the other code space): taken as the
   * DM status it stands for (3420 as 420), with a warning in the log. */
  csp.fail_code = OMADM_RESULT_DEVICE_FULL;
  CHECK_RESULT(add_leaf(agent, ACC "/Domain", "EXAMPLE"), OMADM_RESULT_DEVICE_FULL);
  csp.fail_code = 201;
  CHECK_RESULT(add_leaf(agent, ACC "/Domain", "EXAMPLE"), OMADM_RESULT_COMMAND_FAILED);
  CHECK(sync_csp_value(&csp, "Accounts/A1/Domain") == NULL);
  CHECK_OK(get_text(agent, ACC "/UserName", buf, sizeof buf));
  CHECK(strcmp(buf, "ann.lee") == 0);
  csp.fail_name[0] = '\0';

  /* Replace and Delete go to the CSP. */
  {
    omadm_value v;
    memset(&v, 0, sizeof v);
    v.struct_size = sizeof v;
    v.data = (const uint8_t *)"ann";
    v.data_len = 3;
    CHECK_OK(omadm_agent_tree_replace(agent, ACC "/UserName", strlen(ACC "/UserName"), LOCAL, &v));
    CHECK(strcmp(sync_csp_value(&csp, "Accounts/A1/UserName"), "ann") == 0);
  }

  /* Re-entrant calls are refused, not deadlocked. */
  {
    static reentrant_csp r;
    omadm_csp_callbacks rcb;
    memset(&rcb, 0, sizeof rcb);
    rcb.struct_size = sizeof rcb;
    rcb.get = reentrant_get;
    r.agent = agent;
    r.inner = OMADM_RESULT_OK;
    CHECK_OK(omadm_agent_register_csp(agent, "./Vendor/reentrant", 18, LOCAL, &rcb, &r, NULL));
    CHECK_OK(get_text(agent, "./Vendor/reentrant", buf, sizeof buf));
    CHECK(r.inner == OMADM_RESULT_REENTRANT);
  }
  /* get that answers nothing: 500, not a crash. */
  {
    omadm_csp_callbacks ecb;
    memset(&ecb, 0, sizeof ecb);
    ecb.struct_size = sizeof ecb;
    ecb.get = empty_get;
    CHECK_OK(omadm_agent_register_csp(agent, "./Vendor/empty", 14, LOCAL, &ecb, NULL, NULL));
    CHECK_RESULT(get_text(agent, "./Vendor/empty", buf, sizeof buf), OMADM_RESULT_COMMAND_FAILED);
  }

  /* Out-of-callback helpers refuse NULL. */
  CHECK_RESULT(omadm_csp_out_set_secret(NULL), OMADM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(omadm_csp_out_add_child(NULL, "a", 1), OMADM_RESULT_NULL_PARAMETER);

  /* Push input: bad arguments refused, garbage queued and dropped without harm. */
  CHECK_RESULT(omadm_agent_push_gsm_sms(agent, NULL, 0), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_push_gsm_sms(agent, NULL, 5), OMADM_RESULT_NULL_PARAMETER);
  CHECK_OK(omadm_agent_push_gsm_sms(agent, (const uint8_t *)"\x04\x0b\x91", 3));
  CHECK_OK(omadm_agent_push_cdma_sms(agent, (const uint8_t *)"\x00\x01", 2));
  CHECK_OK(omadm_agent_push_udp(agent, "10.0.0.1", 8, (const uint8_t *)"\x01\x06", 2));
  CHECK_OK(omadm_agent_process(agent));
  CHECK_RESULT(omadm_agent_request_session(agent, NULL, 0), OMADM_RESULT_INVALID_ARGUMENT);

  /* Another application's push: routed by content type to its handler. A WSP push PDU:
   * TID 1, PDU type 6 (push), headers length 1, content type text/plain (0x83), body "hi". */
  {
    static pushed p;
    uint32_t id = 0;
    const uint8_t wsp[] = {0x01, 0x06, 0x01, 0x83, 'h', 'i'};
    CHECK_RESULT(omadm_agent_register_push_handler(agent, NULL, 0, NULL, 0, on_push, &p, NULL, &id),
                 OMADM_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(omadm_agent_register_push_handler(agent, "text/plain", 10, NULL, 0, NULL, &p,
                                                   NULL, &id),
                 OMADM_RESULT_NULL_PARAMETER);
    CHECK_OK(omadm_agent_register_push_handler(agent, "text/plain", 10, NULL, 0, on_push, &p,
                                               push_finalize, &id));
    CHECK_RESULT(omadm_agent_register_push_handler(agent, "text/plain", 10, NULL, 0, on_push, &p,
                                                   NULL, &id),
                 OMADM_RESULT_ALREADY_REGISTERED);
    CHECK_OK(omadm_agent_push_udp(agent, "127.0.0.1", 9, wsp, sizeof wsp));
    CHECK_OK(omadm_agent_process(agent));
    CHECK(p.calls == 1);
    CHECK(strcmp(p.content_type, "text/plain") == 0);
    CHECK(strcmp(p.body, "hi") == 0);
    CHECK(p.bearer == OMADM_BEARER_UDP);
    CHECK_OK(omadm_agent_unregister_push_handler(agent, id));
    CHECK(p.finalized == 1);
    CHECK_RESULT(omadm_agent_unregister_push_handler(agent, id), OMADM_RESULT_UNKNOWN_ID);
    CHECK_OK(omadm_agent_push_udp(agent, "127.0.0.1", 9, wsp, sizeof wsp));
    CHECK_OK(omadm_agent_process(agent));
    CHECK(p.calls == 1);
  }

  /* UI answers for nothing waiting. */
  memset(&answer, 0, sizeof answer);
  answer.struct_size = sizeof answer;
  CHECK_RESULT(omadm_agent_ui_answer(agent, 42, &answer), OMADM_RESULT_UNKNOWN_ID);
  answer.kind = 99;
  CHECK_RESULT(omadm_agent_ui_answer(agent, 42, &answer), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_agent_ui_answer(agent, 42, NULL), OMADM_RESULT_NULL_PARAMETER);

  /* Generic alerts need a server and a type. */
  {
    omadm_generic_alert g;
    memset(&g, 0, sizeof g);
    g.struct_size = sizeof g;
    CHECK_RESULT(omadm_agent_add_generic_alert(agent, "srv", 3, &g, NULL),
                 OMADM_RESULT_INVALID_ARGUMENT);
  }

  /* Unregister during use: from inside the CSP's own add callback. That callback finishes
   * its work, the finalizer runs once when the operation ends, and later calls find nothing. */
  CHECK_RESULT(omadm_agent_unregister_csp(agent, "./Vendor/none", 13), OMADM_RESULT_UNKNOWN_ID);
  csp.unregister_from_inside = agent;
  CHECK_OK(add_leaf(agent, ACC "/Domain", "EXAMPLE"));
  CHECK(strcmp(sync_csp_value(&csp, "Accounts/A1/Domain"), "EXAMPLE") == 0);
  CHECK(csp.finalized == 1);
  CHECK_RESULT(get_text(agent, ACC "/UserName", buf, sizeof buf), OMADM_RESULT_NOT_FOUND);
  CHECK_RESULT(omadm_agent_unregister_csp(agent, PREFIX, strlen(PREFIX)), OMADM_RESULT_UNKNOWN_ID);

  /* Registered again, then unregistered from outside: the finalizer runs before return. */
  CHECK_OK(omadm_agent_register_csp(agent, PREFIX, strlen(PREFIX), LOCAL, &cb, &csp,
                                    sync_csp_finalize));
  CHECK_OK(omadm_agent_unregister_csp(agent, PREFIX, strlen(PREFIX)));
  CHECK(csp.finalized == 2);

  /* Freed with a CSP registered: its finalizer runs. */
  CHECK_OK(omadm_agent_register_csp(agent, PREFIX, strlen(PREFIX), LOCAL, &cb, &csp,
                                    sync_csp_finalize));
  omadm_agent_free(agent);
  CHECK(csp.finalized == 3);
  CHECK(log_records > 0);
}

int main(void) {
  char dir[512];
  make_temp_dir(dir, sizeof dir, "api");
  version_and_results();
  config_refuses_bad_arguments();
  csp_through_the_local_tree(dir);
  printf("test_api: ok\n");
  return 0;
}
