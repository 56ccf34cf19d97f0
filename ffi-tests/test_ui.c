/* User interaction through the C ABI: the reference server sends a confirm, a single choice
 * and a second confirm; the UI callback answers the first later from another thread, the
 * choice at once from inside the callback, and the last "no". The server records 200, 200
 * and 304. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omadm.h"
#include "session_flow.h"
#include "support.h"

typedef struct ui_state {
  const omadm_agent *agent;
  unsigned asked;
  uint32_t kinds[8];
  size_t choices;
  pthread_t later;
  int later_started;
  uint64_t later_id;
  unsigned completed;
} ui_state;

static void *answer_later(void *arg) {
  ui_state *s = (ui_state *)arg;
  struct timespec t = {0, 50 * 1000000L};
  omadm_ui_answer a;
  nanosleep(&t, NULL);
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a;
  a.kind = OMADM_UI_ANSWER_ACCEPTED;
  CHECK_OK(omadm_agent_ui_answer(s->agent, s->later_id, &a));
  /* Answered once: a second answer is refused. */
  CHECK_RESULT(omadm_agent_ui_answer(s->agent, s->later_id, &a), OMADM_RESULT_UNKNOWN_ID);
  return NULL;
}

static void on_ui(void *userdata, const omadm_ui_request *r) {
  ui_state *s = (ui_state *)userdata;
  omadm_ui_answer a;
  memset(&a, 0, sizeof a);
  a.struct_size = sizeof a;
  CHECK(s->asked < 8);
  s->kinds[s->asked++] = r->kind;
  CHECK(strcmp(r->server.data, FLOW_SERVER_ID) == 0 || r->server.len > 0);
  if (s->asked == 1) {
    CHECK(r->kind == OMADM_UI_CONFIRM);
    CHECK(strcmp(r->text.data, "Install the mail profile?") == 0);
    CHECK(r->min_display_secs == 1);
    s->later_id = r->id;
    CHECK(pthread_create(&s->later, NULL, answer_later, s) == 0);
    s->later_started = 1;
  } else if (s->asked == 2) {
    uint32_t pick[1] = {2};
    uint32_t out_of_range[1] = {3};
    CHECK(r->kind == OMADM_UI_SINGLE_CHOICE);
    CHECK(r->choices_len == 2);
    CHECK(strcmp(r->choices[1].data, "Hourly") == 0);
    CHECK(strcmp(r->default_response.data, "1") == 0);
    a.kind = OMADM_UI_ANSWER_SELECTED;
    a.selected = out_of_range;
    a.selected_len = 1;
    CHECK_RESULT(omadm_agent_ui_answer(s->agent, r->id, &a), OMADM_RESULT_INVALID_ARGUMENT);
    a.selected = pick;
    CHECK_OK(omadm_agent_ui_answer(s->agent, r->id, &a));
  } else {
    CHECK(r->kind == OMADM_UI_CONFIRM);
    a.kind = OMADM_UI_ANSWER_REJECTED;
    CHECK_OK(omadm_agent_ui_answer(s->agent, r->id, &a));
  }
}

static void on_event(void *userdata, const omadm_event *e) {
  ui_state *s = (ui_state *)userdata;
  if (e->kind == OMADM_EVENT_SESSION_ENDED && e->end_reason == OMADM_END_COMPLETED) {
    s->completed++;
  }
}


int main(void) {
  test_server server;
  char state[512];
  static ui_state s;
  omadm_agent_config *cfg;
  omadm_agent *agent = NULL;

  flow_start_server(&server, "ui.jobs");
  make_temp_dir(state, sizeof state, "ui-agent");
  cfg = flow_agent_config(&server, state);
  CHECK_OK(omadm_agent_config_set_ui_callback(cfg, on_ui, &s, NULL));
  CHECK_OK(omadm_agent_config_set_event_callback(cfg, on_event, &s, NULL));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);
  s.agent = agent;

  /* The account by bootstrap, then a client-initiated session. */
  flow_bootstrap(agent, &server);
  CHECK_OK(omadm_agent_request_session(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID)));
  CHECK_OK(omadm_agent_process(agent));
  if (s.later_started) {
    pthread_join(s.later, NULL);
  }
  CHECK(s.asked == 3);
  CHECK(s.completed == 1);
  CHECK(server_records_contain(&server, "\tStatus\tAlert", 10));
  CHECK(server_records_count(&server, "\t304") == 1);
  CHECK(server_records_count(&server, "\tStatus\tAlert") == 3);
  omadm_agent_free(agent);
  server_stop(&server);
  printf("test_ui: ok\n");
  return 0;
}
