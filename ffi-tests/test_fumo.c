/* A firmware update driven from C: the reference server (with --firmware) notifies the
 * device and Execs DownloadAndUpdate; omadm downloads the package (the server cuts the first
 * transfer; omadm resumes with Range) and calls the C install callback, which "reboots"; the
 * agent is freed and opened again on the same state directory, the C install_result callback
 * reports 200, and the server records the generic alert 1226 with that result, once. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omadm.h"
#include "session_flow.h"
#include "support.h"

typedef struct platform {
  char firmware_file[600];
  unsigned installs;
  unsigned results_asked;
  unsigned progress_calls;
  unsigned finalized;
  int rebooted;
  int image_matches;
  uint32_t fumo_results;
  uint32_t last_state;
} platform;

static int same_file(const char *a, const char *b) {
  size_t la = 0, lb = 0;
  unsigned char *x = read_file(a, &la);
  unsigned char *y = read_file(b, &lb);
  int same = x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0;
  free(x);
  free(y);
  return same;
}

static uint32_t install(void *userdata, const omadm_firmware_package *pkg, omadm_str image) {
  platform *p = (platform *)userdata;
  p->installs++;
  CHECK(strcmp(pkg->version.data, "3.1") == 0);
  CHECK(strstr(pkg->url.data, "/fw/") != NULL);
  p->image_matches = same_file(image.data, p->firmware_file);
  return OMADM_FIRMWARE_PENDING; /* the device reboots to install */
}

static uint32_t install_result(void *userdata, const omadm_firmware_package *pkg) {
  platform *p = (platform *)userdata;
  (void)pkg;
  p->results_asked++;
  return p->rebooted ? 200 : OMADM_FIRMWARE_PENDING;
}

static void progress(void *userdata, const omadm_firmware_package *pkg, uint64_t done,
                     uint64_t total) {
  platform *p = (platform *)userdata;
  (void)pkg;
  CHECK(total == 0 || done <= total);
  p->progress_calls++;
}

static void finalize(void *userdata) { ((platform *)userdata)->finalized++; }

static void on_event(void *userdata, const omadm_event *e) {
  platform *p = (platform *)userdata;
  if (e->kind == OMADM_EVENT_FIRMWARE) {
    p->last_state = e->fumo_state;
    if (e->fumo_result != 0) {
      p->fumo_results++;
      CHECK(e->fumo_result == 200);
    }
  }
}


static omadm_agent *open_agent(const test_server *server, const char *state, platform *p) {
  omadm_agent_config *cfg = flow_agent_config(server, state);
  omadm_agent *agent = NULL;
  omadm_firmware_callbacks fw;
  unsigned finalized_before = p->finalized;
  memset(&fw, 0, sizeof fw);
  fw.struct_size = sizeof fw;
  CHECK_RESULT(omadm_agent_config_set_firmware(cfg, &fw, p, finalize), OMADM_RESULT_NULL_PARAMETER);
  fw.install = install;
  fw.install_result = install_result;
  fw.progress = progress;
  CHECK_OK(omadm_agent_config_set_event_callback(cfg, on_event, p, NULL));
  CHECK_RESULT(omadm_agent_config_set_fumo_root(cfg, "FwUpdate", 8), OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_OK(omadm_agent_config_set_fumo_root(cfg, "./FwUpdate", 10));
  CHECK_OK(omadm_agent_config_set_firmware(cfg, &fw, p, finalize));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);
  CHECK(p->finalized == finalized_before); /* the agent still shares the callbacks */
  return agent;
}

int main(void) {
  static platform p;
  test_server server;
  char state[512];
  char dir[512];
  omadm_agent *agent;
  flow_pdus pdus;
  size_t i;
  FILE *f;
  const char *extra[] = {"--firmware", p.firmware_file, "--firmware-version", "3.1",
                         "--firmware-cut-after", "70000", NULL};

  /* The package: 200 KB of varied bytes. */
  make_temp_dir(dir, sizeof dir, "fw");
  snprintf(p.firmware_file, sizeof p.firmware_file, "%s/contoso-3.1.bin", dir);
  f = fopen(p.firmware_file, "wb");
  CHECK(f != NULL);
  for (i = 0; i < 200000; i++) {
    fputc((int)((i * 2654435761u) >> 13) & 0xff, f);
  }
  fclose(f);

  flow_start_server_with(&server, "empty.jobs", extra);
  make_temp_dir(state, sizeof state, "fumo-agent");
  agent = open_agent(&server, state, &p);

  /* Bootstrap, then the notification: the session accepts the Exec, the download resumes
   * after the cut, the install callback runs and the device "reboots". */
  flow_bootstrap(agent, &server);
  flow_notification_pdus("0x61", &pdus);
  for (i = 0; i < pdus.count; i++) {
    CHECK_OK(omadm_agent_push_gsm_sms(agent, pdus.pdu[i], pdus.len[i]));
  }
  flow_pdus_free(&pdus);
  CHECK_OK(omadm_agent_process(agent));
  CHECK(p.installs == 1);
  CHECK(p.image_matches);
  CHECK(p.progress_calls > 0);
  CHECK(p.last_state == 60);
  CHECK(p.fumo_results == 0);
  CHECK(server_records_count(&server, "firmwareupdate") == 0);

  /* Reboot: the agent goes away and comes back on the same state directory. */
  omadm_agent_free(agent);
  CHECK(p.finalized == 1);
  p.rebooted = 1;
  agent = open_agent(&server, state, &p);
  CHECK_OK(omadm_agent_process(agent));
  CHECK(p.results_asked >= 1);
  CHECK(p.fumo_results == 1);
  CHECK(p.installs == 1);
  CHECK(server_records_contain(&server, "firmwareupdate.downloadandupdate correlator=fw-", 10));
  CHECK(server_records_contain(&server, "\t1226\t200", 10));
  /* Never twice: another session sends nothing more. */
  CHECK_OK(omadm_agent_request_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID)));
  CHECK_OK(omadm_agent_process(agent));
  CHECK(server_records_count(&server, "firmwareupdate") == 1);
  omadm_agent_free(agent);
  CHECK(p.finalized == 2);
  server_stop(&server);
  printf("test_fumo: ok\n");
  return 0;
}
