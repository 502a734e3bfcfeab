#pragma once
// AWS Signature Version 4, reimplemented for the tests (OpenSSL HMAC/SHA-256).
// The backend signs with libcurl's CURLOPT_AWS_SIGV4; this signer is the
// oracle that the Authorization headers curl sends are checked against, and
// is itself checked against AWS's published examples (docs/dynamodb.md,
// "Signing"). It is not part of the library.

#include "dynamodb/support.hpp"
#include "taskstore/backends/aws_config.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace taskstore::aws {

// ---------------------------------------------------------------- hashing

// Returns the lower-case hex SHA-256 digest of data.
std::string sha256_hex(std::string_view data);

// Returns the raw 32-byte HMAC-SHA-256 of data under key.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Returns bytes as lower-case hex.
std::string hex_encode(std::string_view bytes);

// ---------------------------------------------------------------- signing

// One request as the signer sees it.
struct SigningRequest
{
  std::string method = "POST";
  std::string path = "/";     // the URI path, not yet encoded
  std::string query;          // the raw query string ("a=1&b=2"), "" for none
  // Every header to sign, in any order and case: must include host and x-amz-date.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
};

struct Signature
{
  std::string canonical_request;
  std::string string_to_sign;
  std::string credential_scope; // "20150830/us-east-1/iam/aws4_request"
  std::string signed_headers;   // "content-type;host;x-amz-date"
  std::string signing_key_hex;  // kSigning, hex
  std::string signature;        // hex
  std::string authorization;    // the Authorization header value
};

// Signs request for region and service at amz_date ("20150830T123600Z") with
// AWS's SigV4 rules for every service but S3: header names lower-cased,
// values trimmed with inner runs of spaces collapsed, repeated headers joined
// with ','; query parameters encoded and sorted; each path segment encoded
// twice (no dot-segment normalization). Returns every intermediate value.
// Throws std::invalid_argument when amz_date is not "YYYYMMDDTHHMMSSZ".
Signature sign_v4(const SigningRequest& request, const Credentials& credentials,
                  std::string_view region, std::string_view service, std::string_view amz_date);

// ---------------------------------------------------------------- checking

// The parts of an Authorization header.
struct Authorization
{
  std::string credential;                  // "AKID/20150830/us-east-1/iam/aws4_request"
  std::vector<std::string> signed_headers; // lower case, in the order given
  std::string signature;
};

// Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...";
// throws std::invalid_argument when value is not one.
Authorization parse_authorization(const std::string& value);

// Recomputes, with this signer, the Authorization header a captured request
// should carry: the headers it says it signed, with the values it sent (its
// path split at '?' into path and query). Throws std::invalid_argument when
// the request has no Authorization or X-Amz-Date header, or lacks a header
// it says it signed.
std::string expected_authorization(const testing::dynamo::CapturedRequest& request,
                                   const Credentials& credentials, const std::string& region,
                                   const std::string& service);

} // namespace taskstore::aws
