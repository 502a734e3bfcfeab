// The AWS credential sources that are not STS: credential_process, SSO (IAM
// Identity Center), the ECS/EKS container endpoint and EC2 instance metadata
// (IMDSv2). Each one fetches once and caches nothing; the chain
// (aws_credentials.cpp) orders, caches and refreshes them. About 930 lines,
// one concern: the four share the checks of what an endpoint answers (JSON
// members, expirations, URLs shown without secrets) and the "does not apply"
// / "fails" conventions of aws_sources.hpp; credential_process, the largest
// (a child process with a timeout, its output capped), is a third of it.
#include "taskstore/backends/aws_sources.hpp"

#include "taskstore/backends/aws_transport.hpp"
#include "taskstore/error.hpp"
#include "taskstore/text.hpp"
#include "taskstore/interrupt.hpp"
#include "taskstore/uri.hpp"

#include <nlohmann/json.hpp>
#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <system_error>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace taskstore::aws {

namespace {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

// ---------------------------------------------------------------- helpers

// Returns the lower-case hex SHA-1 digest of text; throws ConfigError when
// libcrypto cannot be loaded. libcrypto is opened with dlopen on first use,
// as libcurl is (aws_transport.cpp): linked, it would cost every taskctl run
// ~1 ms of loading, and only SSO profiles need a digest.
std::string
sha1_hex(std::string_view text)
{
  using Sha1 = unsigned char* (*)(const unsigned char*, std::size_t, unsigned char*);
  static const Sha1 sha1 = []() -> Sha1 {
    for (const char* name : {"libcrypto.so.3", "libcrypto.so.1.1"}) {
      if (void* lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) {
        if (void* fn = ::dlsym(lib, "SHA1")) {
          return reinterpret_cast<Sha1>(fn);
        }
      }
    }
    return nullptr;
  }();
  if (sha1 == nullptr) {
    throw ConfigError("SSO needs libcrypto (Debian package libssl3) to find its token cache, and it cannot be loaded");
  }
  unsigned char digest[20];
  const unsigned int length = sizeof digest;
  sha1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* const digits = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(digits[digest[i] >> 4]);
    hex.push_back(digits[digest[i] & 0x0f]);
  }
  return hex;
}

// Returns url as messages may show it: no query string, no password.
std::string
url_for_messages(const std::string& url)
{
  return StoreUri::redact_text(url.substr(0, url.find('?')));
}

// Returns a duration for messages: "1 s", "1500 ms".
std::string
duration_text(std::chrono::milliseconds duration)
{
  if (duration.count() % 1000 == 0) {
    return std::to_string(duration.count() / 1000) + " s";
  }
  return std::to_string(duration.count()) + " ms";
}

// The string member name of object, when it is a non-empty string; nullopt otherwise.
std::optional<std::string>
string_member(const nlohmann::json& object, const char* name)
{
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return std::nullopt;
  }
  std::string value = it->get<std::string>();
  if (value.empty()) {
    return std::nullopt;
  }
  return value;
}

// Parses body as a JSON object; nullopt when it is not one. (nlohmann's
// parse errors quote the input, which may hold secrets, so they are dropped.)
std::optional<nlohmann::json>
json_object(const std::string& body)
{
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  return doc;
}

// " (TYPE: MESSAGE)" from an AWS-style error document ("__type"/"Code" and
// "message"/"Message"), shortened; "" when body is not one. These carry no
// secret (they describe the refusal), so messages may quote them.
std::string
error_detail(const std::string& body)
{
  const auto doc = json_object(body);
  if (!doc) {
    return "";
  }
  std::string type = string_member(*doc, "__type").value_or(string_member(*doc, "Code").value_or(""));
  if (const auto hash = type.rfind('#'); hash != std::string::npos) {
    type = type.substr(hash + 1);
  }
  std::string message = string_member(*doc, "message").value_or(string_member(*doc, "Message").value_or(""));
  if (message.size() > 200) {
    message = message.substr(0, 200) + "...";
  }
  if (type.empty() && message.empty()) {
    return "";
  }
  return " (" + type + (type.empty() || message.empty() ? "" : ": ") + message + ")";
}

// Rethrows e when it is an interrupt (request_interrupt()), which every
// source passes on as it is instead of reading it as "no answer".
void
rethrow_interrupt(const AwsError& e)
{
  if (e.kind == AwsError::Kind::transport && e.type == "Interrupted") {
    throw e;
  }
}

// The interrupt error of a wait that is not an HTTP request (credential_process).
AwsError
interrupted(const std::string& what)
{
  AwsError e(AwsError::Kind::transport, "Interrupted", "interrupted while waiting for " + what, 0,
             what + ": interrupted");
  e.retryable = true;
  return e;
}

// Parses the Expiration member of doc (ISO 8601), when it has one. Throws
// ConfigError (what + ": ...") when it is there but not a time.
std::optional<Clock::time_point>
expiration_member(const nlohmann::json& doc, const char* name, const std::string& what)
{
  const auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) {
    return std::nullopt;
  }
  const auto text = it->is_string() ? it->get<std::string>() : std::string();
  const auto time = parse_iso8601(text);
  if (!time) {
    throw ConfigError(what + ": its " + name + " is not an ISO 8601 time");
  }
  return time;
}

// ---------------------------------------------------------------- credential_process

constexpr std::size_t k_process_output_cap = 1024 * 1024;

// A child process started with posix_spawn, killed (SIGKILL) and reaped when
// destroyed unless reaped before.
class Child
{
public:
  explicit Child(pid_t pid)
    : m_pid(pid)
  {
  }
  ~Child()
  {
    if (m_pid > 0) {
      kill_and_reap();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void kill_and_reap()
  {
    if (m_pid <= 0) {
      return; // reaped already (never kill(-1, ...))
    }
    ::kill(m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
  }

  // The wait status once it has exited (reaped), nullopt while it runs.
  // Throws std::system_error when it cannot be waited for (SIGCHLD ignored).
  std::optional<int> try_reap()
  {
    int status = 0;
    pid_t r = 0;
    do {
      r = ::waitpid(m_pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      const int error = errno;
      m_pid = -1;
      throw std::system_error(error, std::generic_category(), "waitpid");
    }
    if (r == m_pid) {
      m_pid = -1;
      return status;
    }
    return std::nullopt;
  }

private:
  pid_t m_pid;
};

// A file descriptor closed when destroyed.
class Fd
{
public:
  Fd() = default;
  explicit Fd(int fd)
    : m_fd(fd)
  {
  }
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  void reset()
  {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = -1;
  }

private:
  int m_fd = -1;
};

// The command's program (its first word), for messages: the rest of the
// command line may hold a secret.
std::string
program_of(const std::string& command)
{
  const std::string_view text = trim(command);
  const auto end = text.find_first_of(" \t");
  return std::string(text.substr(0, end));
}

// Reads the credential_process document in output (Version 1). Throws
// ConfigError (what + ": ...") when it is not one; never quotes output.
Credentials
parse_process_output(const std::string& output, const std::string& what)
{
  const auto doc = json_object(output);
  if (!doc) {
    throw ConfigError(what + ": its output is not a JSON object (" + std::to_string(output.size()) +
                      " bytes; expected {\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...})");
  }
  const auto version = doc->find("Version");
  if (version == doc->end()) {
    throw ConfigError(what + ": its output has no Version (expected \"Version\": 1)");
  }
  if (!version->is_number_integer() || version->get<long long>() != 1) {
    const std::string shown = version->is_number() ? version->dump() : "a " + std::string(version->type_name());
    throw ConfigError(what + ": its output has Version " + shown + "; only Version 1 is understood");
  }
  Credentials c;
  const auto key = string_member(*doc, "AccessKeyId");
  const auto secret = string_member(*doc, "SecretAccessKey");
  if (!key || !secret) {
    throw ConfigError(what + ": its output has no " + (key ? "SecretAccessKey" : "AccessKeyId"));
  }
  c.access_key_id = *key;
  c.secret_access_key = *secret;
  c.session_token = string_member(*doc, "SessionToken");
  c.expiration = expiration_member(*doc, "Expiration", what);
  if (c.expiration && *c.expiration <= Clock::now()) {
    throw ConfigError(what + ": it gave credentials that expired at " + format_iso8601(*c.expiration));
  }
  return c;
}

// ---------------------------------------------------------------- container

constexpr const char* k_container_host = "http://169.254.170.2";

// The parts of an http(s) URL that decide whether it may carry the token.
struct UrlParts
{
  std::string scheme; // lower-cased
  std::string host;   // lower-cased, without the brackets of an IPv6 literal
  bool ok = false;
};

UrlParts
split_url(const std::string& url)
{
  UrlParts parts;
  const auto colon = url.find("://");
  if (colon == std::string::npos) {
    return parts;
  }
  parts.scheme = ascii_lower(url.substr(0, colon));
  std::string authority = url.substr(colon + 3, url.find_first_of("/?#", colon + 3) - (colon + 3));
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      return parts;
    }
    parts.host = authority.substr(1, close - 1);
  } else {
    parts.host = authority.substr(0, authority.find(':'));
  }
  parts.host = ascii_lower(parts.host);
  parts.ok = !parts.host.empty();
  return parts;
}

// True when host is in 127.0.0.0/8 (dotted decimal, four parts).
bool
ipv4_loopback(const std::string& host)
{
  int parts = 0;
  int first = -1;
  std::size_t start = 0;
  while (start <= host.size()) {
    const auto dot = host.find('.', start);
    const std::string part = host.substr(start, dot - start);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(part) > 255) {
      return false;
    }
    if (parts == 0) {
      first = std::stoi(part);
    }
    ++parts;
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  return parts == 4 && first == 127;
}

// True when an http (not https) FULL_URI may be used: loopback, or the ECS
// and EKS Pod Identity link-local hosts (as the AWS SDKs allow).
bool
allowed_http_host(const std::string& host)
{
  return host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" || ipv4_loopback(host) ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

// The authorization token: the file's content (read now, trimmed), else the
// variable. Throws ConfigError when the file cannot be read or the token has
// a line break (it would inject headers); never quotes the token.
std::optional<std::string>
container_token(const EnvLookup& env)
{
  std::optional<std::string> token;
  std::string from;
  if (const auto file = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    from = "the file " + *file + " (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)";
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      throw ConfigError("container credentials: cannot read " + from + ": " + std::strerror(errno));
    }
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      throw ConfigError("container credentials: cannot read " + from);
    }
    token = std::string(trim(content));
  } else if (const auto value = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    from = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    token = *value;
  }
  if (!token) {
    return std::nullopt;
  }
  if (token->empty()) {
    throw ConfigError("container credentials: the authorization token in " + from + " is empty");
  }
  if (token->find_first_of("\r\n") != std::string::npos) {
    throw ConfigError("container credentials: the authorization token in " + from +
                      " contains a line break; it must be one line");
  }
  return token;
}

// ---------------------------------------------------------------- instance metadata

struct Imds
{
  std::string endpoint; // no trailing '/'
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds timeout{2000};
};

// The metadata service to ask, or nullopt (why_not set) when it is disabled.
// Throws ConfigError when the endpoint settings are malformed.
std::optional<Imds>
imds_of(const SourceOptions& options, std::string& why_not)
{
  if (const auto disabled = env_value(options.env, "AWS_EC2_METADATA_DISABLED");
      disabled && ascii_lower(*disabled) == "true") {
    why_not = "disabled by AWS_EC2_METADATA_DISABLED";
    return std::nullopt;
  }
  Imds imds;
  if (const auto endpoint = env_value(options.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    const UrlParts parts = split_url(*endpoint);
    if (!parts.ok || (parts.scheme != "http" && parts.scheme != "https")) {
      throw ConfigError("AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http(s) URL: " + url_for_messages(*endpoint));
    }
    imds.endpoint = *endpoint;
  } else {
    const std::string mode = ascii_lower(env_value(options.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE").value_or("ipv4"));
    if (mode == "ipv6") {
      imds.endpoint = "http://[fd00:ec2::254]";
    } else if (mode == "ipv4") {
      imds.endpoint = "http://169.254.169.254";
    } else {
      throw ConfigError("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6");
    }
  }
  while (!imds.endpoint.empty() && imds.endpoint.back() == '/') {
    imds.endpoint.pop_back();
  }
  if (const auto ms = env_value(options.env, "TASKCTL_AWS_IMDS_TIMEOUT_MS")) {
    try {
      imds.connect_timeout = std::chrono::milliseconds(std::max(1L, std::stol(*ms)));
      imds.timeout = 2 * imds.connect_timeout;
    } catch (const std::exception&) {
      throw ConfigError("TASKCTL_AWS_IMDS_TIMEOUT_MS is not a number of milliseconds");
    }
  }
  return imds;
}

// The session token (PUT /latest/api/token), or nullopt (why_not set) when
// no metadata service answers or it gives none. Throws ConfigError when it
// answers 200 without a token.
std::optional<std::string>
imds_token(const Imds& imds, std::string& why_not)
{
  HttpRequest request;
  request.method = "PUT";
  request.url = imds.endpoint + "/latest/api/token";
  request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  request.timeout = imds.timeout;
  request.connect_timeout = imds.connect_timeout;
  request.no_proxy = true; // a link-local service, never behind http_proxy (as the SDKs do)
  HttpResponse response;
  try {
    response = http_request(request);
  } catch (const AwsError& e) {
    rethrow_interrupt(e);
    why_not = "no instance metadata service answered at " + url_for_messages(imds.endpoint) +
              (e.timed_out ? " within " + duration_text(imds.connect_timeout) : " (" + e.message + ")");
    return std::nullopt;
  }
  if (response.status != 200) {
    why_not = "the instance metadata service at " + url_for_messages(imds.endpoint) +
              " gave no IMDSv2 token (HTTP " + std::to_string(response.status) +
              (response.status == 403 ? ": IMDS is turned off for this instance" : "") + ")";
    return std::nullopt;
  }
  std::string token(trim(response.body));
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
    throw ConfigError("the instance metadata service at " + url_for_messages(imds.endpoint) +
                      " answered the token request without a usable token");
  }
  return token;
}

// GETs path with the session token: the body of a 200, nullopt for a 404
// (the instance has no such thing). Throws ConfigError for any other status,
// or when the service, which gave the token, does not answer now.
std::optional<std::string>
imds_read(const Imds& imds, const std::string& token, const std::string& path)
{
  HttpRequest request;
  request.url = imds.endpoint + path;
  request.headers = {{"X-aws-ec2-metadata-token", token}};
  request.timeout = imds.timeout;
  request.connect_timeout = imds.connect_timeout;
  request.no_proxy = true; // a link-local service, never behind http_proxy (as the SDKs do)
  HttpResponse response;
  try {
    response = http_request(request);
  } catch (const AwsError& e) {
    rethrow_interrupt(e);
    throw ConfigError("the instance metadata service at " + url_for_messages(imds.endpoint) +
                      " gave a token but then did not answer GET " + path + " (" + e.message + ")");
  }
  if (response.status == 404) {
    return std::nullopt;
  }
  if (response.status != 200) {
    throw ConfigError("the instance metadata service at " + url_for_messages(imds.endpoint) + " answered GET " +
                      path + " with HTTP " + std::to_string(response.status) +
                      (response.status == 401 ? " (it refused its own token)" : ""));
  }
  return std::move(response.body);
}

// The metadata service and a session token from it, or nullopt (why_not set)
// when it is disabled or gives no token; throws as imds_of and imds_token do.
std::optional<std::pair<Imds, std::string>>
imds_session(const SourceOptions& options, std::string& why_not)
{
  auto imds = imds_of(options, why_not);
  if (!imds) {
    return std::nullopt;
  }
  auto token = imds_token(*imds, why_not);
  if (!token) {
    return std::nullopt;
  }
  return std::make_pair(std::move(*imds), std::move(*token));
}

} // namespace

// ---------------------------------------------------------------- credential_process

Credentials
process_credentials(const std::string& command, const std::string& where, const SourceOptions& options)
{
  const std::string program = program_of(command);
  const std::string what = "credential_process \"" + program + "\" (" + where + ")";
  if (program.empty()) {
    throw ConfigError("credential_process (" + where + ") is empty");
  }

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw ConfigError(what + ": cannot create a pipe: " + std::strerror(errno));
  }
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);

  // stdin is /dev/null: the command must not consume what taskctl reads
  // (an import from stdin); stdout is the pipe; stderr is ours.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  std::string shell_command = command;
  char sh[] = "sh";
  char dash_c[] = "-c";
  char* argv[] = {sh, dash_c, shell_command.data(), nullptr};
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw ConfigError(what + ": cannot start /bin/sh: " + std::strerror(spawned));
  }
  Child child(pid);
  write_end.reset();

  const auto deadline = Steady::now() + options.timeout;
  const auto timed_out = [&]() {
    child.kill_and_reap();
    return ConfigError(what + ": it did not finish within " + duration_text(options.timeout) + " and was killed");
  };
  const auto remaining_ms = [&]() {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
    return static_cast<int>(std::max<long long>(0, left));
  };

  // Reads its stdout until EOF, or until it has exited and what it wrote is
  // drained (a process it left in the background may hold the pipe open).
  std::string output;
  std::optional<int> status;
  try {
    for (bool eof = false; !eof;) {
      if (!status && Steady::now() >= deadline) {
        throw timed_out();
      }
      pollfd polled[2] = {{read_end.get(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
      const int ready = ::poll(polled, polled[1].fd >= 0 ? 2 : 1, status ? 0 : std::min(50, remaining_ms()));
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (interrupt_requested()) {
        child.kill_and_reap();
        throw interrupted(what);
      }
      if (ready > 0 && polled[0].revents != 0) {
        char buffer[8192];
        const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
          continue;
        }
        if (n <= 0) {
          eof = true;
          continue;
        }
        output.append(buffer, static_cast<std::size_t>(n));
        if (output.size() > k_process_output_cap) {
          child.kill_and_reap();
          throw ConfigError(what + ": it wrote more than 1 MiB to its standard output");
        }
        continue;
      }
      if (status) {
        break; // exited, and its output is drained
      }
      status = child.try_reap();
    }
    read_end.reset();

    // Its output is complete; wait for it to exit, within the same deadline.
    while (!status && !(status = child.try_reap())) {
      if (Steady::now() >= deadline) {
        throw timed_out();
      }
      if (sleep_unless_interrupted(std::chrono::milliseconds(std::min(5, std::max(1, remaining_ms()))))) {
        child.kill_and_reap();
        throw interrupted(what);
      }
    }
  } catch (const std::system_error& e) {
    throw ConfigError(what + ": cannot wait for it to exit (" + e.what() + ")");
  }
  if (WIFSIGNALED(*status)) {
    throw ConfigError(what + ": it was killed by signal " + std::to_string(WTERMSIG(*status)));
  }
  if (!WIFEXITED(*status)) {
    throw ConfigError(what + ": it could not be waited for");
  }
  const int code = WEXITSTATUS(*status);
  if (code == 127) {
    throw ConfigError(what + ": /bin/sh could not find it (exit status 127)");
  }
  if (code == 126) {
    throw ConfigError(what + ": /bin/sh could not run it (exit status 126: not executable?)");
  }
  if (code != 0) {
    throw ConfigError(what + ": it failed with exit status " + std::to_string(code) +
                      " (its error output, if any, is above)");
  }
  Credentials c = parse_process_output(output, what);
  c.source = "credential_process (" + where + ")";
  return c;
}

// ---------------------------------------------------------------- SSO

Credentials
sso_credentials(const SsoProfile& sso, const SourceOptions& options)
{
  const std::string what = "SSO (profile \"" + sso.profile + "\")";
  const std::string login = "; run: aws sso login --profile " + sso.profile;
  if (sso.account_id.empty() || sso.role_name.empty()) {
    throw ConfigError(what + ": sso_account_id and sso_role_name are both needed");
  }
  const std::string key = sso.session_name ? *sso.session_name : sso.start_url;
  if (key.empty()) {
    throw ConfigError(what + ": needs sso_session or sso_start_url");
  }

  const std::string home = home_directory(options.env);
  const std::string cache = (home.empty() ? std::string("~") : home) + "/.aws/sso/cache/" + sha1_hex(key) + ".json";
  struct stat info{};
  if (::stat(cache.c_str(), &info) != 0) {
    const int error = errno;
    throw ConfigError(what + ": no cached SSO token (" + cache + ": " +
                      (error == ENOENT ? std::string("not found") : std::strerror(error)) + ")" + login);
  }
  std::ifstream in(cache, std::ios::binary);
  if (!in) {
    throw ConfigError(what + ": cannot read the SSO token cache " + cache + login);
  }
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto token_doc = json_object(content);
  const auto access_token = token_doc ? string_member(*token_doc, "accessToken") : std::nullopt;
  const auto expires_text = token_doc ? string_member(*token_doc, "expiresAt") : std::nullopt;
  if (!access_token || !expires_text) {
    throw ConfigError(what + ": the SSO token cache " + cache + " has no accessToken and expiresAt" + login);
  }
  const auto expires = parse_iso8601(*expires_text);
  if (!expires) {
    throw ConfigError(what + ": the SSO token cache " + cache + " has an expiresAt that is not an ISO 8601 time" +
                      login);
  }
  if (*expires <= Clock::now()) {
    throw ConfigError(what + ": the cached SSO token expired at " + format_iso8601(*expires) + login);
  }
  std::string region = sso.region;
  if (region.empty() && token_doc) {
    region = string_member(*token_doc, "region").value_or("");
  }
  if (region.empty()) {
    throw ConfigError(what + ": needs sso_region");
  }

  // AWS_ENDPOINT_URL_SSO, unless configured endpoints are ignored (as
  // resolve_config does for DynamoDB's); AWS_ENDPOINT_URL is not used here:
  // it usually names a local DynamoDB, which is no SSO portal.
  const bool ignore_configured =
    ascii_lower(env_value(options.env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").value_or("")) == "true";
  std::string portal = "https://portal.sso." + region + ".amazonaws.com";
  if (const auto configured = env_value(options.env, "AWS_ENDPOINT_URL_SSO"); configured && !ignore_configured) {
    portal = *configured;
  }
  while (!portal.empty() && portal.back() == '/') {
    portal.pop_back();
  }
  HttpRequest request;
  request.url = portal + "/federation/credentials?account_id=" + percent_encode(sso.account_id) +
                "&role_name=" + percent_encode(sso.role_name);
  request.headers = {{"x-amz-sso_bearer_token", *access_token}};
  request.timeout = options.timeout;
  HttpResponse response;
  try {
    response = http_request(request);
  } catch (const AwsError& e) {
    rethrow_interrupt(e);
    throw ConfigError(what + ": the SSO portal " + url_for_messages(portal) + " did not answer (" + e.message + ")");
  }
  if (response.status == 401 || response.status == 403) {
    throw ConfigError(what + ": the SSO portal refused the cached token (HTTP " + std::to_string(response.status) +
                      error_detail(response.body) + ")" + login);
  }
  if (response.status != 200) {
    throw ConfigError(what + ": the SSO portal " + url_for_messages(portal) + " answered HTTP " +
                      std::to_string(response.status) + error_detail(response.body));
  }
  const auto doc = json_object(response.body);
  if (!doc || !doc->contains("roleCredentials") || !doc->at("roleCredentials").is_object()) {
    throw ConfigError(what + ": the SSO portal's answer has no roleCredentials");
  }
  const nlohmann::json& role = doc->at("roleCredentials");
  Credentials c;
  const auto id = string_member(role, "accessKeyId");
  const auto secret = string_member(role, "secretAccessKey");
  if (!id || !secret) {
    throw ConfigError(what + ": the SSO portal's roleCredentials have no " + (id ? "secretAccessKey" : "accessKeyId"));
  }
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = string_member(role, "sessionToken");
  if (const auto expiration = role.find("expiration"); expiration != role.end() && expiration->is_number()) {
    c.expiration = Clock::time_point(std::chrono::milliseconds(expiration->get<long long>()));
  }
  c.source = "SSO (profile " + sso.profile + ", " +
             (sso.session_name ? "sso_session " + *sso.session_name : "sso_start_url " + sso.start_url) + ")";
  c.identity = "account " + sso.account_id + " role " + sso.role_name;
  return c;
}

// ---------------------------------------------------------------- container

std::optional<Credentials>
container_credentials(const SourceOptions& options, std::string& why_not)
{
  const auto relative = env_value(options.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const auto full = env_value(options.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative && !full) {
    why_not = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set";
    return std::nullopt;
  }
  std::string url;
  std::string variable;
  if (relative) {
    variable = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    url = env_value(options.env, "TASKCTL_AWS_CONTAINER_ENDPOINT").value_or(k_container_host) +
          (relative->front() == '/' ? "" : "/") + *relative;
  } else {
    variable = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    url = *full;
    const UrlParts parts = split_url(url);
    if (!parts.ok || (parts.scheme != "http" && parts.scheme != "https")) {
      throw ConfigError("container credentials: " + variable + " is not an http(s) URL: " + url_for_messages(url));
    }
    if (parts.scheme == "http" && !allowed_http_host(parts.host)) {
      throw ConfigError("container credentials: " + variable + " " + url_for_messages(url) +
                        " is refused: an http URL must name a loopback address or 169.254.170.2, "
                        "169.254.170.23 or [fd00:ec2::23] (use https for any other host)");
    }
  }
  const std::string what = "container credentials endpoint " + url_for_messages(url) + " (" + variable + ")";

  HttpRequest request;
  request.url = url;
  if (const auto token = container_token(options.env)) {
    request.headers.emplace_back("Authorization", *token);
  }
  request.timeout = options.timeout;
  request.no_proxy = true; // a link-local or loopback service, never behind http_proxy
  HttpResponse response;
  try {
    response = http_request(request);
  } catch (const AwsError& e) {
    rethrow_interrupt(e);
    throw ConfigError(what + " did not answer (" + e.message + ")");
  }
  if (response.status != 200) {
    throw ConfigError(what + " answered HTTP " + std::to_string(response.status) + error_detail(response.body) +
                      (response.status == 401 || response.status == 403
                         ? "; check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE / AWS_CONTAINER_AUTHORIZATION_TOKEN"
                         : ""));
  }
  const auto doc = json_object(response.body);
  if (!doc) {
    throw ConfigError(what + " answered with something that is not a JSON object");
  }
  const auto id = string_member(*doc, "AccessKeyId");
  const auto secret = string_member(*doc, "SecretAccessKey");
  if (!id || !secret) {
    throw ConfigError(what + " answered without " + (id ? "SecretAccessKey" : "AccessKeyId") +
                      error_detail(response.body));
  }
  Credentials c;
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = string_member(*doc, "Token");
  c.expiration = expiration_member(*doc, "Expiration", what);
  c.identity = string_member(*doc, "RoleArn").value_or("");
  c.source = what;
  return c;
}

// ---------------------------------------------------------------- instance metadata

std::optional<Credentials>
instance_credentials(const SourceOptions& options, std::string& why_not)
{
  const auto session = imds_session(options, why_not);
  if (!session) {
    return std::nullopt;
  }
  const Imds* imds = &session->first;
  const std::string* token = &session->second;
  const std::string no_role = "the instance has no IAM role (instance metadata at " + url_for_messages(imds->endpoint);
  const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
  const auto roles = imds_read(*imds, *token, roles_path);
  const std::string_view listing = roles ? trim(*roles) : std::string_view();
  const std::string role(trim(listing.substr(0, listing.find('\n'))));
  if (role.empty()) {
    why_not = no_role + ")";
    return std::nullopt;
  }
  if (role.find_first_of("/?#% \t") != std::string::npos) {
    throw ConfigError("the instance metadata service at " + url_for_messages(imds->endpoint) +
                      " named a role that is not a role name");
  }
  const std::string path = roles_path + role;
  const auto answer = imds_read(*imds, *token, path);
  if (!answer) {
    why_not = no_role + " has no credentials for " + role + ")";
    return std::nullopt;
  }
  const std::string what = "instance metadata (IMDSv2) at " + url_for_messages(imds->endpoint) + ", role " + role;
  const auto doc = json_object(*answer);
  if (!doc) {
    throw ConfigError(what + ": the answer is not a JSON object");
  }
  if (const auto code = string_member(*doc, "Code"); code != std::optional<std::string>("Success")) {
    throw ConfigError(what + ": no credentials (Code " + code.value_or("missing") + error_detail(*answer) + ")");
  }
  const auto id = string_member(*doc, "AccessKeyId");
  const auto secret = string_member(*doc, "SecretAccessKey");
  if (!id || !secret) {
    throw ConfigError(what + ": the answer has no " + (id ? "SecretAccessKey" : "AccessKeyId"));
  }
  Credentials c;
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = string_member(*doc, "Token");
  c.expiration = expiration_member(*doc, "Expiration", what);
  c.source = what;
  c.identity = "instance profile role " + role;
  return c;
}

std::optional<std::string>
instance_region(const SourceOptions& options, std::string& why_not)
{
  const auto session = imds_session(options, why_not);
  if (!session) {
    return std::nullopt;
  }
  const Imds* imds = &session->first;
  const std::string* token = &session->second;
  const std::string path = "/latest/meta-data/placement/region";
  const auto answer = imds_read(*imds, *token, path);
  if (!answer) {
    why_not = "the instance metadata service at " + url_for_messages(imds->endpoint) + " knows no region";
    return std::nullopt;
  }
  const std::string region(trim(*answer));
  if (region.empty() || region.size() > 64 ||
      region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    throw ConfigError("the instance metadata service at " + url_for_messages(imds->endpoint) +
                      " answered GET " + path + " with something that is not a region");
  }
  return region;
}

} // namespace taskstore::aws
