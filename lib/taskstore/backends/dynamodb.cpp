// The dynamodb backend: pmcp-tasks' single-table layout over DynamoDB's JSON
// API (facts §5.3), through aws_transport's libcurl client.
//
// Operations:
//   get            GetItem, ConsistentRead
//   put            one UpdateItem: SET data (+ expires_at / REMOVE it), ADD version 1,
//                  so the version is computed by the server: atomic, one round trip
//                  (conditioned on the version being below u64 max: the maximum)
//   put_if_version PutItem conditioned on the version (attribute_not_exists(PK) for 0)
//   remove         DeleteItem, ReturnValues ALL_OLD
//   remove_if_version DeleteItem conditioned on the version (the actual version
//                  from ALL_OLD on the failed check, else a consistent GetItem)
//   scan           Query (a prefix with ':': one owner) or Scan (every owner, or
//                  an owner-id prefix), ConsistentRead, one page at a time
//   cleanup        the same Query/Scan filtered on expires_at <= now (coarse),
//                  judged precisely on the data's expiresAt by the CleanupDriver,
//                  then concurrent DeleteItems conditioned on the version judged
//
// One backend, one file (DESIGN.md); about 1000 lines because the error
// translation (raise) and the Query/Scan paging stay beside the operations
// that use them. The item layout and the reading of listed items, pure
// functions of the JSON, live in dynamodb_items.* (fuzzed on their own);
// the credentials in aws_*.
#include "taskstore/backends/dynamodb.hpp"

#include "taskstore/backends/aws_config.hpp"
#include "taskstore/backends/aws_credentials.hpp"
#include "taskstore/backends/aws_transport.hpp"
#include "taskstore/backends/dynamodb_items.hpp"
#include "taskstore/error.hpp"
#include "taskstore/key.hpp"
#include "taskstore/text.hpp"
#include "taskstore/time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace taskstore {

namespace {

using nlohmann::json;

constexpr std::string_view k_default_table = "pmcp_tasks";
using dynamodb_detail::key_of;
using dynamodb_detail::read_listed_item;
using dynamodb_detail::string_attribute;
using dynamodb_detail::version_attribute;
constexpr std::string_view k_pk_prefix = dynamodb_detail::pk_prefix;
constexpr std::string_view k_sk_prefix = dynamodb_detail::sk_prefix;
// DynamoDB's item size limit (names + values, UTF-8 bytes).
constexpr std::size_t k_item_limit = 400 * 1024;
// The largest version an item can have; a write past it is refused.
constexpr std::uint64_t k_max_version = std::numeric_limits<std::uint64_t>::max();
// Concurrent DeleteItems of a cleanup.
constexpr std::size_t k_cleanup_in_flight = 16;
constexpr std::size_t k_batch_in_flight = 16; // put_batch: writes in flight

// ------------------------------------------------------------------ settings

struct Settings
{
  std::string table;
  std::string uri;         // redacted, for messages
  aws::ResolvedConfig aws; // credentials, region, endpoint and where they came from
  aws::ClientOptions client;
};

bool
valid_table_name(std::string_view name)
{
  return name.size() >= 3 && name.size() <= 255 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
         });
}

// Validates the URI and resolves the AWS configuration. Throws
// InvalidArgument for the URI, ConfigError for credentials or region.
Settings
configure(const StoreUri& uri, const OpenOptions& options)
{
  const std::string shown = uri.redacted();
  if (uri.scheme != "dynamodb") {
    throw InvalidArgument("invalid dynamodb store URI '" + shown + "': the scheme must be dynamodb");
  }
  uri.require_params({"region", "endpoint", "timeout"});
  if (!uri.user.empty() || uri.password) {
    throw InvalidArgument("invalid dynamodb store URI '" + shown +
                          "': it takes no user or password; credentials come from the AWS "
                          "environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE)");
  }
  if (uri.port) {
    throw InvalidArgument("invalid dynamodb store URI '" + shown +
                          "': dynamodb://TABLE takes no port; give the server as "
                          "?endpoint=http://HOST:PORT");
  }
  std::string table = uri.has_authority ? uri.host : uri.path;
  if (uri.has_authority && !uri.path.empty() && uri.path != "/") {
    throw InvalidArgument("invalid dynamodb store URI '" + shown +
                          "': expected dynamodb://TABLE, with no path after the table name");
  }
  if (table.empty()) {
    table = k_default_table;
  }
  if (!valid_table_name(table)) {
    throw InvalidArgument("invalid dynamodb store URI '" + shown + "': bad table name '" + table +
                          "' (3 to 255 characters from a-z, A-Z, 0-9, '_', '-' and '.')");
  }
  std::chrono::milliseconds timeout = options.timeout;
  if (const auto text = uri.param("timeout")) {
    timeout = std::chrono::milliseconds(parse_duration_ms(*text));
  }
  if (timeout.count() <= 0) {
    throw InvalidArgument("invalid dynamodb store URI '" + shown + "': the timeout must be positive");
  }

  Settings s;
  s.table = table;
  s.uri = shown;
  aws::ConfigRequest request;
  request.service_id = "dynamodb";
  request.region = uri.param("region");
  request.endpoint = uri.param("endpoint");
  request.what = shown;
  s.aws = aws::resolve_config(request);
  s.client.endpoint = s.aws.endpoint;
  s.client.region = s.aws.region;
  s.client.credentials = s.aws.credentials;
  s.client.provider = s.aws.provider;
  s.client.timeout = timeout;
  return s;
}

// ------------------------------------------------------------------ errors

// Throws error with cause nested in it.
template <class Error>
[[noreturn]] void
throw_with_cause(Error error, const aws::AwsError& cause)
{
  try {
    throw std::runtime_error(cause.what());
  } catch (...) {
    std::throw_with_nested(std::move(error));
  }
}

bool
is_credentials_error(std::string_view type)
{
  static constexpr std::string_view k_types[] = {
    "UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
    "MissingAuthenticationToken", "MissingAuthenticationTokenException",
    "IncompleteSignatureException", "ExpiredTokenException", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "NotAuthorized", "UnauthorizedOperation", "AuthFailure"};
  return std::find(std::begin(k_types), std::end(k_types), type) != std::end(k_types);
}

// THE one place where DynamoDB and transport failures become the library's
// errors. context names the operation ("GetItem on key o:t").
//   transport failure, throttling or 5xx after the retries -> StorageError backend, unavailable
//   transport failure that retrying cannot fix (TLS verification, bad URL) -> ConfigError
//   ResourceNotFoundException                               -> ConfigError (no such table)
//   credential / signature / permission errors              -> ConfigError
//   ValidationException about the item size                 -> StorageError capacity_exceeded
//   anything else                                           -> StorageError backend
[[noreturn]] void
raise(const aws::AwsError& e, const Settings& s, const std::string& context)
{
  const std::string where = "DynamoDB " + context + " (table " + s.table + ", region " +
                            s.aws.region + ", endpoint " + StoreUri::redact_text(s.aws.endpoint) + ")";
  const std::string attempts =
    e.attempts > 1 ? " after " + std::to_string(e.attempts) + " attempts" : std::string{};
  if (e.kind == aws::AwsError::Kind::transport) {
    if (!e.retryable) {
      throw_with_cause(ConfigError("cannot reach " + where + ": " + e.message), e);
    }
    throw_with_cause(StorageError::backend(where + " is unavailable" + attempts + ": " +
                                             (e.timed_out ? "timed out: " : "") + e.message,
                                           true),
                     e);
  }
  if (e.type == "ResourceNotFoundException") {
    throw_with_cause(ConfigError("DynamoDB table " + s.table + " does not exist in region " +
                                 s.aws.region + " at " + StoreUri::redact_text(s.aws.endpoint) +
                                 " (the region comes from " + s.aws.region_source + ")"),
                     e);
  }
  if (is_credentials_error(e.type)) {
    throw_with_cause(ConfigError("DynamoDB refused the credentials from " +
                                 s.aws.credentials.source + " for " + where + ": " + e.type +
                                 (e.message.empty() ? "" : ": " + e.message)),
                     e);
  }
  if (e.type == "ValidationException" && e.message.find("size") != std::string::npos &&
      e.message.find("exceeded") != std::string::npos) {
    throw_with_cause(StorageError::capacity_exceeded(context + ": the item exceeds DynamoDB's " +
                                                     "400 KB item size limit (" + e.message + ")"),
                     e);
  }
  if (e.retryable || e.throttled) {
    throw_with_cause(StorageError::backend(where + " is unavailable" + attempts + ": " + e.type +
                                             (e.message.empty() ? "" : ": " + e.message),
                                           true),
                     e);
  }
  throw_with_cause(StorageError::backend(where + " failed: " + e.type +
                                         (e.message.empty() ? "" : ": " + e.message)),
                   e);
}

// ------------------------------------------------------------------ items

// Throws StorageError backend ("data is not valid UTF-8: ...", as the anchor)
// when data cannot be a DynamoDB string.
void
require_utf8_data(std::string_view data)
{
  if (const auto fault = check_utf8(data)) {
    throw StorageError::backend("data is not valid UTF-8: " + fault->message);
  }
}

// Throws InvalidArgument when a key or prefix is not valid UTF-8.
void
require_utf8_key(std::string_view key, std::string_view what)
{
  if (const auto fault = check_utf8(key)) {
    throw InvalidArgument("invalid " + std::string(what) + ": DynamoDB keys must be valid UTF-8 (" +
                          fault->message + ")");
  }
}

struct ItemKey
{
  std::string pk;
  std::string sk;
};

// "owner:task" -> {"OWNER#owner", "TASK#task"}. Throws InvalidArgument for a
// key without ':' or that is not UTF-8.
ItemKey
item_key(std::string_view key)
{
  require_utf8_key(key, "key");
  const KeyParts parts = split_key(key);
  return ItemKey{std::string(k_pk_prefix) + parts.owner_id, std::string(k_sk_prefix) + parts.task_id};
}

json
string_value(std::string_view s)
{
  return json{{"S", std::string(s)}};
}

json
number_value(std::uint64_t n)
{
  return json{{"N", std::to_string(n)}};
}

json
number_value(std::int64_t n)
{
  return json{{"N", std::to_string(n)}};
}

// Throws capacity_exceeded for a write to key, which is at k_max_version.
[[noreturn]] void
throw_at_max(std::string_view key)
{
  throw version_limit_error(key, k_max_version, "the dynamodb backend");
}

json
key_document(const ItemKey& k)
{
  return json{{"PK", string_value(k.pk)}, {"SK", string_value(k.sk)}};
}

// The DynamoDB size of an item we write, as a lower bound: attribute names
// plus UTF-8 string bytes plus one byte per number (DynamoDB counts numbers at
// roughly one byte per two digits plus one).
std::size_t
item_size_lower_bound(const ItemKey& k, std::string_view data, bool with_expiry)
{
  std::size_t size = 2 + k.pk.size() + 2 + k.sk.size() + 7 + 1 + 4 + data.size();
  if (with_expiry) {
    size += 10 + 1;
  }
  return size;
}

// Throws capacity_exceeded before sending an item DynamoDB would refuse.
void
require_item_size(std::string_view key, const ItemKey& k, std::string_view data, bool with_expiry)
{
  const std::size_t size = item_size_lower_bound(k, data, with_expiry);
  if (size > k_item_limit) {
    throw StorageError::capacity_exceeded(
      "record " + std::string(key) + " is " + std::to_string(size) +
      " bytes as a DynamoDB item, over DynamoDB's item size limit of 400 KB (" +
      std::to_string(k_item_limit) + " bytes)");
  }
}

// ------------------------------------------------------------------ the backend

// What a Query or Scan page request is for.
struct Listing
{
  std::string prefix;                 // as given to scan / cleanup
  std::optional<std::int64_t> expired_by; // cleanup: only items with expires_at <= this
  std::string start_after;            // scan: resume after this key ("" = from the start)
  bool keys_only = false;             // scan: read PK and SK only
  std::function<bool()> should_stop;  // scan: polled before each page (true: the listing ends)
};

class DynamoBackend final : public StorageBackend
{
public:
  explicit DynamoBackend(Settings settings)
    : m_s(std::move(settings))
    , m_pool(m_s.client)
  {
  }

  VersionedRecord
  get(std::string_view key) override
  {
    const ItemKey k = item_key(key);
    const json response = call("GetItem",
                               json{{"TableName", m_s.table},
                                    {"Key", key_document(k)},
                                    {"ConsistentRead", true}},
                               "GetItem on key " + std::string(key));
    const auto item = response.find("Item");
    if (item == response.end() || !item->is_object() || item->empty()) {
      throw StorageError::not_found(std::string(key));
    }
    return record_of(*item, key);
  }

  std::uint64_t
  put(std::string_view key, std::string_view data) override
  {
    const ItemKey k = item_key(key);
    require_utf8_data(data);
    const auto expires = extract_expires_at(data);
    require_item_size(key, k, data, expires.has_value());
    // One UpdateItem: the server adds 1 to the stored version (0 when the
    // item is new), so racing puts never get the same version. Its condition
    // refuses an item at the maximum version, atomically: nothing is written.
    json request{{"TableName", m_s.table},
                 {"Key", key_document(k)},
                 {"ExpressionAttributeNames", {{"#d", "data"}, {"#v", "version"}, {"#e", "expires_at"}}},
                 {"ConditionExpression", "attribute_not_exists(#v) OR #v < :max"},
                 {"ReturnValues", "UPDATED_NEW"},
                 {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
    json values{{":d", string_value(data)},
                {":one", number_value(std::uint64_t{1})},
                {":max", number_value(k_max_version)}};
    if (expires) {
      request["UpdateExpression"] = "SET #d = :d, #e = :e ADD #v :one";
      values[":e"] = number_value(expires->seconds);
    } else {
      request["UpdateExpression"] = "SET #d = :d ADD #v :one REMOVE #e";
    }
    request["ExpressionAttributeValues"] = std::move(values);
    const std::string context = "UpdateItem on key " + std::string(key);
    json response;
    try {
      response = m_pool.acquire()->call("UpdateItem", request);
    } catch (const aws::AwsError& e) {
      if (e.type != "ConditionalCheckFailedException") {
        raise(e, m_s, context);
      }
      // A retried attempt may fail only because an earlier attempt (whose
      // answer was lost) already wrote the last version: then the item is ours.
      const json current = item_after_failed_check(e, k, key);
      if (e.attempts > 1 && version_attribute(current) == k_max_version) {
        if (const std::string* stored = string_attribute(current, "data"); stored != nullptr && *stored == data) {
          return k_max_version;
        }
      }
      throw_at_max(key);
    }
    const auto attributes = response.find("Attributes");
    std::optional<std::uint64_t> version;
    if (attributes != response.end() && attributes->is_object()) {
      version = version_attribute(*attributes);
    }
    if (!version) {
      throw StorageError::backend("DynamoDB UpdateItem on key " + std::string(key) +
                                  " returned no numeric version attribute");
    }
    return *version;
  }

  std::uint64_t
  put_if_version(std::string_view key, std::string_view data, std::uint64_t expected) override
  {
    const ItemKey k = item_key(key);
    require_utf8_data(data);
    if (expected == k_max_version) {
      throw_at_max(key); // refused before sending: the write would give the item version max + 1
    }
    const auto expires = extract_expires_at(data);
    require_item_size(key, k, data, expires.has_value());
    json item{{"PK", string_value(k.pk)},
              {"SK", string_value(k.sk)},
              {"version", number_value(expected + 1)},
              {"data", string_value(data)}};
    if (expires) {
      item["expires_at"] = number_value(expires->seconds);
    }
    json request{{"TableName", m_s.table},
                 {"Item", std::move(item)},
                 {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
    if (expected == 0) {
      request["ConditionExpression"] = "attribute_not_exists(PK)";
    } else {
      request["ConditionExpression"] = "#v = :expected";
      request["ExpressionAttributeNames"] = json{{"#v", "version"}};
      request["ExpressionAttributeValues"] = json{{":expected", number_value(expected)}};
    }
    const std::string context = "PutItem on key " + std::string(key);
    try {
      m_pool.acquire()->call("PutItem", request);
      return expected + 1;
    } catch (const aws::AwsError& e) {
      if (e.type != "ConditionalCheckFailedException") {
        raise(e, m_s, context);
      }
      const json current = item_after_failed_check(e, k, key);
      const std::uint64_t actual = current.empty() ? 0 : version_attribute(current).value_or(0);
      // A retried attempt may fail only because an earlier attempt (whose
      // answer was lost) already wrote: then the item is ours.
      if (e.attempts > 1 && actual == expected + 1) {
        if (const std::string* stored = string_attribute(current, "data");
            stored != nullptr && *stored == data) {
          return expected + 1;
        }
      }
      throw StorageError::version_conflict(std::string(key), expected, actual);
    }
  }

  // The writes run as put and put_if_version do (each one request with its
  // own retries), k_batch_in_flight at a time on leased clients.
  std::vector<BatchResult>
  put_batch(const std::vector<BatchWrite>& writes) override
  {
    std::vector<BatchResult> out(writes.size());
    std::atomic<std::size_t> next{0};
    const auto work = [&] {
      for (std::size_t i = next++; i < writes.size(); i = next++) {
        try {
          out[i].version = writes[i].if_absent ? put_if_version(writes[i].key, writes[i].data, 0)
                                               : put(writes[i].key, writes[i].data);
        } catch (const StorageError& e) {
          if (!(writes[i].if_absent && e.kind() == StorageErrorKind::version_conflict)) {
            out[i].error = std::current_exception();
          }
        } catch (...) {
          out[i].error = std::current_exception();
        }
      }
    };
    std::vector<std::future<void>> workers;
    const std::size_t n = std::min(writes.size(), k_batch_in_flight);
    for (std::size_t w = 1; w < n; ++w) {
      workers.push_back(std::async(std::launch::async, work));
    }
    work();
    for (auto& f : workers) {
      f.get();
    }
    return out;
  }

  bool
  remove(std::string_view key) override
  {
    const ItemKey k = item_key(key);
    const json response = call("DeleteItem",
                               json{{"TableName", m_s.table},
                                    {"Key", key_document(k)},
                                    {"ReturnValues", "ALL_OLD"}},
                               "DeleteItem on key " + std::string(key));
    const auto attributes = response.find("Attributes");
    return attributes != response.end() && attributes->is_object() && !attributes->empty();
  }

  // One DeleteItem conditioned on the version (as cleanup's), atomic on the
  // server. On ConditionalCheckFailed the actual version comes from the item
  // DynamoDB returned (ReturnValuesOnConditionCheckFailure ALL_OLD), else
  // (servers without it, e.g. dynalite) from a consistent read; should that
  // read find the expected version (written after the failed check), the
  // delete is tried again (3 tries in all), so a conflict reports
  // actual == expected only when that happened every time.
  void
  remove_if_version(std::string_view key, std::uint64_t expected) override
  {
    const ItemKey k = item_key(key);
    check_removal_version(key, expected);
    const json request{{"TableName", m_s.table},
                       {"Key", key_document(k)},
                       {"ConditionExpression", "#v = :expected"},
                       {"ExpressionAttributeNames", {{"#v", "version"}}},
                       {"ExpressionAttributeValues", {{":expected", number_value(expected)}}},
                       {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
    const std::string context = "DeleteItem on key " + std::string(key);
    constexpr int k_tries = 3;
    std::uint64_t actual = 0;
    for (int attempt = 1; attempt <= k_tries; ++attempt) {
      try {
        m_pool.acquire()->call("DeleteItem", request);
        return;
      } catch (const aws::AwsError& e) {
        if (e.type != "ConditionalCheckFailedException") {
          raise(e, m_s, context);
        }
        const json current = item_after_failed_check(e, k, key);
        actual = current.empty() ? 0 : version_attribute(current).value_or(0);
        // A retried request may fail only because an earlier attempt (whose
        // answer was lost) already deleted the item: then the removal is ours.
        if (e.attempts > 1 && actual == 0) {
          return;
        }
      }
      if (actual != expected) {
        break;
      }
    }
    throw StorageError::version_conflict(std::string(key), expected, actual);
  }

  void
  do_scan(const ScanOptions& options, const ScanVisitor& visit, const DamageVisitor& damaged) override
  {
    Listing listing{options.prefix, std::nullopt, options.start_after, options.keys_only, options.should_stop};
    // A Query (one owner) walks key order, and DynamoDB refuses a start key
    // outside its key condition; a Scan resumes after any key.
    if (options.prefix.find(':') != std::string::npos && !options.start_after.empty() &&
        !options.start_after.starts_with(options.prefix)) {
      if (options.start_after > options.prefix) {
        return; // after every key of the Query
      }
      listing.start_after.clear(); // before every key of the Query
    }
    const VersionedRecord no_record;
    for_each_page(listing, [&](const json& items) {
      for (const auto& item : items) {
        if (options.keys_only) {
          const auto key = key_of(item);
          if (key && !visit(*key, no_record)) {
            return false;
          }
          continue;
        }
        const auto listed = read_listed_item(item);
        if (!listed.key) {
          continue; // not an item of this layout (as the anchor: skipped)
        }
        if (listed.record) {
          if (!visit(*listed.key, *listed.record)) {
            return false;
          }
        } else if (damaged && !damaged(DamagedRecord{*listed.key, listed.damage})) {
          return false;
        }
      }
      return true;
    });
  }

  std::string_view
  name() const override
  {
    return "dynamodb";
  }

protected:
  // The driver judges each listed item by its data's expiresAt (the listing's
  // expires_at filter is only coarse), counts and reports. It is flushed every
  // k_cleanup_in_flight expired items (one window of concurrent DeleteItems)
  // and at the end of each page, so each removal is reported before more than
  // one window of others is sent; the next page is prefetched meanwhile.
  std::size_t
  do_cleanup_expired(const CleanupOptions& options) override
  {
    std::vector<json> requests;
    std::vector<bool> removed;
    CleanupDriver driver(options, [&](std::vector<ExpiredRecord>& records) {
      // Delete each only if it still has the version that was judged, so a
      // record refreshed meanwhile survives; 16 requests in flight.
      requests.clear();
      for (const auto& r : records) {
        requests.push_back(json{{"TableName", m_s.table},
                                {"Key", key_document(item_key(r.key))},
                                {"ConditionExpression", "#v = :v"},
                                {"ExpressionAttributeNames", {{"#v", "version"}}},
                                {"ExpressionAttributeValues", {{":v", number_value(r.version)}}}});
      }
      removed.assign(records.size(), false);
      m_pool.acquire()->call_many("DeleteItem", requests, k_cleanup_in_flight,
                                  [&](std::size_t index, aws::JsonClient::Outcome&& outcome) {
                                    if (!outcome.ok()) {
                                      if (outcome.error->type == "ConditionalCheckFailedException") {
                                        return; // rewritten or removed meanwhile
                                      }
                                      raise(*outcome.error, m_s, "DeleteItem on key " + records[index].key);
                                    }
                                    removed[index] = true;
                                  });
      std::size_t kept = 0;
      for (std::size_t i = 0; i < records.size(); ++i) {
        if (removed[i]) {
          if (kept != i) {
            records[kept] = std::move(records[i]);
          }
          ++kept;
        }
      }
      records.erase(records.begin() + static_cast<std::ptrdiff_t>(kept), records.end());
    });
    // A damaged item has no version to judge (nor, often, an expires_at for
    // the coarse filter), so remove_damaged walks every item.
    const Listing listing{options.prefix,
                          options.remove_damaged ? std::nullopt : std::optional<std::int64_t>(options.now.seconds),
                          {}, false, {}};
    std::vector<DamagedRecord> damaged;
    for_each_page(listing, [&](const json& items) {
      for (const auto& item : items) {
        const auto listed = read_listed_item(item);
        if (!listed.key) {
          continue;
        }
        if (!listed.record) {
          damaged.push_back(DamagedRecord{*listed.key, listed.damage});
        } else if (driver.offer(*listed.key, listed.record->version, listed.record->data) &&
                   driver.pending() >= k_cleanup_in_flight) {
          driver.flush();
          if (driver.stop_requested()) {
            settle_damaged(options, damaged);
            return false;
          }
        }
      }
      driver.flush();
      settle_damaged(options, damaged);
      return !driver.stop_requested();
    });
    return driver.removed();
  }

private:
  // Reports the damaged items of a cleanup page to on_damaged; with
  // remove_damaged (not a dry run) removes each first, on condition that it
  // is still damaged (no version N from 1, or no data S; a version beyond
  // u64 max is not caught by the condition and survives).
  void
  settle_damaged(const CleanupOptions& options, std::vector<DamagedRecord>& damaged)
  {
    for (const DamagedRecord& d : damaged) {
      bool removed = options.remove_damaged && options.dry_run;
      if (options.remove_damaged && !options.dry_run) {
        const json request{
          {"TableName", m_s.table},
          {"Key", key_document(item_key(d.key))},
          {"ConditionExpression", "attribute_exists(PK) AND (attribute_not_exists(#v) OR NOT attribute_type(#v, :n) "
                                  "OR #v < :one OR attribute_not_exists(#d) OR NOT attribute_type(#d, :s))"},
          {"ExpressionAttributeNames", {{"#v", "version"}, {"#d", "data"}}},
          {"ExpressionAttributeValues", {{":n", string_value("N")}, {":s", string_value("S")}, {":one", number_value(std::uint64_t{1})}}}};
        try {
          m_pool.acquire()->call("DeleteItem", request);
          removed = true;
        } catch (const aws::AwsError& e) {
          if (e.type != "ConditionalCheckFailedException") {
            raise(e, m_s, "DeleteItem on key " + d.key);
          }
        }
      }
      if (options.on_damaged && (removed || !options.remove_damaged)) {
        options.on_damaged(d, removed);
      }
    }
    damaged.clear();
  }

  // client.call, with failures translated.
  json
  call(std::string_view operation, const json& request, const std::string& context)
  {
    try {
      return m_pool.acquire()->call(operation, request);
    } catch (const aws::AwsError& e) {
      raise(e, m_s, context);
    }
  }

  // The item as it was when a conditional write or delete failed its check:
  // the one DynamoDB returned (ReturnValuesOnConditionCheckFailure ALL_OLD),
  // else (servers without it, e.g. dynalite) a consistent read; an empty
  // object when absent.
  json
  item_after_failed_check(const aws::AwsError& e, const ItemKey& k, std::string_view key)
  {
    if (e.body.is_object()) {
      if (const auto it = e.body.find("Item"); it != e.body.end() && it->is_object()) {
        return *it;
      }
    }
    return read_item(k, key);
  }

  // The item, consistently read; an empty object when absent.
  json
  read_item(const ItemKey& k, std::string_view key)
  {
    const json response = call("GetItem",
                               json{{"TableName", m_s.table},
                                    {"Key", key_document(k)},
                                    {"ConsistentRead", true}},
                               "GetItem on key " + std::string(key));
    const auto item = response.find("Item");
    return item != response.end() && item->is_object() ? *item : json::object();
  }


  // The record of an item get() read; throws backend errors (as the anchor's
  // messages) when version or data are missing or of the wrong type.
  static VersionedRecord
  record_of(const json& item, std::string_view key)
  {
    const auto version = version_attribute(item);
    if (!version) {
      throw StorageError::backend("missing or invalid version attribute for key " + std::string(key));
    }
    const std::string* data = string_attribute(item, "data");
    if (data == nullptr) {
      throw StorageError::backend("missing or invalid data attribute for key " + std::string(key));
    }
    return VersionedRecord{*data, *version};
  }

  // Runs the Query or Scan a listing needs, page after page (each at most
  // 1 MB, DynamoDB's page size), calling on_page with each page's Items until
  // it returns false or the pages run out. A prefix with ':' names one owner:
  // Query its partition (begins_with on SK for the task-id part). A prefix
  // without ':' (or "") is an owner-id prefix: Scan with a filter on PK.
  void
  for_each_page(const Listing& listing, const std::function<bool(const json& items)>& on_page)
  {
    require_utf8_key(listing.prefix, "prefix");
    json request{{"TableName", m_s.table}, {"ConsistentRead", true}};
    json names{{"#v", "version"}, {"#d", "data"}};
    json values = json::object();
    std::string operation;
    std::string filter;
    const auto colon = listing.prefix.find(':');
    if (colon != std::string::npos) {
      operation = "Query";
      values[":pk"] = string_value(std::string(k_pk_prefix) + listing.prefix.substr(0, colon));
      values[":sk"] = string_value(std::string(k_sk_prefix) + listing.prefix.substr(colon + 1));
      request["KeyConditionExpression"] = "PK = :pk AND begins_with(SK, :sk)";
    } else {
      operation = "Scan";
      values[":pk"] = string_value(std::string(k_pk_prefix) + listing.prefix);
      values[":sk"] = string_value(k_sk_prefix);
      filter = "begins_with(PK, :pk) AND begins_with(SK, :sk)";
    }
    if (listing.expired_by) {
      // The expired items, and the damaged ones (no version N or no data S)
      // so that cleanup reports them: the filter runs server-side at no
      // extra read cost.
      names["#e"] = "expires_at";
      values[":now"] = number_value(*listing.expired_by);
      values[":n"] = string_value("N");
      values[":s"] = string_value("S");
      const std::string expired =
        "(#e <= :now OR attribute_not_exists(#v) OR NOT attribute_type(#v, :n) OR attribute_not_exists(#d) OR "
        "NOT attribute_type(#d, :s))";
      filter += filter.empty() ? expired : " AND " + expired;
    }
    if (!filter.empty()) {
      request["FilterExpression"] = filter;
    }
    if (listing.keys_only) {
      request["ProjectionExpression"] = "PK, SK";
      names.erase("#v");
      names.erase("#d");
      if (!names.empty()) {
        request["ExpressionAttributeNames"] = std::move(names);
      }
    } else {
      request["ProjectionExpression"] = "PK, SK, #v, #d";
      request["ExpressionAttributeNames"] = std::move(names);
    }
    if (!listing.start_after.empty()) {
      // Scan and Query both resume after any key of the table, present or not.
      request["ExclusiveStartKey"] = key_document(item_key(listing.start_after));
    }
    request["ExpressionAttributeValues"] = std::move(values);
    const std::string context =
      operation + (listing.prefix.empty() ? std::string(" of every owner")
                                          : " for prefix \"" + listing.prefix + "\"");
    // The next page is fetched (on another thread, with its own leased
    // client) while on_page handles the current one: at most two pages in
    // memory, and the page round trips overlap the visitor's or the
    // cleanup's own work.
    const auto fetch = [this, operation, context](json page_request) {
      return std::async(std::launch::async, [this, operation, context, page_request = std::move(page_request)] {
        return call(operation, page_request, context);
      });
    };
    if (listing.should_stop && listing.should_stop()) {
      return;
    }
    json response = call(operation, request, context);
    for (;;) {
      std::future<json> next;
      const auto last = response.find("LastEvaluatedKey");
      const bool more = last != response.end() && last->is_object() && !last->empty();
      if (more) {
        request["ExclusiveStartKey"] = std::move(*last);
        next = fetch(request);
      }
      const auto items = response.find("Items");
      if (items != response.end() && items->is_array() && !items->empty()) {
        if (!on_page(*items)) {
          return; // (an abandoned prefetch finishes in next's destructor)
        }
      }
      if (!more || (listing.should_stop && listing.should_stop())) {
        return; // (an abandoned prefetch finishes in next's destructor)
      }
      response = next.get();
    }
  }

  Settings m_s;
  aws::ClientPool m_pool;
};

// A client for the table operations of create/delete_dynamodb_table.
struct TableAdmin
{
  Settings s;
  aws::JsonClient client;

  TableAdmin(const StoreUri& uri, const OpenOptions& options)
    : s(configure(uri, options))
    , client(s.client)
  {
  }

  // DescribeTable's Table, or nullopt when the table does not exist.
  std::optional<json> describe()
  {
    try {
      json response = client.call("DescribeTable", json{{"TableName", s.table}});
      const auto table = response.find("Table");
      if (table == response.end() || !table->is_object()) {
        throw StorageError::backend("DynamoDB DescribeTable of table " + s.table +
                                    " returned no Table");
      }
      return *table;
    } catch (const aws::AwsError& e) {
      if (e.type == "ResourceNotFoundException") {
        return std::nullopt;
      }
      raise(e, s, "DescribeTable");
    }
  }

  // Polls until done(describe()) is true; throws StorageError (unavailable)
  // after five minutes.
  void wait_for(const std::function<bool(const std::optional<json>&)>& done, const std::string& what)
  {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    auto pause = std::chrono::milliseconds(50);
    for (;;) {
      if (done(describe())) {
        return;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        throw StorageError::backend("DynamoDB table " + s.table + " did not become " + what +
                                      " within 5 minutes",
                                    true);
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(2000));
    }
  }
};

} // namespace

std::string
dynamodb_library_version()
{
  return aws::curl_library_version();
}

StoreIdentity
dynamodb_identity(const StoreUri& uri, const OpenOptions& options)
{
  const Settings s = configure(uri, options);
  const aws::Credentials& c = s.aws.credentials;
  StoreIdentity out;
  out.backend = "dynamodb";
  out.facts.emplace_back("credentials", c.source);
  out.facts.emplace_back("access_key_id", mask_key_id(c.access_key_id));
  if (c.expiration) {
    const auto left = std::chrono::duration_cast<std::chrono::minutes>(*c.expiration - std::chrono::system_clock::now());
    out.facts.emplace_back("expires", aws::format_iso8601(*c.expiration) + " (in " + std::to_string(left.count()) +
                                        " min; refreshed before then)");
  } else {
    out.facts.emplace_back("expires", c.session_token ? "unknown (a session token without an expiry)"
                                                      : "never (long-term keys)");
  }
  if (!c.identity.empty()) {
    out.facts.emplace_back("identity", c.identity);
  }
  out.facts.emplace_back("profile", s.aws.profile);
  out.facts.emplace_back("region", s.aws.region);
  out.facts.emplace_back("region_source", s.aws.region_source);
  out.facts.emplace_back("endpoint", s.aws.endpoint);
  out.facts.emplace_back("endpoint_source", s.aws.endpoint_source);
  out.tried = s.aws.provider->tried();
  return out;
}

std::unique_ptr<StorageBackend>
open_dynamodb(const StoreUri& uri, const OpenOptions& options)
{
  // create_if_missing is not honoured: creating a table is a deliberate act
  // (it has a cost and permissions of its own), see create_dynamodb_table.
  return std::make_unique<DynamoBackend>(configure(uri, options));
}

void
create_dynamodb_table(const StoreUri& uri, const OpenOptions& options)
{
  TableAdmin admin(uri, options);
  const json request{
    {"TableName", admin.s.table},
    {"AttributeDefinitions",
     json::array({json{{"AttributeName", "PK"}, {"AttributeType", "S"}},
                  json{{"AttributeName", "SK"}, {"AttributeType", "S"}}})},
    {"KeySchema", json::array({json{{"AttributeName", "PK"}, {"KeyType", "HASH"}},
                               json{{"AttributeName", "SK"}, {"KeyType", "RANGE"}}})},
    {"BillingMode", "PAY_PER_REQUEST"}};
  try {
    admin.client.call("CreateTable", request);
  } catch (const aws::AwsError& e) {
    if (e.type != "ResourceInUseException") {
      raise(e, admin.s, "CreateTable");
    }
    // It exists (or is being created): check its key schema below.
  }
  std::optional<json> table;
  admin.wait_for(
    [&](const std::optional<json>& t) {
      table = t;
      return t && t->value("TableStatus", "") == "ACTIVE";
    },
    "ACTIVE");
  const json expected_schema = request["KeySchema"];
  if (table->value("KeySchema", json::array()) != expected_schema) {
    throw ConfigError("DynamoDB table " + admin.s.table + " exists with key schema " +
                      table->value("KeySchema", json::array()).dump() +
                      ", not pmcp-tasks' (PK hash key, SK range key)");
  }
  // DynamoDB's own TTL deletes items after expires_at, as pmcp-tasks expects.
  try {
    admin.client.call("UpdateTimeToLive",
                      json{{"TableName", admin.s.table},
                           {"TimeToLiveSpecification",
                            {{"AttributeName", "expires_at"}, {"Enabled", true}}}});
  } catch (const aws::AwsError& e) {
    const bool unsupported = e.type == "UnknownOperationException";  // e.g. dynalite
    const bool already = e.type == "ValidationException" &&
                         e.message.find("already enabled") != std::string::npos;
    if (!unsupported && !already) {
      raise(e, admin.s, "UpdateTimeToLive");
    }
  }
}

bool
delete_dynamodb_table(const StoreUri& uri, const OpenOptions& options)
{
  TableAdmin admin(uri, options);
  try {
    admin.client.call("DeleteTable", json{{"TableName", admin.s.table}});
  } catch (const aws::AwsError& e) {
    if (e.type == "ResourceNotFoundException") {
      return false;
    }
    raise(e, admin.s, "DeleteTable");
  }
  admin.wait_for([](const std::optional<json>& t) { return !t.has_value(); }, "deleted");
  return true;
}

} // namespace taskstore
