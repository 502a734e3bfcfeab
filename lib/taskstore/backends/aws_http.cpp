// One-shot HTTP requests of the AWS credential sources (STS, the SSO portal,
// the container and instance metadata endpoints) over the dlopen'd libcurl:
// no retries, a body cap, interruptible waits.
#include "taskstore/backends/aws_transport.hpp"

#include "taskstore/backends/aws_curl.hpp"
#include "taskstore/error.hpp"
#include "taskstore/uri.hpp"

#include <algorithm>
#include <memory>

namespace taskstore::aws {

std::optional<std::string>
HttpResponse::header(std::string_view lower_name) const
{
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return value;
    }
  }
  return std::nullopt;
}

namespace {

struct OneShot
{
  std::string body;
  HttpResponse response;
  std::size_t max_body = 0;
  bool too_large = false;
  char error[CURL_ERROR_SIZE] = {};
};

// Takes the next piece of the body; past max_body returns 0, which makes
// curl stop the transfer (CURLE_WRITE_ERROR).
std::size_t
one_shot_body(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* state = static_cast<OneShot*>(user);
  if (state->response.body.size() + size * count > state->max_body) {
    state->too_large = true;
    return 0;
  }
  state->response.body.append(data, size * count);
  return size * count;
}

std::size_t
one_shot_header(char* data, std::size_t size, std::size_t count, void* user)
{
  auto& response = static_cast<OneShot*>(user)->response;
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    response.headers.clear(); // a new response (after 100 Continue or a redirect)
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    response.headers.emplace_back(ascii_lower(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1))));
  }
  return size * count;
}

// The URL without its query string, redacted: for messages.
std::string
url_for_messages(const std::string& url)
{
  return StoreUri::redact_text(url.substr(0, url.find('?')));
}

} // namespace

HttpResponse
http_request(const HttpRequest& request)
{
  const CurlApi& api = curl();
  std::unique_ptr<CURL, void (*)(CURL*)> easy(api.easy_init(), api.easy_cleanup);
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi(api.multi_init(), api.multi_cleanup);
  if (!easy || !multi) {
    throw std::runtime_error("curl_easy_init failed");
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, api.slist_free_all);
  const auto add_header = [&](const std::string& line) {
    curl_slist* next = api.slist_append(headers.get(), line.c_str());
    if (next == nullptr) {
      throw std::bad_alloc();
    }
    (void)headers.release();
    headers.reset(next);
  };
  for (const auto& [name, value] : request.headers) {
    add_header(name + ": " + value);
  }
  OneShot state;
  state.body = request.body;
  state.max_body = request.max_body;
  CURL* e = easy.get();
  std::string sigv4;
  if (request.signing) {
    sigv4 = "aws:amz:" + request.signing->region + ":" + request.signing->service;
    if (request.signing->credentials.session_token) {
      add_header("X-Amz-Security-Token: " + *request.signing->credentials.session_token);
    }
    api.easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
    api.easy_setopt(e, CURLOPT_USERNAME, request.signing->credentials.access_key_id.c_str());
    api.easy_setopt(e, CURLOPT_PASSWORD, request.signing->credentials.secret_access_key.c_str());
  }
  api.easy_setopt(e, CURLOPT_URL, request.url.c_str());
  api.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  api.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "GET") {
    api.easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT" || request.method == "POST" || !state.body.empty()) {
    api.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(state.body.size()));
    api.easy_setopt(e, CURLOPT_POSTFIELDS, state.body.data());
  }
  api.easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  api.easy_setopt(e, CURLOPT_USERAGENT, "taskctl-taskstore (libcurl)");
  if (request.no_proxy) {
    api.easy_setopt(e, CURLOPT_NOPROXY, "*");
  }
  const long total_ms = std::max(1L, static_cast<long>(request.timeout.count()));
  api.easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms);
  api.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                  std::max(1L, static_cast<long>(request.connect_timeout.value_or(request.timeout).count())));
  api.easy_setopt(e, CURLOPT_ERRORBUFFER, state.error);
  api.easy_setopt(e, CURLOPT_WRITEFUNCTION, &one_shot_body);
  api.easy_setopt(e, CURLOPT_WRITEDATA, &state);
  api.easy_setopt(e, CURLOPT_HEADERFUNCTION, &one_shot_header);
  api.easy_setopt(e, CURLOPT_HEADERDATA, &state);

  const std::string where = request.method + " " + url_for_messages(request.url);
  if (api.multi_add_handle(multi.get(), e) != CURLM_OK) {
    throw std::runtime_error("curl_multi_add_handle failed");
  }
  std::optional<CURLcode> result;
  while (!result) {
    int running = 0;
    const CURLMcode mc = api.multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      api.multi_remove_handle(multi.get(), e);
      throw std::runtime_error(std::string("curl_multi_perform: ") + api.multi_strerror(mc));
    }
    int queued = 0;
    while (CURLMsg* msg = api.multi_info_read(multi.get(), &queued)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) {
        result = msg->data.result;
      }
    }
    if (!result && !poll_multi(multi.get(), 1000)) {
      api.multi_remove_handle(multi.get(), e);
      AwsError interrupted(AwsError::Kind::transport, "Interrupted", "interrupted while waiting for the answer", 0,
                           where + ": interrupted");
      interrupted.retryable = true;
      throw interrupted;
    }
  }
  api.multi_remove_handle(multi.get(), e);
  if (state.too_large) {
    AwsError error(AwsError::Kind::transport, "TooLarge", "the answer is larger than " +
                   std::to_string(request.max_body) + " bytes", 0,
                   where + ": the answer is larger than " + std::to_string(request.max_body) + " bytes");
    throw error;
  }
  if (*result != CURLE_OK) {
    const std::string text = state.error[0] != '\0' ? std::string(state.error) : api.easy_strerror(*result);
    AwsError error(AwsError::Kind::transport, api.easy_strerror(*result), text, 0, where + ": " + text);
    error.timed_out = *result == CURLE_OPERATION_TIMEDOUT;
    error.retryable = true;
    throw error;
  }
  api.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &state.response.status);
  return std::move(state.response);
}

} // namespace taskstore::aws
