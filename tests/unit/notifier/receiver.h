#pragma once

// A real HTTP receiver for the notifier's tests: a CivetWeb server on 127.0.0.1:0 that
// records what it is sent and answers with a status the test chooses, or holds the answer
// until the test releases it (to provoke a client timeout without sleeping).
#include <civetweb.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace portwarden::notifier::testing {

struct Request {
  std::string method;
  std::string uri;
  std::string content_type;
  std::string host;
  std::string body;
};

class Receiver {
 public:
  Receiver() {
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "4", nullptr};
    mg_callbacks callbacks{};
    callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
    ctx_ = mg_start(&callbacks, this, options);
    mg_set_request_handler(ctx_, "/", &Receiver::Handle, this);
    mg_server_port ports[1] = {};
    mg_get_server_ports(ctx_, 1, ports);
    port_ = ports[0].port;
  }
  ~Receiver() {
    Release();
    mg_stop(ctx_);
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Status for the next requests (and an optional body).
  void Answer(int status, std::string body = "") {
    std::lock_guard lock(mu_);
    status_ = status;
    answer_body_ = std::move(body);
  }
  /// Requests wait without an answer until Release().
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      hold_ = false;
    }
    released_.notify_all();
  }
  std::vector<Request> Requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  /// Waits until `n` requests have been answered (recorded before the answer is written);
  /// false at the deadline.
  bool WaitForRequests(size_t n, std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, deadline, [&] { return requests_.size() >= n; });
  }

 private:
  static int Handle(mg_connection* conn, void* self) {
    return static_cast<Receiver*>(self)->Serve(conn);
  }
  int Serve(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    Request r;
    r.method = info->request_method;
    r.uri = info->local_uri ? info->local_uri : "";
    if (const char* ct = mg_get_header(conn, "Content-Type")) r.content_type = ct;
    if (const char* host = mg_get_header(conn, "Host")) r.host = host;
    char buf[8192];
    int n;
    while ((n = mg_read(conn, buf, sizeof buf)) > 0) r.body.append(buf, static_cast<size_t>(n));
    std::unique_lock lock(mu_);
    released_.wait(lock, [&] { return !hold_; });
    requests_.push_back(std::move(r));
    arrived_.notify_all();
    const std::string body = answer_body_;
    const std::string head =
        "HTTP/1.1 " + std::to_string(status_) +
        " X\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n";
    const int status = status_;
    lock.unlock();
    mg_write(conn, head.data(), head.size());
    mg_write(conn, body.data(), body.size());
    return status;
  }

  mg_context* ctx_ = nullptr;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable released_;
  std::condition_variable arrived_;
  int status_ = 200;
  std::string answer_body_;
  bool hold_ = false;
  std::vector<Request> requests_;
};

}  // namespace portwarden::notifier::testing
