// omadm.hpp: a header-only C++17 wrapper over the C ABI of libomadm (omadm.h).
//
// - Move-only RAII classes own the C handles: omadm::config (omadm_agent_config),
//   omadm::agent (omadm_agent) and omadm::host_session (omadm_session).
// - Errors are exceptions: every failing C call throws omadm::error carrying the
//   omadm_result (code()) and its text (what()). Nothing throws across the C boundary: the
//   callbacks below catch every exception and report failure to omadm instead (a CSP method
//   that throws answers 500).
// - omadm::csp is the base class of a native CSP; register it with agent::register_csp, which
//   takes ownership (it is deleted after its last callback, when unregistered or the agent is
//   freed).
// - Threads and re-entrance are those of the C API (see omadm.h): callbacks run on the thread
//   in agent::process/agent::run; from a callback only push input, provide_pin,
//   request_session, ui_answer, stop and unregister_csp may be called on the same agent.
// - Every callback registration hands omadm a finalizer, so what a callback uses lives
//   exactly as long as omadm may call it.
//
// This wrapper is not a second ABI: it only calls the functions of omadm.h.
#ifndef OMADM_HPP
#define OMADM_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "omadm.h"

namespace omadm {

/// A failed omadm call.
class error : public std::runtime_error {
 public:
  explicit error(omadm_result code) : std::runtime_error(omadm_result_str(code)), code_(code) {}
  /// The omadm_result of the call.
  omadm_result code() const noexcept { return code_; }

 private:
  omadm_result code_;
};

/// Throws omadm::error unless `r` is OMADM_RESULT_OK.
inline void check(omadm_result r) {
  if (r != OMADM_RESULT_OK) {
    throw error(r);
  }
}

/// The library's version ("MAJOR.MINOR.PATCH").
inline std::string version() { return omadm_version(); }

/// Whether the library this program runs with can serve the header it was built with: the
/// same MAJOR, and a MINOR (then PATCH) at least the header's.
inline bool library_compatible() noexcept {
  uint32_t lib = omadm_version_number();
  return (lib >> 16) == OMADM_VERSION_MAJOR && lib >= OMADM_VERSION_NUMBER;
}

namespace detail {
inline omadm_str view(std::string_view s) { return omadm_str{s.data(), s.size()}; }
inline std::string text(omadm_str s) { return s.data ? std::string(s.data, s.len) : std::string(); }
}  // namespace detail

/// The device's identity (empty fields keep omadm's defaults; dev_id is required).
struct device_info {
  std::string dev_id, manufacturer, model, language, device_type, oem, firmware_version,
      software_version, hardware_version;
};

/// What the agent reports (see OMADM_EVENT_* in omadm.h).
struct event {
  uint32_t kind = 0;
  std::string server_id;
  uint32_t session_id = 0;
  uint32_t end_reason = 0;
  uint32_t messages = 0;
  bool fell_back = false;
  std::string reason;
  uint32_t pin_request_id = 0;
  std::string package;      ///< OMADM_EVENT_FIRMWARE: the FUMO package <x>
  uint32_t fumo_state = 0;  ///< OMADM_EVENT_FIRMWARE: its State value
  uint32_t fumo_result = 0; ///< OMADM_EVENT_FIRMWARE: the result once reported, else 0
  uint32_t outcome = 0;      ///< SESSION_ENDED/FAILED: the omadm_result it stands for
  uint32_t http_status = 0;  ///< outcome OMADM_RESULT_HTTP_STATUS: the status
};

/// A firmware package (see omadm_firmware_package).
struct firmware_package {
  std::string id, name, version, url;
};

/// The platform's firmware installer (FUMO). Return FUMO result codes (200 success, 4xx/5xx
/// failure) or OMADM_FIRMWARE_PENDING while the result is not known (the device reboots to
/// install). A method that throws reports 410 (update failed).
class firmware {
 public:
  virtual ~firmware() = default;
  virtual uint32_t install(const firmware_package &package, const std::string &image_path) = 0;
  virtual uint32_t install_result(const firmware_package &package) = 0;
  virtual void progress(const firmware_package &package, uint64_t done, uint64_t total) {
    (void)package;
    (void)done;
    (void)total;
  }

  /// The C callbacks that dispatch to a std::shared_ptr<firmware> passed as userdata.
  static omadm_firmware_callbacks c_callbacks() noexcept {
    omadm_firmware_callbacks cb = OMADM_FIRMWARE_CALLBACKS_INIT;
    cb.install = &install_cb;
    cb.install_result = &result_cb;
    cb.progress = &progress_cb;
    return cb;
  }
  static void finalize(void *userdata) noexcept { delete static_cast<std::shared_ptr<firmware> *>(userdata); }

 private:
  static firmware_package package_of(const omadm_firmware_package *p) {
    return firmware_package{detail::text(p->id), detail::text(p->name), detail::text(p->version),
                            detail::text(p->url)};
  }
  static uint32_t install_cb(void *u, const omadm_firmware_package *p, omadm_str image) noexcept {
    try {
      return (*static_cast<std::shared_ptr<firmware> *>(u))->install(package_of(p), detail::text(image));
    } catch (...) {
      return 410;
    }
  }
  static uint32_t result_cb(void *u, const omadm_firmware_package *p) noexcept {
    try {
      return (*static_cast<std::shared_ptr<firmware> *>(u))->install_result(package_of(p));
    } catch (...) {
      return 410;
    }
  }
  static void progress_cb(void *u, const omadm_firmware_package *p, uint64_t done, uint64_t total) noexcept {
    try {
      (*static_cast<std::shared_ptr<firmware> *>(u))->progress(package_of(p), done, total);
    } catch (...) {
    }
  }
};

/// A user-interaction request (see omadm_ui_request); answer with agent::ui_answer.
struct ui_request {
  uint64_t id = 0;
  uint32_t kind = 0;
  std::string text, server, default_response;
  std::vector<std::string> choices;
  uint32_t min_display_secs = 0, max_display_secs = 0, max_len = 0, input_type = 0;
  bool password_echo = false;
};

/// Shared state of the std::function callbacks: each registration holds a
/// std::shared_ptr<callbacks> as userdata, released by its finalizer.
struct callbacks {
  std::function<void(const event &)> on_event;
  std::function<void(uint32_t level, std::string_view message)> on_log;
  std::function<void(const ui_request &)> on_ui;

  static callbacks *of(void *userdata) noexcept { return static_cast<std::shared_ptr<callbacks> *>(userdata)->get(); }
  static void release(void *userdata) noexcept { delete static_cast<std::shared_ptr<callbacks> *>(userdata); }

  static void event_trampoline(void *userdata, const omadm_event *e) noexcept {
    try {
      auto *self = of(userdata);
      event ev;
      ev.kind = e->kind;
      ev.server_id = detail::text(e->server_id);
      ev.session_id = e->session_id;
      ev.end_reason = e->end_reason;
      ev.messages = e->messages;
      ev.fell_back = e->fell_back;
      ev.reason = detail::text(e->reason);
      ev.pin_request_id = e->pin_request_id;
      ev.package = detail::text(e->package);
      ev.fumo_state = e->fumo_state;
      ev.fumo_result = e->fumo_result;
      if (e->struct_size >= offsetof(omadm_event, http_status) + sizeof e->http_status) {
        ev.outcome = e->outcome;
        ev.http_status = e->http_status;
      }
      if (self->on_event) self->on_event(ev);
    } catch (...) {
    }
  }
  static void log_trampoline(void *userdata, const omadm_log_params *p) noexcept {
    try {
      auto *self = of(userdata);
      if (self->on_log) self->on_log(p->level, std::string_view(p->message.data, p->message.len));
    } catch (...) {
    }
  }
  static void ui_trampoline(void *userdata, const omadm_ui_request *r) noexcept {
    try {
      auto *self = of(userdata);
      ui_request q;
      q.id = r->id;
      q.kind = r->kind;
      q.text = detail::text(r->text);
      q.server = detail::text(r->server);
      q.default_response = detail::text(r->default_response);
      for (size_t i = 0; i < r->choices_len; i++) q.choices.push_back(detail::text(r->choices[i]));
      q.min_display_secs = r->min_display_secs;
      q.max_display_secs = r->max_display_secs;
      q.max_len = r->max_len;
      q.input_type = r->input_type;
      q.password_echo = r->password_echo;
      if (self->on_ui) self->on_ui(q);
    } catch (...) {
    }
  }
};

/// Agent settings (omadm_agent_config). Move-only.
class config {
 public:
  config() : raw_(omadm_agent_config_new()), cb_(std::make_shared<callbacks>()) {
    if (raw_ == nullptr) throw std::bad_alloc();
  }
  ~config() { omadm_agent_config_free(raw_); }
  config(config &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)), cb_(std::move(other.cb_)) {}
  config &operator=(config &&other) noexcept {
    std::swap(raw_, other.raw_);
    std::swap(cb_, other.cb_);
    return *this;
  }
  config(const config &) = delete;
  config &operator=(const config &) = delete;

  config &state_dir(std::string_view dir) {
    check(omadm_agent_config_set_state_dir(raw_, dir.data(), dir.size()));
    return *this;
  }
  config &device(const device_info &d) {
    omadm_device_info i = OMADM_DEVICE_INFO_INIT;
    i.dev_id = detail::view(d.dev_id);
    i.manufacturer = detail::view(d.manufacturer);
    i.model = detail::view(d.model);
    i.language = detail::view(d.language);
    i.device_type = detail::view(d.device_type);
    i.oem = detail::view(d.oem);
    i.firmware_version = detail::view(d.firmware_version);
    i.software_version = detail::view(d.software_version);
    i.hardware_version = detail::view(d.hardware_version);
    check(omadm_agent_config_set_device(raw_, &i));
    return *this;
  }
  config &max_msg_size(uint64_t bytes) {
    check(omadm_agent_config_set_max_msg_size(raw_, bytes));
    return *this;
  }
  config &trust_anchor_pem(std::string_view pem) {
    check(omadm_agent_config_add_trust_anchor_pem(raw_, reinterpret_cast<const uint8_t *>(pem.data()), pem.size()));
    return *this;
  }
  config &system_trust_store(bool enabled) {
    check(omadm_agent_config_set_system_trust_store(raw_, enabled));
    return *this;
  }
  config &ppg(std::string_view address, bool trusted = false) {
    check(omadm_agent_config_add_ppg(raw_, address.data(), address.size(), trusted));
    return *this;
  }
  config &policy(uint32_t id, uint32_t value) {
    check(omadm_agent_config_set_policy(raw_, id, value));
    return *this;
  }
  config &fallback(uint32_t attempts, uint32_t interval_ms) {
    check(omadm_agent_config_set_fallback(raw_, attempts, interval_ms));
    return *this;
  }
  config &ui_timeout_ms(uint32_t ms) {
    check(omadm_agent_config_set_ui_timeout_ms(raw_, ms));
    return *this;
  }
  config &on_log(std::function<void(uint32_t, std::string_view)> f, uint32_t max_level = OMADM_LOG_INFO) {
    cb_->on_log = std::move(f);
    auto *holder = new std::shared_ptr<callbacks>(cb_);
    registered(omadm_agent_config_set_log_callback(raw_, &callbacks::log_trampoline, holder, &callbacks::release,
                                                   max_level),
               holder);
    return *this;
  }
  config &on_event(std::function<void(const event &)> f) {
    cb_->on_event = std::move(f);
    auto *holder = new std::shared_ptr<callbacks>(cb_);
    registered(omadm_agent_config_set_event_callback(raw_, &callbacks::event_trampoline, holder, &callbacks::release),
               holder);
    return *this;
  }
  /// Enables FUMO with `installer` (shared with every agent opened from this configuration).
  config &firmware(std::shared_ptr<omadm::firmware> installer) {
    omadm_firmware_callbacks cb = omadm::firmware::c_callbacks();
    auto *holder = new std::shared_ptr<omadm::firmware>(std::move(installer));
    omadm_result r = omadm_agent_config_set_firmware(raw_, &cb, holder, &omadm::firmware::finalize);
    if (r != OMADM_RESULT_OK) {
      delete holder;
      throw error(r);
    }
    return *this;
  }
  config &on_ui(std::function<void(const ui_request &)> f) {
    cb_->on_ui = std::move(f);
    auto *holder = new std::shared_ptr<callbacks>(cb_);
    registered(omadm_agent_config_set_ui_callback(raw_, &callbacks::ui_trampoline, holder, &callbacks::release),
               holder);
    return *this;
  }
  /// A TLS client certificate (PEM chain and PEM key) for servers that ask for one.
  config &client_certificate(std::string_view cert_pem, std::string_view key_pem) {
    check(omadm_agent_config_set_client_certificate(raw_, reinterpret_cast<const uint8_t *>(cert_pem.data()),
                                                    cert_pem.size(), reinterpret_cast<const uint8_t *>(key_pem.data()),
                                                    key_pem.size()));
    return *this;
  }
  config &allow_plain_http(bool allowed) {
    check(omadm_agent_config_set_allow_plain_http(raw_, allowed));
    return *this;
  }
  /// OMADM_ACCESS_ACL or OMADM_ACCESS_ROLES.
  config &access_model(uint32_t model) {
    check(omadm_agent_config_set_access_model(raw_, model));
    return *this;
  }
  config &root_acl(std::string_view acl) {
    check(omadm_agent_config_set_root_acl(raw_, acl.data(), acl.size()));
    return *this;
  }
  config &role_rule(std::string_view pattern, uint32_t roles) {
    check(omadm_agent_config_add_role_rule(raw_, pattern.data(), pattern.size(), roles));
    return *this;
  }

  /// The C handle (still owned by this object).
  omadm_agent_config *raw() const noexcept { return raw_; }

 private:
  /// A registration took `holder` (its finalizer releases it), or failed and did not.
  static void registered(omadm_result r, std::shared_ptr<callbacks> *holder) {
    if (r != OMADM_RESULT_OK) {
      delete holder;
      throw error(r);
    }
  }

  omadm_agent_config *raw_;
  std::shared_ptr<callbacks> cb_;
};

/// The fields of a DM account (omadm_account): those set are written by agent::add_account,
/// or changed by agent::update_account. Move-only.
class account {
 public:
  account() : raw_(omadm_account_new()) {
    if (raw_ == nullptr) throw std::bad_alloc();
  }
  ~account() { omadm_account_free(raw_); }
  account(account &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  account &operator=(account &&other) noexcept {
    std::swap(raw_, other.raw_);
    return *this;
  }
  account(const account &) = delete;
  account &operator=(const account &) = delete;

  account &server_id(std::string_view id) {
    check(omadm_account_set_server_id(raw_, id.data(), id.size()));
    return *this;
  }
  account &name(std::string_view n) {
    check(omadm_account_set_name(raw_, n.data(), n.size()));
    return *this;
  }
  account &url(std::string_view u) {
    check(omadm_account_set_url(raw_, u.data(), u.size()));
    return *this;
  }
  account &port(uint16_t p) {
    check(omadm_account_set_port(raw_, p));
    return *this;
  }
  /// scheme: OMADM_AUTH_BASIC, _DIGEST or _HMAC.
  account &client_credentials(uint32_t scheme, std::string_view user, std::string_view secret) {
    check(omadm_account_set_client_credentials(raw_, scheme, user.data(), user.size(), secret.data(), secret.size()));
    return *this;
  }
  /// scheme: OMADM_AUTH_BASIC, _DIGEST, _HMAC, or OMADM_AUTH_NONE (the server need not
  /// authenticate).
  account &server_credentials(uint32_t scheme, std::string_view user, std::string_view secret) {
    check(omadm_account_set_server_credentials(raw_, scheme, user.data(), user.size(), secret.data(), secret.size()));
    return *this;
  }
  account &encoding(uint32_t e) {
    check(omadm_account_set_encoding(raw_, e));
    return *this;
  }
  account &protocol(uint32_t p) {
    check(omadm_account_set_protocol(raw_, p));
    return *this;
  }
  account &retry(uint32_t conn_retry_freq, uint64_t initial_backoff_ms, uint64_t max_backoff_ms,
                 bool back_compat_retry_disabled = false) {
    check(omadm_account_set_retry(raw_, conn_retry_freq, initial_backoff_ms, max_backoff_ms,
                                  back_compat_retry_disabled));
    return *this;
  }
  account &roles(uint32_t r) {
    check(omadm_account_set_roles(raw_, r));
    return *this;
  }
  account &client_certificate_files(std::string_view cert, std::string_view key) {
    check(omadm_account_set_client_certificate_files(raw_, cert.data(), cert.size(), key.data(), key.size()));
    return *this;
  }
  account &plain_http(uint32_t policy) {
    check(omadm_account_set_plain_http(raw_, policy));
    return *this;
  }

  /// The C handle (still owned by this object).
  const omadm_account *raw() const noexcept { return raw_; }

 private:
  omadm_account *raw_;
};

/// A leaf value.
struct value {
  std::vector<uint8_t> data;
  std::string format;  ///< empty: chr
  std::string type;    ///< empty: text/plain
  static value text(std::string_view s) { return value{std::vector<uint8_t>(s.begin(), s.end()), {}, {}}; }
};

/// The base class of a native CSP. Each method returns an OMA DM status (200 success, 404,
/// 405, 418, ...); the defaults answer 405 (not allowed) or 406 (let omadm do it). A method
/// that throws answers 500. caller_server_id() and caller_roles() tell who is asking.
class csp {
 public:
  virtual ~csp() = default;

  /// What get() reports: a leaf's value (interior == false) or an interior node.
  struct node {
    bool interior = false;
    value leaf;
    std::string type;     ///< interior nodes: the MO type
    bool secret = false;  ///< leaf is write-only (Get answers 405)
  };

  virtual uint32_t get(const std::string &path, node &out) = 0;
  virtual uint32_t child_names(const std::string &path, std::vector<std::string> &out) {
    (void)path;
    (void)out;
    return 200;
  }
  /// `v` is nullptr for an interior node.
  virtual uint32_t add(const std::string &path, const value *v) {
    (void)path;
    (void)v;
    return 405;
  }
  virtual uint32_t replace(const std::string &path, const value &v) {
    (void)path;
    (void)v;
    return 405;
  }
  virtual uint32_t remove(const std::string &path) {
    (void)path;
    return 405;
  }
  virtual uint32_t exec(const std::string &path, const std::vector<uint8_t> &data, const std::string &correlator) {
    (void)path;
    (void)data;
    (void)correlator;
    return 405;
  }

  const std::string &caller_server_id() const noexcept { return server_id_; }
  uint32_t caller_roles() const noexcept { return roles_; }

  /// The C callbacks that dispatch to a csp passed as userdata.
  static omadm_csp_callbacks c_callbacks() noexcept {
    omadm_csp_callbacks cb = OMADM_CSP_CALLBACKS_INIT;
    cb.get = &get_cb;
    cb.child_names = &children_cb;
    cb.add = &add_cb;
    cb.replace = &replace_cb;
    cb.delete_node = &delete_cb;
    cb.exec = &exec_cb;
    return cb;
  }
  static void finalize(void *userdata) noexcept { delete static_cast<csp *>(userdata); }

 private:
  std::string server_id_;
  uint32_t roles_ = 0;

  template <typename F>
  static uint32_t dispatch(void *userdata, const omadm_csp_params *p, F &&f) noexcept {
    try {
      auto *self = static_cast<csp *>(userdata);
      self->server_id_ = detail::text(p->server_id);
      self->roles_ = p->roles;
      return f(*self, detail::text(p->path));
    } catch (...) {
      return 500;
    }
  }
  static value value_of(const omadm_csp_params *p) {
    value v;
    if (p->data.data != nullptr) v.data.assign(p->data.data, p->data.data + p->data.len);
    v.format = detail::text(p->format);
    v.type = detail::text(p->type_);
    return v;
  }
  static uint32_t get_cb(void *u, const omadm_csp_params *p, omadm_csp_out *out) noexcept {
    return dispatch(u, p, [&](csp &self, const std::string &path) -> uint32_t {
      node n;
      uint32_t status = self.get(path, n);
      if (status != 200) return status;
      if (n.interior) {
        check(omadm_csp_out_set_interior(out, detail::view(n.type)));
      } else {
        check(omadm_csp_out_set_value(out, n.leaf.data.data(), n.leaf.data.size(),
                                      detail::view(n.leaf.format), detail::view(n.leaf.type)));
        if (n.secret) check(omadm_csp_out_set_secret(out));
      }
      return 200;
    });
  }
  static uint32_t children_cb(void *u, const omadm_csp_params *p, omadm_csp_out *out) noexcept {
    return dispatch(u, p, [&](csp &self, const std::string &path) -> uint32_t {
      std::vector<std::string> names;
      uint32_t status = self.child_names(path, names);
      if (status != 200) return status;
      for (const auto &n : names) check(omadm_csp_out_add_child(out, n.data(), n.size()));
      return 200;
    });
  }
  static uint32_t add_cb(void *u, const omadm_csp_params *p, omadm_csp_out *) noexcept {
    return dispatch(u, p, [&](csp &self, const std::string &path) -> uint32_t {
      if (p->interior) return self.add(path, nullptr);
      value v = value_of(p);
      return self.add(path, &v);
    });
  }
  static uint32_t replace_cb(void *u, const omadm_csp_params *p, omadm_csp_out *) noexcept {
    return dispatch(u, p, [&](csp &self, const std::string &path) { return self.replace(path, value_of(p)); });
  }
  static uint32_t delete_cb(void *u, const omadm_csp_params *p, omadm_csp_out *) noexcept {
    return dispatch(u, p, [&](csp &self, const std::string &path) { return self.remove(path); });
  }
  static uint32_t exec_cb(void *u, const omadm_csp_params *p, omadm_csp_out *) noexcept {
    return dispatch(u, p, [&](csp &self, const std::string &path) {
      return self.exec(path, value_of(p).data, detail::text(p->correlator));
    });
  }
};

/// An agent (omadm_agent). Move-only; freed by the destructor (which must not run inside one
/// of the agent's own callbacks).
class agent {
 public:
  /// Opens the agent with `c`'s settings (the callbacks set on `c` stay alive with it).
  explicit agent(const config &c) { check(omadm_agent_open(c.raw(), &raw_)); }
  ~agent() { (void)omadm_agent_free(raw_); }
  agent(agent &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  agent &operator=(agent &&other) noexcept {
    std::swap(raw_, other.raw_);
    return *this;
  }
  agent(const agent &) = delete;
  agent &operator=(const agent &) = delete;

  void process() { check(omadm_agent_process(raw_)); }
  void run() { check(omadm_agent_run(raw_)); }
  void stop() { check(omadm_agent_stop(raw_)); }

  void push_gsm_sms(const std::vector<uint8_t> &pdu) { check(omadm_agent_push_gsm_sms(raw_, pdu.data(), pdu.size())); }
  void push_cdma_sms(const std::vector<uint8_t> &m) { check(omadm_agent_push_cdma_sms(raw_, m.data(), m.size())); }
  void push_udp(std::string_view sender, const std::vector<uint8_t> &datagram) {
    check(omadm_agent_push_udp(raw_, sender.data(), sender.size(), datagram.data(), datagram.size()));
  }
  void provide_pin(uint32_t request_id, std::string_view pin) {
    check(omadm_agent_provide_pin(raw_, request_id, pin.data(), pin.size()));
  }
  void request_session(std::string_view server_id) {
    check(omadm_agent_request_session(raw_, server_id.data(), server_id.size()));
  }

  /// How a session ran: OMADM_RESULT_OK when it completed, else the OMADM_RESULT_* of its
  /// end or failure, with the HTTP status when that was the reason.
  struct session_outcome {
    omadm_result result = OMADM_RESULT_OK;
    uint32_t http_status = 0;
    bool ok() const noexcept { return result == OMADM_RESULT_OK; }
  };
  /// Runs a client-initiated session with `server_id` now (blocks for it). Does not throw
  /// for how the session ended; throws for misuse (a call from a callback, say).
  session_outcome run_session(std::string_view server_id) {
    session_outcome o;
    o.result = omadm_agent_run_session(raw_, server_id.data(), server_id.size(), &o.http_status);
    if (o.result == OMADM_RESULT_NULL_PARAMETER || o.result == OMADM_RESULT_INVALID_ARGUMENT ||
        o.result == OMADM_RESULT_REENTRANT || o.result == OMADM_RESULT_BUSY || o.result == OMADM_RESULT_PANIC ||
        o.result == OMADM_RESULT_POISONED) {
      throw error(o.result);
    }
    return o;
  }
  /// Calls needing the agent's lock give up with OMADM_RESULT_BUSY after `ms` (0: wait).
  void lock_timeout_ms(uint32_t ms) { check(omadm_agent_set_lock_timeout_ms(raw_, ms)); }

  void add_account(const account &a) { check(omadm_agent_add_account(raw_, a.raw())); }
  void update_account(std::string_view server_id, const account &changes) {
    check(omadm_agent_update_account(raw_, server_id.data(), server_id.size(), changes.raw()));
  }
  void remove_account(std::string_view server_id) {
    check(omadm_agent_remove_account(raw_, server_id.data(), server_id.size()));
  }

  /// A generic alert for `server_id` (durable until acknowledged); returns its id.
  uint64_t add_generic_alert(std::string_view server_id, std::string_view type, std::string_view format,
                             std::string_view data, std::string_view source = {},
                             std::string_view correlator = {}) {
    omadm_generic_alert g = OMADM_GENERIC_ALERT_INIT;
    g.alert_type = detail::view(type);
    g.format = detail::view(format);
    g.source = detail::view(source);
    g.correlator = detail::view(correlator);
    g.data = detail::view(data);
    uint64_t id = 0;
    check(omadm_agent_add_generic_alert(raw_, server_id.data(), server_id.size(), &g, &id));
    return id;
  }

  /// Registers `c` at `prefix`; the agent owns it from now on.
  void register_csp(std::string_view prefix, std::unique_ptr<csp> c, uint32_t default_role) {
    omadm_csp_callbacks cb = csp::c_callbacks();
    check(omadm_agent_register_csp(raw_, prefix.data(), prefix.size(), default_role, &cb, c.get(), &csp::finalize));
    c.release();
  }
  void unregister_csp(std::string_view prefix) {
    check(omadm_agent_unregister_csp(raw_, prefix.data(), prefix.size()));
  }

  /// A leaf's value or an interior node's child names ("a/b/c"), read as the device.
  std::string tree_get(std::string_view uri, uint32_t roles) {
    size_t len = 0;
    omadm_result r = omadm_agent_tree_get(raw_, uri.data(), uri.size(), roles, nullptr, 0, &len);
    if (r == OMADM_RESULT_OK) return std::string();
    if (r != OMADM_RESULT_BUFFER_TOO_SMALL) throw error(r);
    std::string out(len, '\0');
    check(omadm_agent_tree_get(raw_, uri.data(), uri.size(), roles,
                               reinterpret_cast<uint8_t *>(&out[0]), out.size(), &len));
    out.resize(len);
    return out;
  }
  void tree_add(std::string_view uri, const value &v, uint32_t roles) {
    omadm_value cv = c_value(v);
    check(omadm_agent_tree_add(raw_, uri.data(), uri.size(), roles, &cv));
  }
  void tree_add_interior(std::string_view uri, uint32_t roles) {
    omadm_value cv = OMADM_VALUE_INIT;
    cv.format = detail::view("node");
    check(omadm_agent_tree_add(raw_, uri.data(), uri.size(), roles, &cv));
  }
  void tree_replace(std::string_view uri, const value &v, uint32_t roles) {
    omadm_value cv = c_value(v);
    check(omadm_agent_tree_replace(raw_, uri.data(), uri.size(), roles, &cv));
  }
  /// A node's ACL ("Get=*&Replace=srv").
  std::string tree_get_acl(std::string_view uri) {
    size_t len = 0;
    omadm_result r = omadm_agent_tree_get_acl(raw_, uri.data(), uri.size(), nullptr, 0, &len);
    if (r == OMADM_RESULT_OK) return std::string();
    if (r != OMADM_RESULT_BUFFER_TOO_SMALL) throw error(r);
    std::string out(len, '\0');
    check(omadm_agent_tree_get_acl(raw_, uri.data(), uri.size(), reinterpret_cast<uint8_t *>(&out[0]), out.size(),
                                   &len));
    out.resize(len);
    return out;
  }
  void tree_set_acl(std::string_view uri, std::string_view acl) {
    check(omadm_agent_tree_set_acl(raw_, uri.data(), uri.size(), acl.data(), acl.size()));
  }
  void tree_delete(std::string_view uri, uint32_t roles) {
    check(omadm_agent_tree_delete(raw_, uri.data(), uri.size(), roles));
  }

  /// Answers a user-interaction request (any thread).
  void ui_answer(uint64_t request_id, uint32_t kind, std::string_view text = {},
                 const std::vector<uint32_t> &selected = {}) {
    omadm_ui_answer a = OMADM_UI_ANSWER_INIT;
    a.kind = kind;
    a.text = text.data();
    a.text_len = text.size();
    a.selected = selected.data();
    a.selected_len = selected.size();
    check(omadm_agent_ui_answer(raw_, request_id, &a));
  }

  /// The C handle (still owned by this object).
  omadm_agent *raw() const noexcept { return raw_; }

 private:
  static omadm_value c_value(const value &v) noexcept {
    omadm_value cv = OMADM_VALUE_INIT;
    cv.data = v.data.data();
    cv.data_len = v.data.size();
    cv.format = detail::view(v.format);
    cv.type_ = detail::view(v.type);
    return cv;
  }

  omadm_agent *raw_ = nullptr;
};

/// A session over the host's own transport (omadm_session, since 1.1): the library decides,
/// the host moves the bytes. Move-only; the destructor frees it, and must run before the
/// agent's (declare it after the agent). See "Your own transport" in the README.
class host_session {
 public:
  /// Opens a client-initiated session with `server_id` (throws OMADM_RESULT_NO_ACCOUNT).
  host_session(const agent &a, std::string_view server_id) {
    check(omadm_session_open(a.raw(), server_id.data(), server_id.size(), &raw_));
  }
  ~host_session() { (void)omadm_session_free(raw_); }
  host_session(host_session &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  host_session &operator=(host_session &&other) noexcept {
    std::swap(raw_, other.raw_);
    return *this;
  }
  host_session(const host_session &) = delete;
  host_session &operator=(const host_session &) = delete;

  /// What to do next at `now_ms` (the step's views live until the next call on the session).
  omadm_session_step next(uint64_t now_ms) {
    omadm_session_step step = OMADM_SESSION_STEP_INIT;
    check(omadm_session_next(raw_, now_ms, &step));
    return step;
  }
  /// The response to the last SEND.
  void feed_response(uint64_t now_ms, uint32_t status, std::string_view content_type,
                     std::string_view hmac, const std::vector<uint8_t> &body) {
    omadm_http_response r = OMADM_HTTP_RESPONSE_INIT;
    r.status = status;
    r.content_type = detail::view(content_type);
    r.hmac = detail::view(hmac);
    r.body.data = body.empty() ? nullptr : body.data();
    r.body.len = body.size();
    check(omadm_session_feed_response(raw_, now_ms, &r));
  }
  /// No response to the last SEND: `kind` is an OMADM_TRANSPORT_* value.
  void feed_failure(uint64_t now_ms, uint32_t kind, std::string_view detail = {}) {
    check(omadm_session_feed_failure(raw_, now_ms, kind, detail.data(), detail.size()));
  }
  omadm_session *raw() const noexcept { return raw_; }

 private:
  omadm_session *raw_ = nullptr;
};

}  // namespace omadm

#endif  // OMADM_HPP
