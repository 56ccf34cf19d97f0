/* Helpers the C tests share: checks, temporary directories, the reference server as a child
 * process, running the omadm CLI, files. Only POSIX; nothing here links libomadm. */
#ifndef OMADM_TEST_SUPPORT_H
#define OMADM_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fails the test (exit 1) with the location when cond is false. */
#define CHECK(cond) check_true((cond), #cond, __FILE__, __LINE__)
/* Fails unless an omadm call returned OMADM_RESULT_OK, printing the result's text. */
#define CHECK_OK(call) check_result((unsigned)(call), 0u, #call, __FILE__, __LINE__)
/* Fails unless an omadm call returned `expected`. */
#define CHECK_RESULT(call, expected) \
  check_result((unsigned)(call), (unsigned)(expected), #call, __FILE__, __LINE__)

void check_true(int cond, const char *what, const char *file, int line);
void check_result(unsigned got, unsigned expected, const char *what, const char *file, int line);

/* A fresh directory under $TMPDIR (or /tmp), written to `out`; removed with its contents when
 * the test exits after passing, kept when a check failed. */
void make_temp_dir(char *out, size_t out_len, const char *tag);

/* The reference server (`omadm server`) running as a child process. */
typedef struct test_server {
  pid_t pid;
  char url[256];
  char state_dir[512];
  void *output; /* the read end of its standard output (FILE *) */
} test_server;

/* Starts `omadm server` with a state directory, jobs file and one device account
 * (DEVID=NAME:PASSWORD); waits for its URL. Returns 0 on success. */
int server_start(test_server *s, const char *jobs_file, const char *device_account);
/* The same with extra arguments (NULL-terminated list, may be NULL). */
int server_start_with(test_server *s, const char *jobs_file, const char *device_account,
                      const char *const *extra);
/* Stops it (SIGTERM, then waits). */
void server_stop(test_server *s);
/* Waits (up to `seconds`) until the server's records.tsv contains `needle`; returns 1 if so. */
int server_records_contain(const test_server *s, const char *needle, int seconds);
/* Counts the lines of records.tsv containing `needle`. */
int server_records_count(const test_server *s, const char *needle);

/* Runs the omadm CLI with `argv` (NULL-terminated, without the program); returns its exit
 * status, or -1 when it could not run. Its standard output is discarded. */
int run_omadm(const char *const *argv);

/* Reads a whole file (malloc'd, caller frees); NULL when missing. */
unsigned char *read_file(const char *path, size_t *len);

/* The path of the omadm CLI (compile-time OMADM_CLI, or $OMADM_CLI). */
const char *omadm_cli(void);

#ifdef __cplusplus
}
#endif

#endif
