// The curl transport of the AWS JSON protocol: keep-alive, standard-mode
// retries, timeouts and call_many's bounded concurrency; and libcurl itself,
// opened with dlopen (aws_curl.hpp). The one-shot requests of the credential
// sources are aws_http.cpp's.
#include "taskstore/backends/aws_transport.hpp"

#include "taskstore/backends/aws_credentials.hpp"
#include "taskstore/backends/aws_curl.hpp"

#include "taskstore/error.hpp"
#include "taskstore/interrupt.hpp"
#include "taskstore/uri.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <mutex>
#include <type_traits>
#include <random>
#include <unordered_map>
#include <variant>

namespace taskstore::aws {

AwsError::AwsError(Kind kind_, std::string type_, std::string message_, long http_status_,
                   std::string what)
  : std::runtime_error(std::move(what))
  , kind(kind_)
  , type(std::move(type_))
  , message(std::move(message_))
  , http_status(http_status_)
{
}

namespace {

bool
is_throttling(std::string_view type)
{
  static constexpr std::string_view k_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException"};
  return std::find(std::begin(k_codes), std::end(k_codes), type) != std::end(k_codes);
}

bool
is_transient(std::string_view type)
{
  static constexpr std::string_view k_codes[] = {"RequestTimeout", "RequestTimeoutException",
                                                 "InternalServerError", "InternalFailure",
                                                 "ServiceUnavailable", "IDPCommunicationError"};
  return std::find(std::begin(k_codes), std::end(k_codes), type) != std::end(k_codes);
}

// A transfer's state: one curl easy handle and its request and response.
struct Transfer
{
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  std::string response;
  std::string request_id;
  char error[CURL_ERROR_SIZE] = {};
  // call_many bookkeeping
  std::size_t index = 0;
  int attempt = 0;
  int last_retry_cost = 0;
  std::chrono::steady_clock::time_point deadline; // the request's, retries included

  Transfer()
  {
    easy = curl().easy_init();
    if (easy == nullptr) {
      throw std::runtime_error("curl_easy_init failed");
    }
  }
  ~Transfer()
  {
    curl().slist_free_all(headers);
    curl().easy_cleanup(easy);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
};

std::size_t
write_body(char* data, std::size_t size, std::size_t count, void* user)
{
  static_cast<Transfer*>(user)->response.append(data, size * count);
  return size * count;
}

std::size_t
read_header(char* data, std::size_t size, std::size_t count, void* user)
{
  const std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    const std::string name = ascii_lower(trim(line.substr(0, colon)));
    if (name == "x-amzn-requestid") {
      static_cast<Transfer*>(user)->request_id = std::string(trim(line.substr(colon + 1)));
    }
  }
  return size * count;
}

using Clock = std::chrono::steady_clock;

// The whole milliseconds left until deadline (0 when none are).
long
left_ms(Clock::time_point deadline)
{
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<long>(left) : 0;
}

} // namespace

// libcurl is opened with dlopen on the first DynamoDB client rather than
// linked (aws_curl.hpp). Loads libcurl.so.4 (or Debian's libcurl-gnutls.so.4,
// the same ABI) on the first call; throws StorageError
// when neither loads or the one loaded lacks a function this client calls
// (curl_multi_poll came in 7.66; CURLOPT_AWS_SIGV4, which the ABI cannot
// show, in 7.75).
const CurlApi&
curl()
{
  static const CurlApi api = [] {
    void* lib = nullptr;
    std::string why;
    for (const char* name : {"libcurl.so.4", "libcurl-gnutls.so.4"}) {
      lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib != nullptr) {
        break;
      }
      const char* error = ::dlerror();
      why += (why.empty() ? "" : "; ") + std::string(error != nullptr ? error : name);
    }
    if (lib == nullptr) {
      throw StorageError::backend("the DynamoDB backend needs libcurl 4 (Debian package libcurl4): " + why);
    }
    CurlApi a;
    auto bind = [lib](auto& fn, const char* symbol) {
      void* address = ::dlsym(lib, symbol);
      if (address == nullptr) {
        throw StorageError::backend(std::string("the DynamoDB backend needs libcurl 7.75 or later: "
                                                "the loaded libcurl has no ") + symbol);
      }
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(address);
    };
    bind(a.global_init, "curl_global_init");
    bind(a.easy_init, "curl_easy_init");
    bind(a.easy_cleanup, "curl_easy_cleanup");
    bind(a.easy_setopt, "curl_easy_setopt");
    bind(a.easy_getinfo, "curl_easy_getinfo");
    bind(a.easy_strerror, "curl_easy_strerror");
    bind(a.multi_init, "curl_multi_init");
    bind(a.multi_cleanup, "curl_multi_cleanup");
    bind(a.multi_add_handle, "curl_multi_add_handle");
    bind(a.multi_remove_handle, "curl_multi_remove_handle");
    bind(a.multi_perform, "curl_multi_perform");
    bind(a.multi_poll, "curl_multi_poll");
    bind(a.multi_info_read, "curl_multi_info_read");
    bind(a.multi_strerror, "curl_multi_strerror");
    bind(a.slist_append, "curl_slist_append");
    bind(a.slist_free_all, "curl_slist_free_all");
    bind(a.version_info, "curl_version_info");
    a.global_init(CURL_GLOBAL_DEFAULT);
    return a;
  }();
  return api;
}

// Waits in curl_multi_poll for multi's transfers, the interrupt fd beside
// them, at most wait_ms. Returns false when an interrupt is requested.
bool
poll_multi(CURLM* multi, int wait_ms)
{
  if (interrupt_requested()) {
    return false;
  }
  const int ifd = interrupt_fd();
  curl_waitfd extra{};
  extra.fd = ifd;
  extra.events = CURL_WAIT_POLLIN;
  if (ifd < 0) {
    wait_ms = std::min(wait_ms, 50); // no self-pipe: look at the flag often
  }
  curl().multi_poll(multi, ifd >= 0 ? &extra : nullptr, ifd >= 0 ? 1U : 0U, wait_ms, nullptr);
  return !interrupt_requested();
}

std::string
curl_library_version()
{
  try {
    const curl_version_info_data* info = curl().version_info(CURLVERSION_NOW);
    return info != nullptr && info->version != nullptr ? info->version : "";
  } catch (const StorageError&) {
    return "";
  }
}

struct JsonClient::Impl
{
  ClientOptions options;
  std::string url;
  std::string sigv4;  // "aws:amz:REGION:SERVICE"
  std::string user_agent = "taskctl-taskstore (libcurl)";
  std::unique_ptr<Transfer> single;                 // the keep-alive handle for call()
  CURLM* single_multi = nullptr;                    // call()'s multi (its keep-alive connection)
  CURLM* multi = nullptr;                           // call_many's handle and connection pool
  std::vector<std::unique_ptr<Transfer>> pool;      // idle easy handles for call_many
  std::mt19937_64 random{std::random_device{}()};
  int quota = 0;

  explicit Impl(ClientOptions o)
    : options(std::move(o))
  {
    curl(); // loads libcurl, or throws why it cannot
    url = options.endpoint;
    if (url.find('/', url.find("://") + 3) == std::string::npos) {
      url.push_back('/');
    }
    sigv4 = "aws:amz:" + options.region + ":" + options.service;
    quota = options.retry.quota;
  }

  ~Impl()
  {
    if (single_multi != nullptr) {
      if (single) {
        curl().multi_remove_handle(single_multi, single->easy);
      }
      curl().multi_cleanup(single_multi);
    }
    if (multi != nullptr) {
      curl().multi_cleanup(multi);
    }
  }

  // The error of an operation stopped by request_interrupt(): a retryable
  // transport error (the store may be fine), never retried here.
  AwsError interrupted_error(std::string_view operation, int attempts) const
  {
    AwsError e(AwsError::Kind::transport, "Interrupted", "interrupted while waiting for the answer", 0,
               std::string(operation) + " to " + StoreUri::redact_text(options.endpoint) + ": interrupted");
    e.retryable = true;
    e.attempts = attempts;
    return e;
  }

  // Marks e as ended by the deadline: the message names the timeout.
  void past_deadline(AwsError& e) const
  {
    const std::string limit = "the operation did not complete within the timeout of " +
                              std::to_string(options.timeout.count()) + " ms (retries included)";
    if (e.kind == AwsError::Kind::transport) {
      e.timed_out = true;
      e.message = limit + "; last attempt: " + e.message;
    } else {
      e.message += (e.message.empty() ? "" : "; ") + limit;
    }
  }

  // Whether a retry of e may start after backoff within deadline.
  bool retry_fits(AwsError& e, Clock::time_point deadline, std::chrono::milliseconds backoff) const
  {
    if (Clock::now() + backoff < deadline) {
      return true;
    }
    past_deadline(e);
    return false;
  }

  // Runs one attempt of the prepared t to its end through single_multi,
  // watching the interrupt fd. Returns curl's result, or nullopt when
  // interrupted (the transfer is dropped, its connection closed).
  std::optional<CURLcode> perform(Transfer& t)
  {
    if (single_multi == nullptr) {
      single_multi = curl().multi_init();
      if (single_multi == nullptr) {
        throw std::runtime_error("curl_multi_init failed");
      }
    }
    const CURLMcode added = curl().multi_add_handle(single_multi, t.easy);
    if (added != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl().multi_strerror(added));
    }
    for (;;) {
      int still_running = 0;
      const CURLMcode mc = curl().multi_perform(single_multi, &still_running);
      if (mc != CURLM_OK) {
        curl().multi_remove_handle(single_multi, t.easy);
        throw std::runtime_error(std::string("curl_multi_perform: ") + curl().multi_strerror(mc));
      }
      int queued = 0;
      while (CURLMsg* msg = curl().multi_info_read(single_multi, &queued)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == t.easy) {
          const CURLcode code = msg->data.result;
          curl().multi_remove_handle(single_multi, t.easy);
          return code;
        }
      }
      // curl shortens the wait to its own timers (the attempt's timeout).
      if (!poll_multi(single_multi, 1000)) {
        curl().multi_remove_handle(single_multi, t.easy);
        return std::nullopt;
      }
    }
  }

  // Sets every option of t for one attempt of operation with t.body, which
  // may take at most budget_ms (connect and transfer).
  void prepare(Transfer& t, std::string_view operation, long budget_ms)
  {
    t.response.clear();
    t.request_id.clear();
    t.error[0] = '\0';
    curl().slist_free_all(t.headers);
    t.headers = nullptr;
    const std::string content_type = "Content-Type: " + options.content_type;
    const std::string target = "X-Amz-Target: " + options.target_prefix + "." + std::string(operation);
    t.headers = curl().slist_append(t.headers, content_type.c_str());
    t.headers = curl().slist_append(t.headers, target.c_str());
    // curl copies the strings it is given, so these may go out of scope.
    const Credentials credentials = options.provider ? options.provider->current() : options.credentials;
    if (credentials.session_token) {
      // curl signs every header it is given, so the token is covered by the signature.
      const std::string token = "X-Amz-Security-Token: " + *credentials.session_token;
      t.headers = curl().slist_append(t.headers, token.c_str());
    }
    CURL* e = t.easy;
    curl().easy_setopt(e, CURLOPT_URL, url.c_str());
    curl().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl().easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl().easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl().easy_setopt(e, CURLOPT_POST, 1L);
    curl().easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    curl().easy_setopt(e, CURLOPT_POSTFIELDS, t.body.data());
    curl().easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    curl().easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl().easy_setopt(e, CURLOPT_USERNAME, credentials.access_key_id.c_str());
    curl().easy_setopt(e, CURLOPT_PASSWORD, credentials.secret_access_key.c_str());
    curl().easy_setopt(e, CURLOPT_USERAGENT, user_agent.c_str());
    budget_ms = std::max(1L, budget_ms);
    curl().easy_setopt(e, CURLOPT_TIMEOUT_MS, budget_ms);
    curl().easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, budget_ms);
    curl().easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
    curl().easy_setopt(e, CURLOPT_WRITEFUNCTION, &write_body);
    curl().easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl().easy_setopt(e, CURLOPT_HEADERFUNCTION, &read_header);
    curl().easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl().easy_setopt(e, CURLOPT_PRIVATE, &t);
  }

  // Classifies a finished attempt: the response document, or the error.
  std::variant<nlohmann::json, AwsError> classify(Transfer& t, CURLcode code,
                                                  std::string_view operation)
  {
    const std::string op(operation);
    if (code != CURLE_OK) {
      std::string text = t.error[0] != '\0' ? std::string(t.error) : curl().easy_strerror(code);
      AwsError e(AwsError::Kind::transport, curl().easy_strerror(code), text, 0,
                 op + " to " + StoreUri::redact_text(options.endpoint) + ": " + text);
      e.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      // Configuration mistakes are not worth retrying; everything else may be transient.
      e.retryable = !(code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL ||
                      code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                      code == CURLE_SSL_CERTPROBLEM || code == CURLE_LOGIN_DENIED ||
                      code == CURLE_OUT_OF_MEMORY || code == CURLE_NOT_BUILT_IN);
      return e;
    }
    long status = 0;
    curl().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    nlohmann::json document = nlohmann::json::parse(t.response, nullptr, false);
    if (status >= 200 && status < 300) {
      if (t.response.empty()) {
        return nlohmann::json::object();
      }
      if (document.is_discarded() || !document.is_object()) {
        AwsError e(AwsError::Kind::service, "InvalidResponse",
                   "the response is not a JSON object", status,
                   op + " to " + StoreUri::redact_text(options.endpoint) + ": HTTP " + std::to_string(status) +
                     " with a body that is not a JSON object");
        e.retryable = false;
        return e;
      }
      return document;
    }
    std::string type = "HTTP" + std::to_string(status);
    std::string message;
    if (!document.is_discarded() && document.is_object()) {
      if (auto it = document.find("__type"); it != document.end() && it->is_string()) {
        type = it->get<std::string>();
        if (const auto hash = type.rfind('#'); hash != std::string::npos) {
          type = type.substr(hash + 1);
        }
      }
      for (const char* key : {"message", "Message"}) {
        if (auto it = document.find(key); it != document.end() && it->is_string()) {
          message = it->get<std::string>();
          break;
        }
      }
    } else {
      message = t.response.substr(0, 200);
      document = nullptr;
    }
    std::string what = op + " to " + StoreUri::redact_text(options.endpoint) + ": " + type;
    if (!message.empty()) {
      what += ": " + message;
    }
    what += " (HTTP " + std::to_string(status);
    if (!t.request_id.empty()) {
      what += ", request id " + t.request_id;
    }
    what += ")";
    AwsError e(AwsError::Kind::service, type, message, status, what);
    e.request_id = t.request_id;
    e.body = std::move(document);
    e.throttled = is_throttling(type) || status == 429;
    e.retryable = e.throttled || status >= 500 || is_transient(type);
    return e;
  }

  // The full-jitter backoff before retry number `retry` (1 = the first retry).
  std::chrono::milliseconds backoff(int retry, bool throttled)
  {
    const auto base = throttled ? options.retry.throttling_base : options.retry.transient_base;
    double ceiling = static_cast<double>(base.count()) * static_cast<double>(1ULL << std::min(retry - 1, 30));
    ceiling = std::min(ceiling, static_cast<double>(options.retry.max_backoff.count()));
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(jitter(random) * ceiling));
  }

  // Takes the retry's cost from the quota; false when the quota is exhausted.
  bool acquire_retry(const AwsError& e, int& cost)
  {
    cost = e.timed_out ? options.retry.timeout_retry_cost : options.retry.retry_cost;
    if (quota < cost) {
      return false;
    }
    quota -= cost;
    return true;
  }

  void on_success(int last_retry_cost)
  {
    quota = std::min(options.retry.quota, quota + (last_retry_cost > 0 ? last_retry_cost : 1));
  }
};

JsonClient::JsonClient(ClientOptions options)
  : impl_(std::make_unique<Impl>(std::move(options)))
{
}

JsonClient::~JsonClient() = default;

const ClientOptions&
JsonClient::options() const
{
  return impl_->options;
}

nlohmann::json
JsonClient::call(std::string_view operation, const nlohmann::json& request)
{
  Impl& im = *impl_;
  if (!im.single) {
    im.single = std::make_unique<Transfer>();
  }
  Transfer& t = *im.single;
  t.body = request.dump();
  const auto deadline = Clock::now() + im.options.timeout;
  int last_cost = 0;
  for (int attempt = 1;; ++attempt) {
    if (interrupt_requested()) {
      throw im.interrupted_error(operation, attempt - 1);
    }
    im.prepare(t, operation, left_ms(deadline));
    const std::optional<CURLcode> code = im.perform(t);
    if (!code) {
      throw im.interrupted_error(operation, attempt);
    }
    auto result = im.classify(t, *code, operation);
    if (auto* document = std::get_if<nlohmann::json>(&result)) {
      im.on_success(last_cost);
      return std::move(*document);
    }
    AwsError& e = std::get<AwsError>(result);
    e.attempts = attempt;
    if (!e.retryable) {
      throw e;
    }
    if (left_ms(deadline) == 0) {
      im.past_deadline(e);
      throw e;
    }
    if (attempt >= im.options.retry.max_attempts) {
      throw e;
    }
    const auto pause = im.backoff(attempt, e.throttled);
    if (!im.retry_fits(e, deadline, pause) || !im.acquire_retry(e, last_cost)) {
      throw e;
    }
    if (sleep_unless_interrupted(pause)) {
      throw im.interrupted_error(operation, attempt);
    }
  }
}

void
JsonClient::call_many(std::string_view operation, const std::vector<nlohmann::json>& requests,
                      std::size_t max_in_flight,
                      const std::function<void(std::size_t, Outcome&&)>& on_done)
{
  if (requests.empty()) {
    return;
  }
  Impl& im = *impl_;
  max_in_flight = std::max<std::size_t>(1, max_in_flight);
  if (im.multi == nullptr) {
    im.multi = curl().multi_init();
    if (im.multi == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
  }
  using clock = std::chrono::steady_clock;
  struct Waiting
  {
    clock::time_point ready;
    std::unique_ptr<Transfer> transfer;
  };
  std::size_t next = 0;                                   // next fresh request
  std::deque<Waiting> waiting;                            // retries waiting for their backoff
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running;

  const auto take_handle = [&]() {
    if (!im.pool.empty()) {
      auto t = std::move(im.pool.back());
      im.pool.pop_back();
      return t;
    }
    return std::make_unique<Transfer>();
  };
  const auto start = [&](std::unique_ptr<Transfer> t) {
    im.prepare(*t, operation, left_ms(t->deadline));
    const CURLMcode rc = curl().multi_add_handle(im.multi, t->easy);
    if (rc != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_add_handle: ") + curl().multi_strerror(rc));
    }
    CURL* key = t->easy;
    running.emplace(key, std::move(t));
  };
  const auto abandon = [&]() {
    for (auto& [easy, t] : running) {
      curl().multi_remove_handle(im.multi, easy);
      im.pool.push_back(std::move(t));
    }
    running.clear();
  };

  // On an interrupt: drop every transfer (their connections close), then
  // report every request not completed as interrupted.
  const auto interrupt = [&]() {
    std::vector<std::pair<std::size_t, int>> pending; // index, attempts made
    for (auto& [easy, t] : running) {
      pending.emplace_back(t->index, t->attempt + 1);
    }
    abandon();
    for (auto& w : waiting) {
      pending.emplace_back(w.transfer->index, w.transfer->attempt);
      im.pool.push_back(std::move(w.transfer));
    }
    waiting.clear();
    std::sort(pending.begin(), pending.end());
    for (; next < requests.size(); ++next) {
      pending.emplace_back(next, 0);
    }
    for (const auto& [index, attempts] : pending) {
      Outcome outcome;
      outcome.error = im.interrupted_error(operation, attempts);
      on_done(index, std::move(outcome));
    }
  };

  try {
    while (next < requests.size() || !waiting.empty() || !running.empty()) {
      if (interrupt_requested()) {
        interrupt();
        return;
      }
      // Fill the window: due retries first, then fresh requests.
      const auto now = clock::now();
      while (running.size() < max_in_flight && !waiting.empty() && waiting.front().ready <= now) {
        auto t = std::move(waiting.front().transfer);
        waiting.pop_front();
        start(std::move(t));
      }
      while (running.size() < max_in_flight && next < requests.size()) {
        auto t = take_handle();
        t->index = next;
        t->attempt = 0;
        t->last_retry_cost = 0;
        t->deadline = clock::now() + im.options.timeout;
        t->body = requests[next].dump();
        ++next;
        start(std::move(t));
      }
      if (running.empty()) {
        // Only retries waiting for their backoff.
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(waiting.front().ready - clock::now());
        sleep_unless_interrupted(std::max(until, std::chrono::milliseconds(0)));
        continue;
      }
      int still_running = 0;
      CURLMcode mc = curl().multi_perform(im.multi, &still_running);
      if (mc != CURLM_OK) {
        throw std::runtime_error(std::string("curl_multi_perform: ") + curl().multi_strerror(mc));
      }
      int queued = 0;
      while (CURLMsg* msg = curl().multi_info_read(im.multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) {
          continue;
        }
        CURL* easy = msg->easy_handle;
        const CURLcode code = msg->data.result;
        curl().multi_remove_handle(im.multi, easy);
        auto node = running.find(easy);
        std::unique_ptr<Transfer> t = std::move(node->second);
        running.erase(node);
        ++t->attempt;
        auto result = im.classify(*t, code, operation);
        if (auto* document = std::get_if<nlohmann::json>(&result)) {
          im.on_success(t->last_retry_cost);
          Outcome outcome;
          outcome.response = std::move(*document);
          const std::size_t index = t->index;
          im.pool.push_back(std::move(t));
          on_done(index, std::move(outcome));
          continue;
        }
        AwsError& e = std::get<AwsError>(result);
        e.attempts = t->attempt;
        int cost = 0;
        bool retry = e.retryable;
        if (retry && left_ms(t->deadline) == 0) {
          im.past_deadline(e);
          retry = false;
        }
        const auto pause = retry ? im.backoff(t->attempt, e.throttled) : std::chrono::milliseconds(0);
        retry = retry && t->attempt < im.options.retry.max_attempts && im.retry_fits(e, t->deadline, pause) &&
                im.acquire_retry(e, cost);
        if (retry) {
          t->last_retry_cost = cost;
          Waiting w{clock::now() + pause, std::move(t)};
          const auto pos = std::upper_bound(
            waiting.begin(), waiting.end(), w.ready,
            [](const clock::time_point& ready, const Waiting& x) { return ready < x.ready; });
          waiting.insert(pos, std::move(w));
          continue;
        }
        Outcome outcome;
        outcome.error = std::move(e);
        const std::size_t index = t->index;
        im.pool.push_back(std::move(t));
        on_done(index, std::move(outcome));
      }
      if (!running.empty()) {
        // curl shortens the wait to its own timers; the interrupt fd wakes it.
        int wait_ms = 1000;
        if (!waiting.empty()) {
          const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
            waiting.front().ready - clock::now());
          wait_ms = static_cast<int>(std::clamp<std::int64_t>(until.count(), 0, 1000));
        }
        poll_multi(im.multi, wait_ms); // an interrupt is seen at the top of the loop
      }
    }
  } catch (...) {
    abandon();
    for (auto& w : waiting) {
      im.pool.push_back(std::move(w.transfer));
    }
    throw;
  }
}

// ======================================================================== pool

ClientPool::ClientPool(ClientOptions options)
  : m_options(std::move(options))
{
}

ClientPool::Lease::Lease(ClientPool& pool, std::unique_ptr<JsonClient> client)
  : m_pool(pool)
  , m_client(std::move(client))
{
}

ClientPool::Lease::~Lease()
{
  m_pool.release(std::move(m_client));
}

ClientPool::Lease
ClientPool::acquire()
{
  {
    std::lock_guard lock(m_mutex);
    if (!m_idle.empty()) {
      auto client = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(*this, std::move(client));
    }
  }
  return Lease(*this, std::make_unique<JsonClient>(m_options));
}

void
ClientPool::release(std::unique_ptr<JsonClient> client)
{
  std::lock_guard lock(m_mutex);
  m_idle.push_back(std::move(client));
}

} // namespace taskstore::aws
