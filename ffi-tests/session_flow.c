/* See session_flow.h. */
#define _POSIX_C_SOURCE 200809L
#include "session_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OMADM_TEST_DIR
#define OMADM_TEST_DIR "."
#endif

void flow_start_server(test_server *server, const char *jobs_name) {
  flow_start_server_with(server, jobs_name, NULL);
}

void flow_start_server_with(test_server *server, const char *jobs_name, const char *const *extra) {
  char jobs[600];
  snprintf(jobs, sizeof jobs, "%s/%s", OMADM_TEST_DIR, jobs_name);
  CHECK(server_start_with(server, jobs, FLOW_DEV_ID "=dev:dev-secret", extra) == 0);
}

static void read_pdus(const char *dir, flow_pdus *out) {
  memset(out, 0, sizeof *out);
  for (out->count = 0; out->count < 16; out->count++) {
    char path[600];
    snprintf(path, sizeof path, "%s/%zu.bin", dir, out->count + 1);
    out->pdu[out->count] = read_file(path, &out->len[out->count]);
    if (out->pdu[out->count] == NULL) {
      break;
    }
  }
  CHECK(out->count > 0);
}

void flow_bootstrap_pdus(const test_server *server, flow_pdus *out) {
  char dir[512];
  const char *argv[] = {"push", "build", "--bearer", "gsm", "--bootstrap", "--server-id",
                        FLOW_SERVER_ID, "--password", "srv-secret", "--url", server->url,
                        "--pin", FLOW_PIN, "--device-name", "dev", "--device-password",
                        "dev-secret", "--originator", FLOW_PPG, "--out", dir, NULL};
  make_temp_dir(dir, sizeof dir, "bootstrap");
  CHECK(run_omadm(argv) == 0);
  read_pdus(dir, out);
}

void flow_notification_pdus(const char *session_id, flow_pdus *out) {
  char dir[512];
  const char *argv[] = {"push", "build", "--bearer", "gsm", "--server-id", FLOW_SERVER_ID,
                        "--password", "srv-secret", "--session-id", session_id,
                        "--originator", FLOW_PPG, "--out", dir, NULL};
  make_temp_dir(dir, sizeof dir, "notification");
  CHECK(run_omadm(argv) == 0);
  read_pdus(dir, out);
}

void flow_pdus_free(flow_pdus *p) {
  size_t i;
  for (i = 0; i < p->count; i++) {
    free(p->pdu[i]);
  }
  p->count = 0;
}

unsigned char *flow_server_cert(const test_server *server, size_t *len) {
  char path[600];
  snprintf(path, sizeof path, "%s/cert.pem", server->state_dir);
  return read_file(path, len);
}

omadm_agent_config *flow_agent_config(const test_server *server, const char *state) {
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_device_info dev;
  unsigned char *cert;
  size_t cert_len = 0;
  CHECK(cfg != NULL);
  memset(&dev, 0, sizeof dev);
  dev.struct_size = sizeof dev;
  dev.dev_id.data = FLOW_DEV_ID;
  dev.dev_id.len = strlen(FLOW_DEV_ID);
  dev.manufacturer.data = "Contoso";
  dev.manufacturer.len = strlen("Contoso");
  dev.model.data = "C test handset";
  dev.model.len = strlen("C test handset");
  CHECK_OK(omadm_agent_config_set_state_dir(cfg, state, strlen(state)));
  CHECK_OK(omadm_agent_config_set_device(cfg, &dev));
  cert = flow_server_cert(server, &cert_len);
  CHECK(cert != NULL);
  CHECK_OK(omadm_agent_config_add_trust_anchor_pem(cfg, cert, cert_len));
  free(cert);
  CHECK_OK(omadm_agent_config_set_system_trust_store(cfg, false));
  CHECK_OK(omadm_agent_config_add_ppg(cfg, FLOW_PPG, strlen(FLOW_PPG), false));
  return cfg;
}

void flow_bootstrap(const omadm_agent *agent, const test_server *server) {
  flow_pdus pdus;
  size_t i;
  uint32_t id;
  flow_bootstrap_pdus(server, &pdus);
  for (i = 0; i < pdus.count; i++) {
    CHECK_OK(omadm_agent_push_gsm_sms(agent, pdus.pdu[i], pdus.len[i]));
  }
  flow_pdus_free(&pdus);
  CHECK_OK(omadm_agent_process(agent));
  /* The document waits for the PIN under the first request id. */
  for (id = 1; id < 16; id++) {
    if (omadm_agent_provide_pin(agent, id, FLOW_PIN, strlen(FLOW_PIN)) == OMADM_RESULT_OK) {
      break;
    }
  }
  CHECK(id < 16);
  CHECK_OK(omadm_agent_process(agent));
}
