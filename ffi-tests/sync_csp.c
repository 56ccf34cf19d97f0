/* See sync_csp.h. */
#include "sync_csp.h"

#include <stdio.h>
#include <string.h>

static const char *relative_path(const sync_csp *csp, const omadm_csp_params *p) {
  size_t n = strlen(csp->prefix);
  if (p->path.len < n || strncmp(p->path.data, csp->prefix, n) != 0) {
    return NULL;
  }
  if (p->path.data[n] == '\0') {
    return "";
  }
  return p->path.data[n] == '/' ? p->path.data + n + 1 : NULL;
}

static sync_node *find(sync_csp *csp, const char *rel) {
  size_t i;
  for (i = 0; i < csp->count; i++) {
    if (strcmp(csp->nodes[i].path, rel) == 0) {
      return &csp->nodes[i];
    }
  }
  return NULL;
}

static int ends_with(const char *s, const char *tail) {
  size_t a = strlen(s);
  size_t b = strlen(tail);
  return b > 0 && a >= b && strcmp(s + a - b, tail) == 0 && (a == b || s[a - b - 1] == '/');
}

static void maybe_unregister(sync_csp *csp) {
  if (csp->unregister_from_inside != NULL) {
    const omadm_agent *agent = csp->unregister_from_inside;
    csp->unregister_from_inside = NULL;
    omadm_agent_unregister_csp(agent, csp->prefix, strlen(csp->prefix));
  }
}

void sync_csp_init(sync_csp *csp, const char *prefix) {
  memset(csp, 0, sizeof *csp);
  snprintf(csp->prefix, sizeof csp->prefix, "%s", prefix);
  csp->nodes[0].interior = 1;
  csp->count = 1;
}

static uint32_t get(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  sync_csp *csp = (sync_csp *)userdata;
  const char *rel = relative_path(csp, p);
  sync_node *node;
  omadm_str empty = {NULL, 0};
  csp->calls++;
  node = rel != NULL ? find(csp, rel) : NULL;
  if (node == NULL) {
    return 404;
  }
  if (node->interior) {
    return omadm_csp_out_set_interior(out, empty) == OMADM_RESULT_OK ? 200 : 500;
  }
  if (ends_with(node->path, "Password")) {
    omadm_csp_out_set_secret(out);
  }
  return omadm_csp_out_set_value(out, node->value, node->value_len, empty, empty) ==
                 OMADM_RESULT_OK
             ? 200
             : 500;
}

static uint32_t child_names(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  sync_csp *csp = (sync_csp *)userdata;
  const char *rel = relative_path(csp, p);
  size_t rel_len;
  size_t i;
  csp->calls++;
  if (rel == NULL || find(csp, rel) == NULL) {
    return 404;
  }
  rel_len = strlen(rel);
  for (i = 0; i < csp->count; i++) {
    const char *path = csp->nodes[i].path;
    const char *name;
    if (rel_len == 0) {
      name = path;
    } else if (strncmp(path, rel, rel_len) == 0 && path[rel_len] == '/') {
      name = path + rel_len + 1;
    } else {
      continue;
    }
    if (name[0] != '\0' && strchr(name, '/') == NULL) {
      omadm_csp_out_add_child(out, name, strlen(name));
    }
  }
  return 200;
}

static uint32_t add(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  sync_csp *csp = (sync_csp *)userdata;
  const char *rel = relative_path(csp, p);
  sync_node *node;
  (void)out;
  csp->calls++;
  maybe_unregister(csp);
  if (rel == NULL || rel[0] == '\0') {
    return 405;
  }
  if (csp->fail_name[0] != '\0' && ends_with(rel, csp->fail_name)) {
    return csp->fail_code;
  }
  if (find(csp, rel) != NULL) {
    return 418;
  }
  if (csp->count == SYNC_CSP_MAX_NODES || strlen(rel) >= sizeof node->path ||
      p->data.len > sizeof node->value) {
    return 420;
  }
  node = &csp->nodes[csp->count++];
  snprintf(node->path, sizeof node->path, "%s", rel);
  node->interior = p->interior;
  node->value_len = p->data.len;
  if (p->data.len > 0) {
    memcpy(node->value, p->data.data, p->data.len);
  }
  return 200;
}

static uint32_t replace(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  sync_csp *csp = (sync_csp *)userdata;
  const char *rel = relative_path(csp, p);
  sync_node *node;
  (void)out;
  csp->calls++;
  if (rel != NULL && csp->fail_name[0] != '\0' && ends_with(rel, csp->fail_name)) {
    return csp->fail_code;
  }
  node = rel != NULL ? find(csp, rel) : NULL;
  if (node == NULL) {
    return 404;
  }
  if (node->interior) {
    return 405;
  }
  if (p->data.len > sizeof node->value) {
    return 420;
  }
  node->value_len = p->data.len;
  if (p->data.len > 0) {
    memcpy(node->value, p->data.data, p->data.len);
  }
  return 200;
}

static uint32_t delete_node(void *userdata, const omadm_csp_params *p, omadm_csp_out *out) {
  sync_csp *csp = (sync_csp *)userdata;
  const char *rel = relative_path(csp, p);
  size_t rel_len;
  size_t i = 0;
  (void)out;
  csp->calls++;
  if (rel == NULL || rel[0] == '\0' || find(csp, rel) == NULL) {
    return rel != NULL && rel[0] == '\0' ? 405 : 404;
  }
  rel_len = strlen(rel);
  while (i < csp->count) {
    const char *path = csp->nodes[i].path;
    if (strcmp(path, rel) == 0 || (strncmp(path, rel, rel_len) == 0 && path[rel_len] == '/')) {
      csp->nodes[i] = csp->nodes[--csp->count];
    } else {
      i++;
    }
  }
  return 200;
}

omadm_csp_callbacks sync_csp_callbacks(void) {
  omadm_csp_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.struct_size = sizeof cb;
  cb.get = get;
  cb.child_names = child_names;
  cb.add = add;
  cb.replace = replace;
  cb.delete_node = delete_node;
  return cb;
}

void sync_csp_finalize(void *userdata) {
  ((sync_csp *)userdata)->finalized++;
}

const char *sync_csp_value(const sync_csp *csp, const char *relative) {
  static char text[257];
  size_t i;
  for (i = 0; i < csp->count; i++) {
    if (strcmp(csp->nodes[i].path, relative) == 0 && !csp->nodes[i].interior) {
      memcpy(text, csp->nodes[i].value, csp->nodes[i].value_len);
      text[csp->nodes[i].value_len] = '\0';
      return text;
    }
  }
  return NULL;
}
