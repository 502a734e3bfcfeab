#include "dynamodb/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace taskstore::testing::dynamo {

namespace {

bool
iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view
trim(std::string_view s)
{
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool
send_all(int fd, const std::string& data)
{
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool
can_connect(std::uint16_t port)
{
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

} // namespace

std::optional<std::string>
CapturedRequest::header(std::string_view name) const
{
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) {
      return v;
    }
  }
  return std::nullopt;
}

int
CapturedRequest::count(std::string_view name) const
{
  return static_cast<int>(std::count_if(headers.begin(), headers.end(),
                                        [&](const auto& h) { return iequals(h.first, name); }));
}

CaptureServer::CaptureServer(Responder respond)
  : m_respond(std::move(respond))
{
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (m_listen_fd < 0) {
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  const int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m_listen_fd, 64) != 0) {
    ::close(m_listen_fd);
    throw std::runtime_error(std::string("bind/listen: ") + std::strerror(errno));
  }
  socklen_t length = sizeof addr;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &length);
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this] {
    while (!m_stop) {
      const int fd = ::accept(m_listen_fd, nullptr, nullptr);
      if (fd < 0) {
        if (m_stop || (errno != EINTR && errno != ECONNABORTED)) {
          return;
        }
        continue;
      }
      const int connection = ++m_connections;
      std::lock_guard lock(m_mutex);
      m_fds.push_back(fd);
      m_workers.emplace_back([this, fd, connection] { serve(fd, connection); });
    }
  });
}

CaptureServer::~CaptureServer()
{
  m_stop = true;
  ::shutdown(m_listen_fd, SHUT_RDWR);
  ::close(m_listen_fd);
  m_acceptor.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(m_mutex);
    for (const int fd : m_fds) {
      ::shutdown(fd, SHUT_RDWR);
    }
    workers = std::move(m_workers);
  }
  for (auto& worker : workers) {
    worker.join();
  }
  for (const int fd : m_fds) {
    ::close(fd);
  }
}

std::vector<CapturedRequest>
CaptureServer::requests() const
{
  std::lock_guard lock(m_mutex);
  return m_requests;
}

void
CaptureServer::serve(int fd, int connection)
{
  std::string buffer;
  char chunk[65536];
  for (;;) {
    // Read one request: headers, then Content-Length bytes of body.
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    CapturedRequest request;
    request.connection = connection;
    const std::string head = buffer.substr(0, header_end);
    std::size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const auto sp1 = first.find(' ');
    const auto sp2 = first.find(' ', sp1 + 1);
    request.method = first.substr(0, sp1);
    request.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    std::size_t content_length = 0;
    while (pos < head.size()) {
      auto next = head.find("\r\n", pos);
      if (next == std::string::npos) {
        next = head.size();
      }
      const std::string_view line(head.data() + pos, next - pos);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(trim(line.substr(0, colon)));
        std::string value(trim(line.substr(colon + 1)));
        if (iequals(name, "content-length")) {
          content_length = std::stoul(value);
        }
        request.headers.emplace_back(std::move(name), std::move(value));
      }
      pos = next + 2;
    }
    buffer.erase(0, header_end + 4);
    while (buffer.size() < content_length) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    request.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);
    int index;
    {
      std::lock_guard lock(m_mutex);
      index = static_cast<int>(m_requests.size());
      m_requests.push_back(request);
    }
    const CannedResponse response = m_respond(index, request);
    if (response.hang_up) {
      ::shutdown(fd, SHUT_RDWR); // closed by the destructor
      return;
    }
    const std::string reason = response.status == 200 ? "OK" : "Error";
    std::string text = "HTTP/1.1 " + std::to_string(response.status) + " " + reason +
                       "\r\nContent-Type: " + response.content_type + "\r\nx-amzn-RequestId: "
                       "capture-" + std::to_string(index) + "\r\n";
    for (const auto& [name, value] : response.headers) {
      text += name + ": " + value + "\r\n";
    }
    text += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n" + response.body;
    if (!send_all(fd, text)) {
      return;
    }
  }
}

std::uint16_t
unused_port()
{
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(errno));
  }
  socklen_t length = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

DynaliteProcess::DynaliteProcess()
{
  const std::string cli = std::string(TASKCTL_SOURCE_DIR) + "/node_modules/dynalite/cli.js";
  if (!std::filesystem::exists(cli)) {
    throw std::runtime_error("dynalite is not installed: " + cli +
                             " is missing (run `npm ci` in the source directory)");
  }
  m_port = unused_port();
  const std::string port = std::to_string(m_port);
  std::vector<std::string> args = {"node", cli, "--host", "127.0.0.1", "--port", port,
                                   "--createTableMs", "0", "--deleteTableMs", "0",
                                   "--updateTableMs", "0"};
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // fork + exec rather than posix_spawn, to ask for SIGKILL when this
  // process dies: a test killed by a timeout leaves no dynalite behind.
  const pid_t parent = ::getpid();
  const int devnull = ::open("/dev/null", O_RDWR);
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
    }
    ::execvp("node", argv.data());
    ::_exit(127);
  }
  if (devnull >= 0) {
    ::close(devnull);
  }
  m_pid = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!can_connect(m_port)) {
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error("dynalite exited before listening on port " + port);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, &status, 0);
      m_pid = -1;
      throw std::runtime_error("dynalite did not listen on port " + port + " within 30 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

DynaliteProcess::~DynaliteProcess()
{
  if (m_pid > 0) {
    ::kill(m_pid, SIGCONT);
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

void
DynaliteProcess::pause()
{
  ::kill(m_pid, SIGSTOP);
}

void
DynaliteProcess::resume()
{
  ::kill(m_pid, SIGCONT);
}

std::string
shared_endpoint()
{
  const char* endpoint = std::getenv("TASKCTL_TEST_DYNAMODB_ENDPOINT");
  if (endpoint == nullptr || *endpoint == '\0') {
    throw std::runtime_error("TASKCTL_TEST_DYNAMODB_ENDPOINT is not set (scripts/test starts "
                             "dynalite and sets it)");
  }
  return endpoint;
}

std::string
shell_quote(const std::string& text)
{
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

nlohmann::json
aws_dynamodb(const std::string& endpoint, const std::vector<std::string>& args)
{
  TempDir dir;
  const std::string err = dir.path() + "/stderr";
  std::string command =
    "env AWS_ACCESS_KEY_ID=taskctl-test-key AWS_SECRET_ACCESS_KEY=taskctl-test-secret "
    "AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_PAGER= "
    "aws dynamodb";
  for (const auto& arg : args) {
    command += " " + shell_quote(arg);
  }
  command += " --endpoint-url " + shell_quote(endpoint) + " --region us-east-1 --output json 2>" +
             shell_quote(err);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("cannot run the aws CLI: " + std::string(std::strerror(errno)));
  }
  std::string out;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) {
    out.append(chunk, n);
  }
  const int status = ::pclose(pipe);
  if (status != 0) {
    std::ifstream in(err);
    std::string error((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("aws CLI failed (status " + std::to_string(status) + "): " + command +
                             "\n" + error);
  }
  if (out.find_first_not_of(" \r\n\t") == std::string::npos) {
    return nullptr;
  }
  return nlohmann::json::parse(out);
}




aws::EnvLookup
Env::lookup() const
{
  return [this](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

} // namespace taskstore::testing::dynamo
