#pragma once
// libcurl as the AWS code opens it (internal to aws_transport.cpp and
// aws_http.cpp): its entry points, loaded with dlopen on first use, and the
// wait that watches the interrupt fd beside a multi handle's transfers.

#include <curl/curl.h>

namespace taskstore::aws {

// libcurl's entry points, opened with dlopen on the first DynamoDB client
// rather than linked: libcurl's dependency tree (TLS, Kerberos, LDAP, SSH,
// IDN, ...) costs every taskctl run ~7 ms of loading and relocation, and most
// runs never name a DynamoDB store.
struct CurlApi
{
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_perform) multi_perform = nullptr;
  decltype(&::curl_multi_poll) multi_poll = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_multi_strerror) multi_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_version_info) version_info = nullptr;
};

// Returns libcurl's entry points, loading libcurl.so.4 (or Debian's
// libcurl-gnutls.so.4) on the first call; throws StorageError when neither
// loads or the one loaded is older than 7.75 (no CURLOPT_AWS_SIGV4).
const CurlApi& curl();

// Waits in curl_multi_poll for multi's transfers, the interrupt fd beside
// them, at most wait_ms. Returns false when an interrupt is requested.
bool poll_multi(CURLM* multi, int wait_ms);

} // namespace taskstore::aws
