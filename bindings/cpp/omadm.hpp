// omadm.hpp: a header-only C++17 wrapper over the C ABI of libomadm (omadm.h).
//
// - Move-only RAII classes own the C handles: omadm::config (omadm_agent_config) and
//   omadm::agent (omadm_agent).
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
    omadm_firmware_callbacks cb{};
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

/// Shared state of the std::function callbacks (lives as long as the agent using it).
struct callbacks {
  std::function<void(const event &)> on_event;
  std::function<void(uint32_t level, std::string_view message)> on_log;
  std::function<void(const ui_request &)> on_ui;

  static void event_trampoline(void *userdata, const omadm_event *e) noexcept {
    try {
      auto *self = static_cast<callbacks *>(userdata);
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
      if (self->on_event) self->on_event(ev);
    } catch (...) {
    }
  }
  static void log_trampoline(void *userdata, const omadm_log_params *p) noexcept {
    try {
      auto *self = static_cast<callbacks *>(userdata);
      if (self->on_log) self->on_log(p->level, std::string_view(p->message.data, p->message.len));
    } catch (...) {
    }
  }
  static void ui_trampoline(void *userdata, const omadm_ui_request *r) noexcept {
    try {
      auto *self = static_cast<callbacks *>(userdata);
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
    omadm_device_info i{detail::view(d.dev_id),           detail::view(d.manufacturer),
                        detail::view(d.model),            detail::view(d.language),
                        detail::view(d.device_type),      detail::view(d.oem),
                        detail::view(d.firmware_version), detail::view(d.software_version),
                        detail::view(d.hardware_version)};
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
    check(omadm_agent_config_set_log_callback(raw_, &callbacks::log_trampoline, cb_.get(), max_level));
    return *this;
  }
  config &on_event(std::function<void(const event &)> f) {
    cb_->on_event = std::move(f);
    check(omadm_agent_config_set_event_callback(raw_, &callbacks::event_trampoline, cb_.get()));
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
    check(omadm_agent_config_set_ui_callback(raw_, &callbacks::ui_trampoline, cb_.get()));
    return *this;
  }

  /// The C handle (still owned by this object).
  omadm_agent_config *raw() const noexcept { return raw_; }
  /// The callbacks an agent opened with this configuration keeps alive.
  std::shared_ptr<callbacks> shared_callbacks() const { return cb_; }

 private:
  omadm_agent_config *raw_;
  std::shared_ptr<callbacks> cb_;
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
    omadm_csp_callbacks cb{};
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

/// An agent (omadm_agent). Move-only; freed by the destructor.
class agent {
 public:
  /// Opens the agent with `c`'s settings (the callbacks set on `c` stay alive with it).
  explicit agent(const config &c) : cb_(c.shared_callbacks()) {
    check(omadm_agent_open(c.raw(), &raw_));
  }
  ~agent() { omadm_agent_free(raw_); }
  agent(agent &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)), cb_(std::move(other.cb_)) {}
  agent &operator=(agent &&other) noexcept {
    std::swap(raw_, other.raw_);
    std::swap(cb_, other.cb_);
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

  /// A generic alert for `server_id` (durable until acknowledged); returns its id.
  uint64_t add_generic_alert(std::string_view server_id, std::string_view type, std::string_view format,
                             std::string_view data, std::string_view source = {},
                             std::string_view correlator = {}) {
    omadm_generic_alert g{detail::view(type), detail::view(format), omadm_str{nullptr, 0},
                          detail::view(source), omadm_str{nullptr, 0}, detail::view(correlator),
                          detail::view(data)};
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
    omadm_value cv{v.data.data(), v.data.size(), detail::view(v.format), detail::view(v.type)};
    check(omadm_agent_tree_add(raw_, uri.data(), uri.size(), roles, &cv));
  }
  void tree_add_interior(std::string_view uri, uint32_t roles) {
    omadm_value cv{nullptr, 0, detail::view("node"), omadm_str{nullptr, 0}};
    check(omadm_agent_tree_add(raw_, uri.data(), uri.size(), roles, &cv));
  }
  void tree_replace(std::string_view uri, const value &v, uint32_t roles) {
    omadm_value cv{v.data.data(), v.data.size(), detail::view(v.format), detail::view(v.type)};
    check(omadm_agent_tree_replace(raw_, uri.data(), uri.size(), roles, &cv));
  }
  void tree_delete(std::string_view uri, uint32_t roles) {
    check(omadm_agent_tree_delete(raw_, uri.data(), uri.size(), roles));
  }

  /// Answers a user-interaction request (any thread).
  void ui_answer(uint64_t request_id, uint32_t kind, std::string_view text = {},
                 const std::vector<uint32_t> &selected = {}) {
    omadm_ui_answer a{kind, text.data(), text.size(), selected.data(), selected.size()};
    check(omadm_agent_ui_answer(raw_, request_id, &a));
  }

  /// The C handle (still owned by this object).
  omadm_agent *raw() const noexcept { return raw_; }

 private:
  omadm_agent *raw_ = nullptr;
  std::shared_ptr<callbacks> cb_;
};

}  // namespace omadm

#endif  // OMADM_HPP
