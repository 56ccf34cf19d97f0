// The C++ wrapper (omadm.hpp) doing what test_session.c does: a CSP written as a C++ class,
// registered through the wrapper and configured by the reference server in a session started
// by SMS PDUs; errors as exceptions; a CSP method that throws answers 500.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "omadm.hpp"
#include "session_flow.h"
#include "support.h"

namespace {

// A sync-account store as a map from relative path to (interior, value).
class sync_account_csp : public omadm::csp {
 public:
  explicit sync_account_csp(std::map<std::string, std::string> *values, int *deleted)
      : values_(values), deleted_(deleted) {
    nodes_[""] = node_entry{true, {}};
  }
  ~sync_account_csp() override { ++*deleted_; }

  uint32_t get(const std::string &path, node &out) override {
    auto it = nodes_.find(rel(path));
    if (it == nodes_.end()) return 404;
    out.interior = it->second.interior;
    out.leaf = omadm::value::text(it->second.value);
    out.secret = ends_with(path, "/Password");
    return 200;
  }
  uint32_t child_names(const std::string &path, std::vector<std::string> &out) override {
    std::string r = rel(path);
    std::string prefix = r.empty() ? "" : r + "/";
    for (const auto &n : nodes_) {
      if (n.first.empty() || n.first.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rest = n.first.substr(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string::npos) out.push_back(rest);
    }
    return 200;
  }
  uint32_t add(const std::string &path, const omadm::value *v) override {
    std::string r = rel(path);
    if (ends_with(path, "/Explode")) throw std::runtime_error("a C++ exception in a CSP");
    if (nodes_.count(r)) return 418;
    std::string text = v ? std::string(v->data.begin(), v->data.end()) : std::string();
    nodes_[r] = node_entry{v == nullptr, text};
    if (v) (*values_)[r] = text;
    return 200;
  }
  uint32_t replace(const std::string &path, const omadm::value &v) override {
    auto it = nodes_.find(rel(path));
    if (it == nodes_.end()) return 404;
    it->second.value.assign(v.data.begin(), v.data.end());
    (*values_)[rel(path)] = it->second.value;
    return 200;
  }

 private:
  struct node_entry {
    bool interior;
    std::string value;
  };
  static bool ends_with(const std::string &s, const std::string &tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  }
  static std::string rel(const std::string &path) {
    const std::string root = FLOW_SYNC_PREFIX;
    if (path == root) return "";
    return path.substr(root.size() + 1);
  }
  std::map<std::string, node_entry> nodes_;
  std::map<std::string, std::string> *values_;
  int *deleted_;
};

// A firmware installer; this test's server sends no firmware job, so it only shows the
// wrapper's ownership: the installer lives as long as the configuration and the agent.
class never_installs : public omadm::firmware {
 public:
  explicit never_installs(int *deleted) : deleted_(deleted) {}
  ~never_installs() override { ++*deleted_; }
  uint32_t install(const omadm::firmware_package &, const std::string &) override { return 410; }
  uint32_t install_result(const omadm::firmware_package &) override { return 410; }

 private:
  int *deleted_;
};

std::vector<uint8_t> bytes_of(const unsigned char *p, size_t n) { return std::vector<uint8_t>(p, p + n); }

}  // namespace

int main() {
  // Errors are exceptions with the omadm_result.
  try {
    omadm::config c;
    c.max_msg_size(1);
    CHECK(!"max_msg_size(1) must throw");
  } catch (const omadm::error &e) {
    CHECK(e.code() == OMADM_RESULT_INVALID_ARGUMENT);
  }
  CHECK(omadm::version() == OMADM_VERSION_STRING);

  test_server server;
  flow_start_server(&server, "sync-account.jobs");
  char state[512];
  make_temp_dir(state, sizeof state, "cpp-agent");
  size_t cert_len = 0;
  unsigned char *cert = flow_server_cert(&server, &cert_len);
  CHECK(cert != nullptr);

  int ended = 0, completed = 0, bootstrapped = 0;
  uint32_t pin_request = 0;
  std::map<std::string, std::string> values;
  int deleted = 0;
  int installers_deleted = 0;
  {
    omadm::config cfg;
    cfg.state_dir(state)
        .device(omadm::device_info{FLOW_DEV_ID, "Contoso", "C++ test handset", "", "", "", "", "", ""})
        .trust_anchor_pem(std::string(reinterpret_cast<char *>(cert), cert_len))
        .system_trust_store(false)
        .ppg(FLOW_PPG)
        .firmware(std::make_shared<never_installs>(&installers_deleted))
        .on_event([&](const omadm::event &e) {
          if (e.kind == OMADM_EVENT_PIN_REQUIRED) pin_request = e.pin_request_id;
          if (e.kind == OMADM_EVENT_BOOTSTRAPPED) bootstrapped++;
          if (e.kind == OMADM_EVENT_SESSION_ENDED) {
            ended++;
            if (e.end_reason == OMADM_END_COMPLETED) completed++;
          }
        });
    std::free(cert);
    omadm::agent agent(cfg);
    agent.register_csp(FLOW_SYNC_PREFIX, std::make_unique<sync_account_csp>(&values, &deleted),
                       OMADM_ROLE_MANAGER | OMADM_ROLE_OPERATOR);
    try {
      agent.register_csp(FLOW_SYNC_PREFIX, std::make_unique<sync_account_csp>(&values, &deleted),
                         OMADM_ROLE_MANAGER);
      CHECK(!"a second registration must throw");
    } catch (const omadm::error &e) {
      CHECK(e.code() == OMADM_RESULT_ALREADY_REGISTERED);
    }
    CHECK(deleted == 1);  // the refused CSP was not taken over: unique_ptr deleted it

    flow_pdus pdus;
    flow_bootstrap_pdus(&server, &pdus);
    for (size_t i = 0; i < pdus.count; i++) agent.push_gsm_sms(bytes_of(pdus.pdu[i], pdus.len[i]));
    flow_pdus_free(&pdus);
    agent.process();
    CHECK(pin_request != 0);
    agent.provide_pin(pin_request, FLOW_PIN);
    agent.process();
    CHECK(bootstrapped == 1);

    flow_notification_pdus("0x43", &pdus);
    for (size_t i = 0; i < pdus.count; i++) agent.push_gsm_sms(bytes_of(pdus.pdu[i], pdus.len[i]));
    flow_pdus_free(&pdus);
    agent.process();
    CHECK(ended == 1 && completed == 1);
    CHECK(values["Accounts/{6A8B2D4C-1F3E-4A5B-9C7D-0E1F2A3B4C5D}/UserName"] == "ann.lee");
    CHECK(agent.tree_get(FLOW_ACCOUNT "/EmailAddress", OMADM_ROLE_MANAGER) == "ann.lee@example.com");
    try {
      agent.tree_get(FLOW_ACCOUNT "/Password", OMADM_ROLE_MANAGER);
      CHECK(!"reading a secret must throw");
    } catch (const omadm::error &e) {
      CHECK(e.code() == OMADM_RESULT_NOT_ALLOWED);
    }
    // A CSP method that throws: the command fails with 500, nothing crosses into C.
    try {
      agent.tree_add(FLOW_ACCOUNT "/Explode", omadm::value::text("x"), OMADM_ROLE_MANAGER);
      CHECK(!"a throwing CSP must fail the command");
    } catch (const omadm::error &e) {
      CHECK(e.code() == OMADM_RESULT_COMMAND_FAILED);
    }
    CHECK(server_records_contain(&server, "Results\t./DevInfo/Man\t\tContoso", 10));

    // A session over the host's transport: the first request, then a TLS failure the host
    // reports, which ends it at once.
    try {
      omadm::host_session nobody(agent, "nobody");
      CHECK(!"a session with no account must throw");
    } catch (const omadm::error &e) {
      CHECK(e.code() == OMADM_RESULT_NO_ACCOUNT);
    }
    {
      omadm::host_session s(agent, FLOW_SERVER_ID);
      omadm_session_step step = s.next(1000);
      CHECK(step.action == OMADM_SESSION_SEND && step.body.len > 0);
      CHECK(std::string_view(step.url.data, step.url.len).rfind("https://", 0) == 0);
      s.feed_failure(1001, OMADM_TRANSPORT_TLS, "handshake failed");
      step = s.next(1002);
      CHECK(step.action == OMADM_SESSION_DONE && step.outcome == OMADM_RESULT_TLS_FAILED);
      try {
        s.feed_failure(1003, OMADM_TRANSPORT_IO);
        CHECK(!"a failure with no request outstanding must throw");
      } catch (const omadm::error &e) {
        CHECK(e.code() == OMADM_RESULT_OUT_OF_ORDER);
      }
    }
  }
  CHECK(deleted == 2);  // the registered CSP is deleted with the agent
  CHECK(installers_deleted == 1);  // and the installer with the last of config and agent
  server_stop(&server);
  std::printf("test_cpp: ok\n");
  return 0;
}
