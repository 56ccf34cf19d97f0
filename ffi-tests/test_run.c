/* The blocking run loop on a thread the host owns: input handed over from other threads is
 * handled there (events arrive on that thread), a slow CSP callback holds up only the caller
 * that waits for it, queueing functions never wait for it, and stop ends the loop. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omadm.h"
#include "support.h"

typedef struct shared {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  unsigned failed_sessions;
  uint32_t outcome;
  char reason[128];
  pthread_t event_thread;
} shared;

static shared s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}, 0};

static void on_event(void *userdata, const omadm_event *e) {
  (void)userdata;
  pthread_mutex_lock(&s.lock);
  if (e->kind == OMADM_EVENT_SESSION_FAILED) {
    s.failed_sessions++;
    snprintf(s.reason, sizeof s.reason, "%s", e->reason.data);
    s.outcome = e->outcome;
    s.event_thread = pthread_self();
  }
  pthread_cond_broadcast(&s.changed);
  pthread_mutex_unlock(&s.lock);
}

static void wait_failed(unsigned n) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 30;
  pthread_mutex_lock(&s.lock);
  while (s.failed_sessions < n) {
    CHECK(pthread_cond_timedwait(&s.changed, &s.lock, &deadline) == 0);
  }
  pthread_mutex_unlock(&s.lock);
}

typedef struct slow_csp {
  const omadm_agent *agent;
  omadm_result queued_inside;
} slow_csp;

/* Sleeps 200 ms, and meanwhile shows that the queueing functions work from a callback. */
static uint32_t slow_get(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  slow_csp *c = (slow_csp *)userdata;
  struct timespec t = {0, 200 * 1000000L};
  omadm_str empty = {NULL, 0};
  (void)p;
  nanosleep(&t, NULL);
  c->queued_inside = omadm_agent_request_session(c->agent, "nobody-else", 11);
  return omadm_csp_out_set_value(out, (const uint8_t *)"slow", 4, empty, empty) == OMADM_RESULT_OK
             ? 200
             : 500;
}

static void *run(void *agent) {
  CHECK_OK(omadm_agent_run((const omadm_agent *)agent));
  return NULL;
}

static omadm_str str_of(const char *x) {
  omadm_str v;
  v.data = x;
  v.len = strlen(x);
  return v;
}

int main(void) {
  char dir[512];
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_agent *agent = NULL;
  omadm_device_info dev;
  omadm_csp_callbacks cb;
  static slow_csp slow;
  pthread_t loop;
  char buf[16];
  size_t len = 0;

  make_temp_dir(dir, sizeof dir, "run");
  memset(&dev, 0, sizeof dev);
  dev.struct_size = sizeof dev;
  dev.dev_id = str_of("IMEI:356938035643809");
  CHECK_OK(omadm_agent_config_set_state_dir(cfg, dir, strlen(dir)));
  CHECK_OK(omadm_agent_config_set_device(cfg, &dev));
  CHECK_OK(omadm_agent_config_set_event_callback(cfg, on_event, NULL, NULL));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);

  memset(&cb, 0, sizeof cb);
  cb.struct_size = sizeof cb;
  cb.get = slow_get;
  slow.agent = agent;
  CHECK_OK(omadm_agent_register_csp(agent, "./Vendor/slow", 13, OMADM_ROLE_MANAGER, &cb, &slow,
                                    NULL));

  CHECK(pthread_create(&loop, NULL, run, agent) == 0);
  /* A session with a server that has no account: handled on the loop's thread. */
  CHECK_OK(omadm_agent_request_session(agent, "nobody", 6));
  wait_failed(1);
  CHECK(pthread_equal(s.event_thread, loop));
  CHECK(s.outcome == OMADM_RESULT_NO_ACCOUNT);
  CHECK(strstr(s.reason, "no DM account") != NULL);

  /* A slow callback on this thread: the loop keeps its own input; the callback's queued
   * request runs on the loop afterwards. */
  CHECK_OK(omadm_agent_tree_get(agent, "./Vendor/slow", 13, OMADM_ROLE_MANAGER, (uint8_t *)buf,
                                sizeof buf, &len));
  CHECK(len == 4 && memcmp(buf, "slow", 4) == 0);
  CHECK(slow.queued_inside == OMADM_RESULT_OK);
  wait_failed(2);

  CHECK_OK(omadm_agent_stop(agent));
  CHECK(pthread_join(loop, NULL) == 0);
  /* After the loop: the agent still works through explicit calls. (The slow get may have
   * been called more than once per Get, each queueing a request.) */
  {
    unsigned before;
    CHECK_OK(omadm_agent_process(agent));
    before = s.failed_sessions;
    CHECK_OK(omadm_agent_request_session(agent, "nobody", 6));
    CHECK_OK(omadm_agent_process(agent));
    CHECK(s.failed_sessions == before + 1);
  }
  omadm_agent_free(agent);
  printf("test_run: ok\n");
  return 0;
}
