/* See support.h. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: nftw */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "omadm.h"

extern char **environ;

/* The servers still running: a failing check stops them before the test exits, so that a
 * failure is reported at once instead of as a CTest time-out (a live child keeps the test's
 * output pipe open). */
#define MAX_SERVERS 8
static pid_t running_servers[MAX_SERVERS];

static void track_server(pid_t pid) {
  int i;
  for (i = 0; i < MAX_SERVERS; i++) {
    if (running_servers[i] == 0) {
      running_servers[i] = pid;
      return;
    }
  }
}

static void untrack_server(pid_t pid) {
  int i;
  for (i = 0; i < MAX_SERVERS; i++) {
    if (running_servers[i] == pid) {
      running_servers[i] = 0;
    }
  }
}

/* The temporary directories this test made: removed when it exits after passing, kept (and
 * named on stderr) when a check failed, for whoever looks into the failure. */
#define MAX_TEMP_DIRS 16
static char temp_dirs[MAX_TEMP_DIRS][512];
static int temp_dir_count;
static int test_failed;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  remove(path);
  return 0;
}

static void remove_temp_dirs(void) {
  int i;
  for (i = 0; i < temp_dir_count; i++) {
    if (test_failed) {
      fprintf(stderr, "kept %s\n", temp_dirs[i]);
    } else {
      nftw(temp_dirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
  }
}

static void fail_test(void) {
  int i;
  test_failed = 1;
  for (i = 0; i < MAX_SERVERS; i++) {
    if (running_servers[i] > 0) {
      kill(running_servers[i], SIGKILL);
      waitpid(running_servers[i], NULL, 0);
    }
  }
  exit(1);
}

void check_true(int cond, const char *what, const char *file, int line) {
  if (!cond) {
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    fail_test();
  }
}

void check_result(unsigned got, unsigned expected, const char *what, const char *file,
                  int line) {
  if (got != expected) {
    fprintf(stderr, "%s:%d: %s gave %u (%s), expected %u (%s)\n", file, line, what, got,
            omadm_result_str(got), expected, omadm_result_str(expected));
    fail_test();
  }
}

const char *omadm_cli(void) {
  const char *env = getenv("OMADM_CLI");
  if (env != NULL && env[0] != '\0') {
    return env;
  }
#ifdef OMADM_CLI
  return OMADM_CLI;
#else
  return "omadm";
#endif
}

void make_temp_dir(char *out, size_t out_len, const char *tag) {
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0') {
    base = "/tmp";
  }
  snprintf(out, out_len, "%s/omadm-ffi-%s-XXXXXX", base, tag);
  CHECK(mkdtemp(out) != NULL);
  CHECK(temp_dir_count < MAX_TEMP_DIRS && strlen(out) < sizeof temp_dirs[0]);
  if (temp_dir_count == 0) {
    CHECK(atexit(remove_temp_dirs) == 0);
  }
  strcpy(temp_dirs[temp_dir_count++], out);
}

static void sleep_ms(long ms) {
  struct timespec t;
  t.tv_sec = ms / 1000;
  t.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&t, NULL);
}

int server_start(test_server *s, const char *jobs_file, const char *device_account) {
  return server_start_with(s, jobs_file, device_account, NULL);
}

int server_start_with(test_server *s, const char *jobs_file, const char *device_account,
                      const char *const *extra) {
  int fds[2];
  posix_spawn_file_actions_t actions;
  FILE *out;
  char line[512];
  const char *argv[32];
  int n = 0;

  memset(s, 0, sizeof *s);
  make_temp_dir(s->state_dir, sizeof s->state_dir, "server");
  if (pipe(fds) != 0) {
    return -1;
  }
  argv[n++] = omadm_cli();
  argv[n++] = "server";
  argv[n++] = "--listen";
  argv[n++] = "127.0.0.1:0";
  argv[n++] = "--state";
  argv[n++] = s->state_dir;
  argv[n++] = "--jobs";
  argv[n++] = jobs_file;
  argv[n++] = "--server-password";
  argv[n++] = "srv-secret";
  argv[n++] = "--device";
  argv[n++] = device_account;
  while (extra != NULL && *extra != NULL && n < 31) {
    argv[n++] = *extra++;
  }
  argv[n] = NULL;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  if (posix_spawn(&s->pid, argv[0], &actions, NULL, (char *const *)argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  track_server(s->pid);
  close(fds[1]);
  out = fdopen(fds[0], "r");
  if (out == NULL) {
    return -1;
  }
  while (fgets(line, sizeof line, out) != NULL) {
    const char *at = strstr(line, "listening on ");
    if (at != NULL) {
      size_t len;
      snprintf(s->url, sizeof s->url, "%s", at + strlen("listening on "));
      len = strlen(s->url);
      while (len > 0 && (s->url[len - 1] == '\n' || s->url[len - 1] == '\r')) {
        s->url[--len] = '\0';
      }
      break;
    }
  }
  /* The server writes a line per session; the pipe stays open (unread) until server_stop. */
  s->output = out;
  return s->url[0] != '\0' ? 0 : -1;
}

void server_stop(test_server *s) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    untrack_server(s->pid);
    s->pid = 0;
  }
  if (s->output != NULL) {
    fclose((FILE *)s->output);
    s->output = NULL;
  }
}

static char *records(const test_server *s) {
  char path[600];
  size_t len;
  unsigned char *data;
  char *text;
  snprintf(path, sizeof path, "%s/records.tsv", s->state_dir);
  data = read_file(path, &len);
  if (data == NULL) {
    return NULL;
  }
  text = (char *)realloc(data, len + 1);
  if (text == NULL) {
    free(data);
    return NULL;
  }
  text[len] = '\0';
  return text;
}

int server_records_contain(const test_server *s, const char *needle, int seconds) {
  int i;
  for (i = 0; i < seconds * 10; i++) {
    char *text = records(s);
    int found = text != NULL && strstr(text, needle) != NULL;
    free(text);
    if (found) {
      return 1;
    }
    sleep_ms(100);
  }
  return 0;
}

int server_records_count(const test_server *s, const char *needle) {
  char *text = records(s);
  char *line;
  char *save = NULL;
  int count = 0;
  if (text == NULL) {
    return 0;
  }
  for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (strstr(line, needle) != NULL) {
      count++;
    }
  }
  free(text);
  return count;
}

int run_omadm(const char *const *argv) {
  const char *full[40];
  int n = 0;
  int status = 0;
  pid_t pid;
  posix_spawn_file_actions_t actions;
  full[n++] = omadm_cli();
  while (argv[n - 1] != NULL && n < 39) {
    full[n] = argv[n - 1];
    n++;
  }
  full[n] = NULL;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid, full[0], &actions, NULL, (char *const *)full, environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t cap = 0;
  size_t used = 0;
  if (f == NULL) {
    return NULL;
  }
  for (;;) {
    size_t got;
    if (used == cap) {
      unsigned char *bigger;
      cap = cap == 0 ? 4096 : cap * 2;
      bigger = (unsigned char *)realloc(buf, cap);
      if (bigger == NULL) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = bigger;
    }
    got = fread(buf + used, 1, cap - used, f);
    used += got;
    if (got == 0) {
      break;
    }
  }
  fclose(f);
  *len = used;
  return buf;
}
