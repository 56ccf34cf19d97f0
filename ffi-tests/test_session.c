/* A whole session driven from C: the radio layer hands SMS PDUs to libomadm (a USERPIN
 * bootstrap, then a DM notification), the agent runs the session over HTTPS with the
 * reference server, and the server configures the sync account in a CSP written in C. Then a
 * client-initiated session delivers a generic alert, which the server records once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omadm.h"
#include "session_flow.h"
#include "support.h"
#include "sync_csp.h"

typedef struct seen {
  unsigned queued, ended, failed, bootstrapped, pin_required;
  uint32_t pin_request_id;
  uint32_t last_end_reason;
  char last_failure[256];
  unsigned log_lines;
} seen;

static void on_event(void *userdata, const omadm_event *e) {
  seen *s = (seen *)userdata;
  switch (e->kind) {
    case OMADM_EVENT_SESSION_QUEUED:
      s->queued++;
      CHECK(strcmp(e->server_id.data, FLOW_SERVER_ID) == 0);
      break;
    case OMADM_EVENT_SESSION_ENDED:
      s->ended++;
      s->last_end_reason = e->end_reason;
      break;
    case OMADM_EVENT_SESSION_FAILED:
      s->failed++;
      snprintf(s->last_failure, sizeof s->last_failure, "%s", e->reason.data);
      break;
    case OMADM_EVENT_BOOTSTRAPPED:
      s->bootstrapped++;
      break;
    case OMADM_EVENT_PIN_REQUIRED:
      s->pin_required++;
      s->pin_request_id = e->pin_request_id;
      break;
    default:
      CHECK(!"unknown event kind");
  }
}

static void on_log(void *userdata, const omadm_log_params *p) {
  seen *s = (seen *)userdata;
  s->log_lines++;
  /* Secrets never reach the log. */
  CHECK(strstr(p->message.data, "mail-secret-7") == NULL);
  CHECK(strstr(p->message.data, "dev-secret") == NULL);
}

/* Prints this process's peak resident set (VmHWM) for BENCHMARKS.md: the agent library's
 * footprint in a C host, without the server (a separate process). */
static void print_peak_rss(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  if (f == NULL) {
    return;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0 || strncmp(line, "RssAnon:", 8) == 0 ||
        strncmp(line, "RssFile:", 8) == 0) {
      printf("test_session: %s", line);
    }
  }
  fclose(f);
}

static omadm_str str_of(const char *s) {
  omadm_str v;
  v.data = s;
  v.len = strlen(s);
  return v;
}

static void feed(const omadm_agent *agent, flow_pdus *pdus) {
  size_t i;
  for (i = 0; i < pdus->count; i++) {
    CHECK_OK(omadm_agent_push_gsm_sms(agent, pdus->pdu[i], pdus->len[i]));
  }
  flow_pdus_free(pdus);
}

int main(void) {
  test_server server;
  char state[512];
  static sync_csp csp;
  static seen s;
  omadm_agent_config *cfg;
  omadm_agent *agent = NULL;
  omadm_csp_callbacks cb = sync_csp_callbacks();
  flow_pdus pdus;
  char buf[128];
  size_t len = 0;
  omadm_generic_alert alert;
  uint64_t alert_id = 0;

  flow_start_server(&server, "sync-account.jobs");
  make_temp_dir(state, sizeof state, "agent");

  cfg = flow_agent_config(&server, state);
  CHECK_OK(omadm_agent_config_set_event_callback(cfg, on_event, &s, NULL));
  CHECK_OK(omadm_agent_config_set_log_callback(cfg, on_log, &s, NULL, OMADM_LOG_DEBUG));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);

  sync_csp_init(&csp, FLOW_SYNC_PREFIX);
  CHECK_OK(omadm_agent_register_csp(agent, FLOW_SYNC_PREFIX, strlen(FLOW_SYNC_PREFIX),
                                    OMADM_ROLE_MANAGER | OMADM_ROLE_OPERATOR, &cb, &csp,
                                    sync_csp_finalize));

  /* 1. The bootstrap arrives as SMS segments; the user types the PIN. */
  flow_bootstrap_pdus(&server, &pdus);
  feed(agent, &pdus);
  CHECK_OK(omadm_agent_process(agent));
  CHECK(s.pin_required == 1);
  CHECK_RESULT(omadm_agent_provide_pin(agent, s.pin_request_id, NULL, 0),
               OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_OK(omadm_agent_provide_pin(agent, s.pin_request_id, FLOW_PIN, strlen(FLOW_PIN)));
  CHECK_OK(omadm_agent_process(agent));
  CHECK(s.bootstrapped == 1);

  /* 2. The notification arrives; processing it runs the session. */
  flow_notification_pdus("0x42", &pdus);
  feed(agent, &pdus);
  CHECK_OK(omadm_agent_process(agent));
  if (s.failed > 0) {
    fprintf(stderr, "session failed: %s\n", s.last_failure);
  }
  CHECK(s.queued == 1);
  CHECK(s.ended == 1);
  CHECK(s.last_end_reason == OMADM_END_COMPLETED);

  /* The C CSP holds what the server sent; the password is write-only. */
  CHECK(strcmp(sync_csp_value(&csp, "Accounts/{6A8B2D4C-1F3E-4A5B-9C7D-0E1F2A3B4C5D}/UserName"),
               "ann.lee") == 0);
  CHECK(strcmp(sync_csp_value(&csp,
                              "Accounts/{6A8B2D4C-1F3E-4A5B-9C7D-0E1F2A3B4C5D}/Options/UseSSL"),
               "1") == 0);
  CHECK_RESULT(omadm_agent_tree_get(agent, FLOW_ACCOUNT "/Password",
                                    strlen(FLOW_ACCOUNT "/Password"), OMADM_ROLE_MANAGER,
                                    (uint8_t *)buf, sizeof buf, &len),
               OMADM_RESULT_NOT_ALLOWED);
  CHECK(server_records_contain(&server, FLOW_ACCOUNT "/UserName\t200", 10));
  CHECK(server_records_contain(&server, "Results\t./DevInfo/Man\t\tContoso", 10));

  /* 3. A generic alert: stored, delivered in a client-initiated session, recorded once. */
  memset(&alert, 0, sizeof alert);
  alert.struct_size = sizeof alert;
  alert.alert_type = str_of("org.example.ffi.test");
  alert.format = str_of("int");
  alert.source = str_of(FLOW_ACCOUNT);
  alert.data = str_of("7");
  CHECK_OK(omadm_agent_add_generic_alert(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &alert,
                                         &alert_id));
  CHECK_OK(omadm_agent_process(agent));
  CHECK(s.ended == 2);
  CHECK(server_records_contain(&server, "org.example.ffi.test", 10));
  CHECK_OK(omadm_agent_request_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID)));
  CHECK_OK(omadm_agent_process(agent));
  CHECK(s.ended == 3);
  CHECK(server_records_contain(&server, "Results\t./DevInfo/Man", 10));
  CHECK(server_records_count(&server, "org.example.ffi.test") == 1);
  CHECK(s.log_lines > 0);

  print_peak_rss();
  omadm_agent_free(agent);
  CHECK(csp.finalized == 1);
  server_stop(&server);
  printf("test_session: ok\n");
  return 0;
}
