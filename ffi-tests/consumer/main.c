/* Opens an agent in a temporary directory (under $TMPDIR, or /tmp), registers a one-node CSP,
 * reads it back. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omadm.h>

static uint32_t get(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  omadm_str empty = {NULL, 0};
  (void)userdata;
  (void)p;
  return omadm_csp_out_set_value(out, (const uint8_t *)"hello", 5, empty, empty) == OMADM_RESULT_OK
             ? 200
             : 500;
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  omadm_agent_config *cfg = omadm_agent_config_new();
  omadm_agent *agent = NULL;
  omadm_device_info dev;
  omadm_csp_callbacks cb;
  char buf[16];
  size_t len = 0;
  if (tmp == NULL || tmp[0] == '\0') {
    tmp = "/tmp";
  }
  snprintf(dir, sizeof dir, "%s/omadm-consumer-XXXXXX", tmp);
  if (mkdtemp(dir) == NULL || cfg == NULL) return 1;
  memset(&dev, 0, sizeof dev);
  dev.struct_size = sizeof dev;
  dev.dev_id.data = "IMEI:000000000000001";
  dev.dev_id.len = strlen(dev.dev_id.data);
  memset(&cb, 0, sizeof cb);
  cb.struct_size = sizeof cb;
  cb.get = get;
  if (omadm_agent_config_set_state_dir(cfg, dir, strlen(dir)) != OMADM_RESULT_OK ||
      omadm_agent_config_set_device(cfg, &dev) != OMADM_RESULT_OK ||
      omadm_agent_open(cfg, &agent) != OMADM_RESULT_OK ||
      omadm_agent_register_csp(agent, "./Vendor/hello", 14, OMADM_ROLE_MANAGER, &cb, NULL, NULL) !=
          OMADM_RESULT_OK ||
      omadm_agent_tree_get(agent, "./Vendor/hello", 14, OMADM_ROLE_MANAGER, (uint8_t *)buf,
                           sizeof buf, &len) != OMADM_RESULT_OK) {
    fprintf(stderr, "consumer: an omadm call failed\n");
    return 1;
  }
  omadm_agent_free(agent);
  omadm_agent_config_free(cfg);
  printf("consumer (omadm %s): %.*s\n", omadm_version(), (int)len, buf);
  return len == 5 && memcmp(buf, "hello", 5) == 0 ? 0 : 1;
}
