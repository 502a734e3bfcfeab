#pragma once
// Helpers of the dynamodb tests: a scripted local HTTP server that records the
// requests it gets, a dynalite child process, the aws CLI, environment guards.

#include "support/env_guard.hpp"
#include "support/temp_dir.hpp"
#include "taskstore/backends/aws_config.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace taskstore::testing::dynamo {

// One request as received: method, path, headers in order (names as sent), body.
struct CapturedRequest
{
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0; // which accepted connection carried it (1, 2, ...)

  // The first header with this name (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
  // How many headers have this name (case-insensitive).
  int count(std::string_view name) const;
};

struct CannedResponse
{
  int status = 200;
  std::string body = "{}";
  std::string content_type = "application/x-amz-json-1.0";
  std::vector<std::pair<std::string, std::string>> headers{}; // extra response headers
  // Close the connection without answering (a dead or hostile endpoint).
  bool hang_up = false;
};

// An HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that answers each
// request with respond(request number from 0, request) and keeps connections
// alive. Stops (closing everything) when destroyed.
class CaptureServer
{
public:
  using Responder = std::function<CannedResponse(int index, const CapturedRequest&)>;
  explicit CaptureServer(Responder respond);
  ~CaptureServer();
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;

  std::uint16_t port() const { return m_port; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<CapturedRequest> requests() const;
  int connections() const { return m_connections.load(); }

private:
  void serve(int fd, int connection);

  Responder m_respond;
  int m_listen_fd = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  mutable std::mutex m_mutex;
  std::vector<CapturedRequest> m_requests;
  std::vector<int> m_fds;
  std::thread m_acceptor;
  std::vector<std::thread> m_workers;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
std::uint16_t unused_port();

// A dynalite server started for one test on a free port, stopped (SIGKILL,
// after SIGCONT) when destroyed. Throws std::runtime_error when node or
// dynalite is missing or it does not start listening within 30 s.
class DynaliteProcess
{
public:
  DynaliteProcess();
  ~DynaliteProcess();
  DynaliteProcess(const DynaliteProcess&) = delete;
  DynaliteProcess& operator=(const DynaliteProcess&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  void pause();  // SIGSTOP
  void resume(); // SIGCONT

private:
  int m_pid = -1;
  std::uint16_t m_port = 0;
};

using taskstore::testing::EnvGuard;

// The shared test server's endpoint (TASKCTL_TEST_DYNAMODB_ENDPOINT); throws
// std::runtime_error when it is not set.
std::string shared_endpoint();

// Runs the aws CLI (`aws dynamodb ARGS... --endpoint-url E --region us-east-1
// --output json`) with dummy credentials. Returns its parsed JSON output
// (null when it printed nothing); throws std::runtime_error with its stderr
// when it exits non-zero.
nlohmann::json aws_dynamodb(const std::string& endpoint, const std::vector<std::string>& args);

// Returns text quoted for /bin/sh.
std::string shell_quote(const std::string& text);

using taskstore::testing::TempDir;

// An AWS environment made of a map: only what a test puts in it exists (no
// global environment is read or changed).
struct Env
{
  std::map<std::string, std::string> vars;
  // Looks names up in vars; valid while this Env lives.
  aws::EnvLookup lookup() const;
};

// Returns the what() of the E that f throws; throws std::logic_error when f
// throws nothing (a test failure).
template <class E, class F>
std::string
message_of(F&& f)
{
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  throw std::logic_error("expected an exception of the given type");
}

} // namespace taskstore::testing::dynamo
