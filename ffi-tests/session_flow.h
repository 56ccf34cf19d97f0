/* The steps the session tests share: the reference server, the PDUs the "network" delivers
 * (a USERPIN bootstrap and a DM notification, built by `omadm push build`), and the agent's
 * configuration. */
#ifndef OMADM_TEST_SESSION_FLOW_H
#define OMADM_TEST_SESSION_FLOW_H

#include <stddef.h>

#include "omadm.h"
#include "support.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FLOW_DEV_ID "IMEI:356938035643809"
#define FLOW_SERVER_ID "omadm-reference"
#define FLOW_PIN "1234"
#define FLOW_PPG "+10000000000"
#define FLOW_SYNC_PREFIX "./Vendor/MSFT/ActiveSync"
#define FLOW_ACCOUNT FLOW_SYNC_PREFIX "/Accounts/{6A8B2D4C-1F3E-4A5B-9C7D-0E1F2A3B4C5D}"

/* Up to 16 PDUs read from DIR/1.bin, DIR/2.bin, ... */
typedef struct flow_pdus {
  unsigned char *pdu[16];
  size_t len[16];
  size_t count;
} flow_pdus;

/* Starts the server with the jobs file `jobs_name` (in ffi-tests/) and the device's account. */
void flow_start_server(test_server *server, const char *jobs_name);
/* The same with extra server arguments (NULL-terminated). */
void flow_start_server_with(test_server *server, const char *jobs_name, const char *const *extra);
/* `omadm push build --bearer gsm --bootstrap ...` for `server`'s URL. */
void flow_bootstrap_pdus(const test_server *server, flow_pdus *out);
/* `omadm push build --bearer gsm ...` notification with `session_id`. */
void flow_notification_pdus(const char *session_id, flow_pdus *out);
void flow_pdus_free(flow_pdus *p);
/* An agent configuration for the flow's device: state directory `state`, DevId FLOW_DEV_ID
 * (Contoso, "C test handset"), trusting only `server`'s certificate, SMS from FLOW_PPG.
 * The caller adds callbacks, opens and frees it. */
omadm_agent_config *flow_agent_config(const test_server *server, const char *state);
/* Feeds the bootstrap's SMS PDUs to `agent`, gives the PIN, and checks an account came. */
void flow_bootstrap(const omadm_agent *agent, const test_server *server);
/* The server's certificate (PEM, malloc'd). */
unsigned char *flow_server_cert(const test_server *server, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
