/* Sessions over the host's own transport (omadm_session_*): the library decides what to send
 * and when; this program moves the bytes itself, with its own HTTP/1.1 over OpenSSL sockets
 * (as a platform would over the bearer its connection manager chose), to the reference
 * server. Also: a scripted connection failure waits the account's backoff and sends the same
 * message again; a TLS failure ends the session at once; calls out of order are refused; the
 * agent cannot be freed under an open session. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "omadm.h"
#include "session_flow.h"
#include "support.h"
#include "sync_csp.h"

typedef struct seen {
  unsigned ended, failed, queued;
  uint32_t outcome;
} seen;

static void on_event(void *userdata, const omadm_event *e) {
  seen *s = (seen *)userdata;
  if (e->kind == OMADM_EVENT_SESSION_ENDED) {
    s->ended++;
    s->outcome = e->outcome;
  } else if (e->kind == OMADM_EVENT_SESSION_FAILED) {
    s->failed++;
    s->outcome = e->outcome;
  } else if (e->kind == OMADM_EVENT_SESSION_QUEUED) {
    s->queued++;
  }
}

static uint64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_until(uint64_t when) {
  uint64_t now = now_ms();
  if (when > now) {
    struct timespec t;
    t.tv_sec = (time_t)((when - now) / 1000u);
    t.tv_nsec = (long)((when - now) % 1000u) * 1000000L;
    nanosleep(&t, NULL);
  }
}

/* A response as this program's HTTP client read it. */
typedef struct reply {
  unsigned status;
  char content_type[128];
  char hmac[256];
  unsigned char *body;
  size_t body_len;
} reply;

/* The header `name` of the header block `head` (NUL-terminated), copied into `out`. */
static void header_value(const char *head, const char *name, char *out, size_t out_len) {
  const char *line = strstr(head, "\r\n");
  size_t n = strlen(name);
  out[0] = '\0';
  while (line != NULL && line[2] != '\0') {
    line += 2;
    if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      const char *end = strstr(v, "\r\n");
      size_t len;
      while (*v == ' ') {
        v++;
      }
      len = end != NULL ? (size_t)(end - v) : strlen(v);
      if (len >= out_len) {
        len = out_len - 1;
      }
      memcpy(out, v, len);
      out[len] = '\0';
      return;
    }
    line = strstr(line, "\r\n");
  }
}

/* POSTs the step's request over TLS (trusting only `ca`) and reads the response.
 * Returns 0, or an OMADM_TRANSPORT_* kind. */
static uint32_t https_post(const omadm_session_step *st, X509 *ca, reply *r) {
  char host[64], path[256], head[1024];
  unsigned port = 0;
  const char *rest;
  int fd = -1;
  struct sockaddr_in addr;
  SSL_CTX *ctx = NULL;
  SSL *ssl = NULL;
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  uint32_t kind = 0;
  char *end;
  int n;

  memset(r, 0, sizeof *r);
  if (st->url.len < 8 || strncmp(st->url.data, "https://", 8) != 0) {
    return st->plain_http_allowed ? OMADM_TRANSPORT_BAD_URL : OMADM_TRANSPORT_PLAIN_HTTP_REFUSED;
  }
  rest = st->url.data + 8;
  if (sscanf(rest, "%63[^:/]:%u", host, &port) != 2) {
    return OMADM_TRANSPORT_BAD_URL;
  }
  rest = strchr(rest, '/');
  snprintf(path, sizeof path, "%s", rest != NULL ? rest : "/");

  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (fd < 0 || inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
      connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    kind = OMADM_TRANSPORT_CONNECT;
    goto done;
  }
  ctx = SSL_CTX_new(TLS_client_method());
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  ssl = SSL_new(ctx);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) {
    kind = OMADM_TRANSPORT_TLS;
    goto done;
  }
  n = snprintf(head, sizeof head,
               "POST %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: %.*s\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n",
               path, host, port, (int)st->content_type.len, st->content_type.data,
               st->body.len);
  if (st->hmac.len > 0) {
    n += snprintf(head + n, sizeof head - (size_t)n, "x-syncml-hmac: %.*s\r\n",
                  (int)st->hmac.len, st->hmac.data);
  }
  n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
  if (SSL_write(ssl, head, n) != n ||
      (st->body.len > 0 && SSL_write(ssl, st->body.data, (int)st->body.len) != (int)st->body.len)) {
    kind = OMADM_TRANSPORT_IO;
    goto done;
  }
  for (;;) {
    if (cap - len < 4096) {
      cap = cap * 2 + 8192;
      buf = (unsigned char *)realloc(buf, cap + 1);
      CHECK(buf != NULL);
    }
    n = SSL_read(ssl, buf + len, (int)(cap - len));
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
    if (len > st->max_response_bytes + sizeof head) {
      kind = OMADM_TRANSPORT_PROTOCOL;
      goto done;
    }
  }
  buf[len] = '\0';
  end = strstr((char *)buf, "\r\n\r\n");
  if (end == NULL || sscanf((char *)buf, "HTTP/1.%*c %u", &r->status) != 1) {
    kind = OMADM_TRANSPORT_PROTOCOL;
    goto done;
  }
  *end = '\0';
  header_value((char *)buf, "Content-Type", r->content_type, sizeof r->content_type);
  header_value((char *)buf, "x-syncml-hmac", r->hmac, sizeof r->hmac);
  {
    char length[32];
    size_t have = len - (size_t)(end + 4 - (char *)buf);
    header_value((char *)buf, "Content-Length", length, sizeof length);
    if (length[0] != '\0' && (size_t)strtoull(length, NULL, 10) != have) {
      kind = OMADM_TRANSPORT_IO; /* cut short */
      goto done;
    }
    r->body = (unsigned char *)malloc(have + 1);
    CHECK(r->body != NULL);
    memcpy(r->body, end + 4, have);
    r->body_len = have;
  }
done:
  if (ssl != NULL) {
    SSL_free(ssl);
  }
  if (ctx != NULL) {
    SSL_CTX_free(ctx);
  }
  if (fd >= 0) {
    close(fd);
  }
  free(buf);
  return kind;
}

static omadm_str str_of(const char *x) {
  omadm_str v;
  v.data = x;
  v.len = x != NULL ? strlen(x) : 0;
  return v;
}

/* Runs `session` to its end over https_post; `fail_first` is fed instead of the first
 * request's response (0: none). Returns the outcome; counts the WAIT steps. */
static uint32_t run(omadm_session *session, X509 *ca, uint32_t fail_first, unsigned *waits,
                    size_t *first_body_len) {
  unsigned sends = 0;
  for (;;) {
    omadm_session_step st = OMADM_SESSION_STEP_INIT;
    CHECK_OK(omadm_session_next(session, now_ms(), &st));
    CHECK(st.struct_size == sizeof st);
    if (st.action == OMADM_SESSION_DONE) {
      return st.outcome;
    }
    if (st.action == OMADM_SESSION_WAIT) {
      omadm_http_response early = OMADM_HTTP_RESPONSE_INIT;
      early.status = 200;
      /* Nothing is outstanding while waiting. */
      CHECK_RESULT(omadm_session_feed_response(session, now_ms(), &early),
                   OMADM_RESULT_OUT_OF_ORDER);
      (*waits)++;
      sleep_until(st.wake_at_ms);
      continue;
    }
    CHECK(st.action == OMADM_SESSION_SEND);
    CHECK(!st.plain_http_allowed);
    CHECK(st.max_response_bytes > 0);
    CHECK(st.content_type.len > 0 && st.content_type.data[st.content_type.len] == '\0');
    sends++;
    if (sends == 1) {
      omadm_session_step again = OMADM_SESSION_STEP_INIT;
      *first_body_len = st.body.len;
      CHECK(st.message_number == 1 && st.retry == 0);
      /* A request is outstanding: asking for the next step is out of order. */
      CHECK_RESULT(omadm_session_next(session, now_ms(), &again), OMADM_RESULT_OUT_OF_ORDER);
      if (fail_first != 0) {
        CHECK_OK(omadm_session_feed_failure(session, now_ms(), fail_first, "scripted", 8));
        continue;
      }
    } else if (sends == 2 && fail_first == OMADM_TRANSPORT_CONNECT) {
      /* The retry: the same message again. */
      CHECK(st.message_number == 1 && st.retry == 1);
      CHECK(st.body.len == *first_body_len);
    }
    {
      reply r;
      uint32_t kind = https_post(&st, ca, &r);
      if (kind != 0) {
        CHECK_OK(omadm_session_feed_failure(session, now_ms(), kind, "transport", 9));
      } else {
        omadm_http_response resp = OMADM_HTTP_RESPONSE_INIT;
        resp.status = r.status;
        resp.content_type = str_of(r.content_type);
        resp.hmac = str_of(r.hmac);
        resp.body.data = r.body;
        resp.body.len = r.body_len;
        CHECK_OK(omadm_session_feed_response(session, now_ms(), &resp));
        /* Fed once: a second response is out of order. */
        CHECK_RESULT(omadm_session_feed_response(session, now_ms(), &resp),
                     OMADM_RESULT_OUT_OF_ORDER);
      }
      free(r.body);
    }
  }
}

int main(void) {
  test_server server;
  char state[512];
  static sync_csp csp;
  static seen s;
  omadm_agent_config *cfg;
  omadm_agent *agent = NULL;
  omadm_session *session = NULL;
  omadm_csp_callbacks cb = sync_csp_callbacks();
  omadm_generic_alert alert = OMADM_GENERIC_ALERT_INIT;
  omadm_account *retry;
  unsigned char *pem;
  size_t pem_len = 0, first_len = 0;
  unsigned waits = 0;
  BIO *bio;
  X509 *ca;
  uint64_t before;

  flow_start_server(&server, "sync-account.jobs");
  make_temp_dir(state, sizeof state, "host-transport");
  pem = flow_server_cert(&server, &pem_len);
  CHECK(pem != NULL);
  bio = BIO_new_mem_buf(pem, (int)pem_len);
  ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  CHECK(ca != NULL);
  BIO_free(bio);
  free(pem);

  cfg = flow_agent_config(&server, state);
  CHECK_OK(omadm_agent_config_set_event_callback(cfg, on_event, &s, NULL));
  /* Every queued session is this program's to run. */
  CHECK_OK(omadm_agent_config_set_host_transport(cfg, true));
  CHECK_OK(omadm_agent_open(cfg, &agent));
  omadm_agent_config_free(cfg);
  sync_csp_init(&csp, FLOW_SYNC_PREFIX);
  CHECK_OK(omadm_agent_register_csp(agent, FLOW_SYNC_PREFIX, strlen(FLOW_SYNC_PREFIX),
                                    OMADM_ROLE_MANAGER | OMADM_ROLE_OPERATOR, &cb, &csp,
                                    sync_csp_finalize));
  flow_bootstrap(agent, &server);
  /* Short backoff: 2 retries, 100 ms doubling to 400 ms. */
  retry = omadm_account_new();
  CHECK_OK(omadm_account_set_retry(retry, 2, 100, 400, false));
  CHECK_OK(omadm_agent_update_account(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), retry));
  omadm_account_free(retry);

  CHECK_RESULT(omadm_session_open(agent, "nobody", 6, &session), OMADM_RESULT_NO_ACCOUNT);
  CHECK(session == NULL);

  /* A DM notification queues a session; with the host's transport, processing does not run
   * it (part 4 does). */
  {
    flow_pdus pdus;
    size_t i;
    flow_notification_pdus("0x45", &pdus);
    for (i = 0; i < pdus.count; i++) {
      CHECK_OK(omadm_agent_push_gsm_sms(agent, pdus.pdu[i], pdus.len[i]));
    }
    flow_pdus_free(&pdus);
    CHECK_OK(omadm_agent_process(agent));
    CHECK(s.queued == 1);
    CHECK(s.ended == 0 && s.failed == 0);
  }

  alert.alert_type = str_of("org.example.host.transport");
  alert.format = str_of("int");
  alert.source = str_of(FLOW_ACCOUNT);
  alert.data = str_of("5");
  CHECK_OK(omadm_agent_add_generic_alert(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &alert,
                                         NULL));

  /* 1. The first try cannot connect: the library says wait (about 100 ms), then sends the
   * same message again; the session then runs over this program's HTTPS to completion. */
  CHECK_OK(omadm_session_open(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &session));
  {
    omadm_session_step small;
    memset(&small, 0, sizeof small);
    small.struct_size = sizeof small - 1;
    CHECK_RESULT(omadm_session_next(session, now_ms(), &small), OMADM_RESULT_INVALID_ARGUMENT);
  }
  /* Not freeable while a session is open. */
  CHECK_RESULT(omadm_agent_free(agent), OMADM_RESULT_BUSY);
  before = now_ms();
  CHECK(run(session, ca, OMADM_TRANSPORT_CONNECT, &waits, &first_len) == OMADM_RESULT_OK);
  CHECK(waits >= 1);
  CHECK(now_ms() - before >= 100);
  CHECK(s.ended == 1 && s.outcome == OMADM_RESULT_OK);
  {
    /* Over: DONE again. */
    omadm_session_step st = OMADM_SESSION_STEP_INIT;
    CHECK_OK(omadm_session_next(session, now_ms(), &st));
    CHECK(st.action == OMADM_SESSION_DONE && st.outcome == OMADM_RESULT_OK);
  }
  CHECK_OK(omadm_session_free(session));
  CHECK(server_records_contain(&server, FLOW_ACCOUNT "/UserName\t200", 10));
  CHECK(server_records_count(&server, "org.example.host.transport") == 1);
  CHECK(sync_csp_value(&csp, "Accounts/{6A8B2D4C-1F3E-4A5B-9C7D-0E1F2A3B4C5D}/UserName") !=
        NULL);

  /* 2. The next session reuses the nonces stored by the first and completes. */
  session = NULL;
  waits = 0;
  CHECK_OK(omadm_session_open(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &session));
  CHECK(run(session, ca, 0, &waits, &first_len) == OMADM_RESULT_OK);
  CHECK(waits == 0);
  CHECK_OK(omadm_session_free(session));
  CHECK(s.ended == 2);

  /* 3. A TLS failure is never retried: DONE at once with TLS_FAILED, the event says so. */
  CHECK_OK(omadm_session_open(agent, FLOW_SERVER_ID, strlen(FLOW_SERVER_ID), &session));
  waits = 0;
  CHECK(run(session, ca, OMADM_TRANSPORT_TLS, &waits, &first_len) == OMADM_RESULT_TLS_FAILED);
  CHECK(waits == 0);
  CHECK(s.failed == 1 && s.outcome == OMADM_RESULT_TLS_FAILED);
  CHECK_RESULT(omadm_session_feed_failure(session, now_ms(), 99, NULL, 0),
               OMADM_RESULT_INVALID_ARGUMENT);
  CHECK_RESULT(omadm_session_feed_failure(session, now_ms(), OMADM_TRANSPORT_IO, NULL, 0),
               OMADM_RESULT_OUT_OF_ORDER);
  CHECK_OK(omadm_session_free(session));
  CHECK_OK(omadm_session_free(NULL));

  /* 4. Queued sessions are the host's: the DM notification and the generic alert queued one
   * each at the start, and processing ran neither; omadm_session_open_queued hands them out
   * oldest first, then NULL. */
  {
    unsigned taken = 0;
    uint32_t ended_before = s.ended;
    for (;;) {
      session = NULL;
      CHECK_OK(omadm_session_open_queued(agent, &session));
      if (session == NULL) {
        break;
      }
      waits = 0;
      CHECK(run(session, ca, 0, &waits, &first_len) == OMADM_RESULT_OK);
      CHECK_OK(omadm_session_free(session));
      taken++;
    }
    CHECK(taken == 2);
    CHECK(s.ended == ended_before + 2);
  }

  CHECK_OK(omadm_agent_free(agent));
  X509_free(ca);
  server_stop(&server);
  printf("test_host_transport: ok\n");
  return 0;
}
