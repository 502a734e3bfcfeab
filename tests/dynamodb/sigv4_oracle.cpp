// The SigV4 test oracle: hashing and AWS's canonical request, string to sign
// and signature, written from AWS's specification.
#include "dynamodb/sigv4_oracle.hpp"

#include "taskstore/text.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <stdexcept>

namespace taskstore::aws {

// ======================================================================== hashing

std::string
hex_encode(std::string_view bytes)
{
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(k_hex[u >> 4]);
    out.push_back(k_hex[u & 15]);
  }
  return out;
}

std::string
sha256_hex(std::string_view data)
{
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string
hmac_sha256(std::string_view key, std::string_view data)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
           &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// ======================================================================== signing

namespace {

// A header value for the canonical request: trimmed, inner runs of spaces collapsed.
std::string
canonical_header_value(std::string_view value)
{
  value = trim(value);
  std::string out;
  bool in_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      if (!in_space) {
        out.push_back(' ');
      }
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

std::string
canonical_query(std::string_view raw)
{
  std::vector<std::pair<std::string, std::string>> params;
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    const auto item = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (item.empty()) {
      continue;
    }
    const auto eq = item.find('=');
    params.emplace_back(percent_encode(percent_decode_lenient(item.substr(0, eq))),
                        eq == std::string_view::npos ? std::string{}
                                                     : percent_encode(percent_decode_lenient(item.substr(eq + 1))));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) {
      out.push_back('&');
    }
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

} // namespace

Signature
sign_v4(const SigningRequest& request, const Credentials& credentials, std::string_view region,
        std::string_view service, std::string_view amz_date)
{
  const bool date_ok =
    amz_date.size() == 16 && amz_date[8] == 'T' && amz_date[15] == 'Z' &&
    std::all_of(amz_date.begin(), amz_date.begin() + 8, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
    std::all_of(amz_date.begin() + 9, amz_date.begin() + 15, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!date_ok) {
    throw std::invalid_argument("SigV4: the date must be YYYYMMDDTHHMMSSZ, got '" +
                                std::string(amz_date) + "'");
  }
  const std::string_view date = amz_date.substr(0, 8);

  // Headers: lower-case names, sorted; repeated headers joined with ','.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto& slot = headers[ascii_lower(trim(name))];
    if (!slot.empty()) {
      slot.push_back(',');
    }
    slot += canonical_header_value(value);
  }
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) {
      signed_headers.push_back(';');
    }
    signed_headers += name;
  }

  std::string path = request.path.empty() ? std::string("/") : request.path;
  if (service != "s3") {
    path = percent_encode(percent_encode(path, "/"), "/");
  } else {
    path = percent_encode(path, "/");
  }

  Signature out;
  out.signed_headers = signed_headers;
  out.canonical_request = request.method + "\n" + path + "\n" + canonical_query(request.query) +
                          "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                          sha256_hex(request.payload);
  out.credential_scope =
    std::string(date) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + out.credential_scope +
                       "\n" + sha256_hex(out.canonical_request);

  const std::string k_date = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  const std::string k_region = hmac_sha256(k_date, region);
  const std::string k_service = hmac_sha256(k_region, service);
  const std::string k_signing = hmac_sha256(k_service, "aws4_request");
  out.signing_key_hex = hex_encode(k_signing);
  out.signature = hex_encode(hmac_sha256(k_signing, out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
                      out.credential_scope + ", SignedHeaders=" + signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

Authorization
parse_authorization(const std::string& value)
{
  static const std::regex pattern(
    R"(AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64}))");
  std::smatch m;
  if (!std::regex_match(value, m, pattern)) {
    throw std::invalid_argument("not a SigV4 Authorization header: " + value.substr(0, 40));
  }
  Authorization out;
  out.credential = m[1];
  const std::string headers = m[2];
  std::size_t start = 0;
  while (start <= headers.size()) {
    const auto semi = headers.find(';', start);
    out.signed_headers.push_back(headers.substr(start, semi - start));
    if (semi == std::string::npos) {
      break;
    }
    start = semi + 1;
  }
  out.signature = m[3];
  return out;
}

std::string
expected_authorization(const testing::dynamo::CapturedRequest& request, const Credentials& credentials,
                       const std::string& region, const std::string& service)
{
  const auto authorization = request.header("Authorization");
  const auto date = request.header("X-Amz-Date");
  if (!authorization || !date) {
    throw std::invalid_argument("the request has no Authorization or X-Amz-Date header");
  }
  const Authorization auth = parse_authorization(*authorization);
  SigningRequest signing;
  signing.method = request.method;
  const auto question = request.path.find('?');
  signing.path = request.path.substr(0, question);
  signing.query = question == std::string::npos ? std::string() : request.path.substr(question + 1);
  signing.payload = request.body;
  for (const auto& name : auth.signed_headers) {
    const auto value = request.header(name);
    if (!value) {
      throw std::invalid_argument("signed header " + name + " was not sent");
    }
    signing.headers.emplace_back(name, *value);
  }
  return sign_v4(signing, credentials, region, service, *date).authorization;
}

} // namespace taskstore::aws
