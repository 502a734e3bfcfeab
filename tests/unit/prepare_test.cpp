#include "taskstore/error.hpp"
#include "support/fixtures.hpp"
#include "taskstore/prepare.hpp"

#include <catch2/catch.hpp>

#include "taskstore/registry.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

using namespace taskstore;
using namespace taskstore::testing;

namespace {

const std::string& k_pretty = k_completed_record_pretty;
const std::string& k_compact = k_completed_record;
const std::string k_key = "user-123:786512e2-9e0d-44bd-8f29-789f320fe840";

std::string
with(std::string text, const std::string& from, const std::string& to)
{
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

bool
has(const PreparedRecord& p, const std::string& pointer, Rule rule)
{
  return std::any_of(p.violations.begin(), p.violations.end(),
                     [&](const Violation& v) { return v.pointer == pointer && v.rule == rule; });
}

} // namespace

TEST_CASE("prepare_record: a valid record becomes the canonical bytes")
{
  const auto p = prepare_record(k_key, k_pretty, StoreConfig{});
  REQUIRE(p.ok());
  CHECK(p.bytes == k_compact);
  REQUIRE(p.record);
  CHECK(p.record->task.status == TaskStatus::completed);
  CHECK(p.record->owner_id == "user-123");
  CHECK(p.unknown_fields.empty());
  // Idempotent on its own output.
  CHECK(prepare_record(k_key, p.bytes, StoreConfig{}).bytes == k_compact);
}

TEST_CASE("prepare_record: unknown fields are warnings and are not stored")
{
  auto text = with(k_pretty, "\"ownerId\": \"user-123\",", "\"ownerId\": \"user-123\", \"version\": 7, \"extra\": {},");
  text = with(text, "\"ttl\": 3600000,", "\"ttl\": 3600000, \"color\": \"red\",");
  const auto p = prepare_record(k_key, text, StoreConfig{});
  REQUIRE(p.ok());
  CHECK(p.bytes == k_compact);
  CHECK(p.unknown_fields == std::vector<std::string>{"/version", "/extra", "/task/color"});
}

TEST_CASE("prepare_record: the record must match its key")
{
  const auto p = prepare_record("other:786512e2-9e0d-44bd-8f29-789f320fe840", k_pretty, StoreConfig{});
  CHECK_FALSE(p.ok());
  CHECK(p.total_violations == 1);
  REQUIRE(p.violations.size() == 1);
  CHECK(p.violations[0].pointer == "/ownerId");
  CHECK(p.violations[0].message == "ownerId \"user-123\" does not match the key's owner \"other\"");
  CHECK(p.bytes.empty());

  const auto q = prepare_record("other:t2", k_pretty, StoreConfig{});
  CHECK(q.total_violations == 2);
  CHECK(has(q, "/task/taskId", Rule::schema));

  CHECK_THROWS_AS(prepare_record("no-colon", k_pretty, StoreConfig{}), InvalidArgument);
}

TEST_CASE("prepare_record: every problem is reported with its pointer")
{
  SECTION("syntax")
  {
    const auto p = prepare_record(k_key, "{\"task\":", StoreConfig{});
    CHECK_FALSE(p.ok());
    REQUIRE(p.syntax_error_at);
    CHECK(p.violations.at(0).rule == Rule::syntax);
  }
  SECTION("schema")
  {
    const auto p = prepare_record(k_key, with(k_pretty, "\"completed\"", "\"done\""), StoreConfig{});
    CHECK_FALSE(p.ok());
    CHECK(has(p, "/task/status", Rule::schema));
  }
  SECTION("limits")
  {
    StoreConfig limits;
    limits.max_string_length = 4;
    const auto p = prepare_record(k_key, k_pretty, limits);
    CHECK_FALSE(p.ok());
    CHECK(has(p, "/variables/tool_name", Rule::string_length));
    CHECK(has(p, "/variables/arguments/path", Rule::string_length));
    CHECK(p.total_violations == 2);
  }
  SECTION("serde_json's recursion limit: a result may hold 126 nested arrays, not 127")
  {
    const auto fits = with(k_pretty, "{\"answer\": 42}", std::string(126, '[') + std::string(126, ']'));
    CHECK(prepare_record(k_key, fits, StoreConfig{}).ok());
    const auto deep = with(k_pretty, "{\"answer\": 42}", std::string(127, '[') + std::string(127, ']'));
    const auto p = prepare_record(k_key, deep, StoreConfig{});
    CHECK_FALSE(p.ok());
    REQUIRE(p.violations.size() == 1);
    CHECK(p.violations[0].rule == Rule::depth);
    CHECK(p.violations[0].actual == 128);
    CHECK(p.violations[0].limit == 127);
    CHECK(p.violations[0].pointer == "/result" + std::string("/0").append(std::string()).substr(0, 0) +
                                       [] { std::string s; for (int i = 0; i < 126; ++i) s += "/0"; return s; }());
  }
  SECTION("an unknown field is not read by serde, so not depth-limited (below taskctl's 512)")
  {
    auto deep = with(k_pretty, "\"ownerId\"", "\"zz\": " + std::string(300, '[') + std::string(300, ']') + ", \"ownerId\"");
    const auto p = prepare_record(k_key, deep, StoreConfig{});
    CHECK(p.ok());
    CHECK(p.bytes == k_compact);
    deep = with(k_pretty, "\"ownerId\"", "\"zz\": " + std::string(600, '[') + std::string(600, ']') + ", \"ownerId\"");
    const auto q = prepare_record(k_key, deep, StoreConfig{});
    CHECK_FALSE(q.ok());
    CHECK(q.violations.at(0).limit == 512);
  }
}

TEST_CASE("check_stored_record: the validator's report plus the key match")
{
  ValidateOptions options;
  CHECK(check_stored_record(k_key, k_compact, options).ok());
  const auto r = check_stored_record("user-9:786512e2-9e0d-44bd-8f29-789f320fe840", k_compact, options);
  CHECK_FALSE(r.ok());
  REQUIRE(r.violations.size() == 1);
  CHECK(r.violations[0].pointer == "/ownerId");
  const auto broken = check_stored_record(k_key, "not json", options);
  CHECK(broken.syntax_error_at);
}

// ---- generated round trips against a serde model of the test's own ----

namespace {

// serde_json's layout of a double, written here independently of the
// library: the shortest digits (std::to_chars), then fixed notation for
// decimal exponents -5..15 and "d.ddde+X" / "de-X" otherwise (1.0.150).
std::string
model_double(double v)
{
  if (v == 0) {
    return std::signbit(v) ? "-0.0" : "0.0";
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  const std::string sci(buf, r.ptr); // "d.ddde+XX" or "de-XX"
  const auto e_at = sci.find('e');
  std::string digits = sci.substr(0, e_at);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(e_at + 1));
  std::string out = v < 0 ? "-" : "";
  const int n = static_cast<int>(digits.size());
  if (exp >= -5 && exp <= 15) {
    if (n - 1 <= exp) {
      out += digits + std::string(static_cast<std::size_t>(exp - n + 1), '0') + ".0";
    } else if (exp >= 0) {
      out += digits.substr(0, static_cast<std::size_t>(exp + 1)) + "." + digits.substr(static_cast<std::size_t>(exp + 1));
    } else {
      out += "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (n > 1) {
      out += "." + digits.substr(1);
    }
    out += (exp < 0 ? "e-" : "e+") + std::to_string(std::abs(exp));
  }
  return out;
}

// serde_json's string escaping, and an input form of the same text that uses
// other escapes (\u00XX, \/) where it can.
void
model_string(const std::string& text, std::mt19937_64& rng, std::string& input, std::string& expected)
{
  static const char* k_hex = "0123456789abcdef";
  input += '"';
  expected += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool other_form = rng() % 3 == 0;
    switch (c) {
    case '"': expected += "\\\""; input += other_form ? "\\u0022" : "\\\""; continue;
    case '\\': expected += "\\\\"; input += other_form ? "\\u005C" : "\\\\"; continue;
    case '\n': expected += "\\n"; input += other_form ? "\\u000a" : "\\n"; continue;
    case '\t': expected += "\\t"; input += "\\t"; continue;
    case '/': expected += "/"; input += other_form ? "\\/" : "/"; continue;
    default: break;
    }
    if (u < 0x20) {
      const std::string esc = std::string("\\u00") + k_hex[u >> 4] + k_hex[u & 15];
      expected += esc;
      input += esc;
    } else if (u == 'e' && other_form) {
      expected += 'e';
      input += "\\u0065";
    } else {
      expected += c;
      input += c;
    }
  }
  input += '"';
  expected += '"';
}

// A random JSON value: its input text (with whitespace and other number and
// escape forms) and the bytes serde_json writes for it.
void
model_value(std::mt19937_64& rng, int depth, std::string& input, std::string& expected)
{
  const auto pick = rng() % (depth > 3 ? 6 : 8);
  const auto ws = [&] {
    if (rng() % 4 == 0) {
      input += " \n\t"[rng() % 3];
    }
  };
  ws();
  switch (pick) {
  case 0: input += "null"; expected += "null"; break;
  case 1: {
    const char* b = rng() % 2 ? "true" : "false";
    input += b;
    expected += b;
    break;
  }
  case 2: { // any finite double, subnormals included
    double d = 0;
    do {
      const std::uint64_t bits = rng();
      std::memcpy(&d, &bits, sizeof d);
    } while (!std::isfinite(d));
    char buf[64];
    std::snprintf(buf, sizeof buf, rng() % 2 ? "%.17g" : "%.17E", d);
    std::string text = buf;
    if (text.find_first_of(".eE") == std::string::npos) {
      text += ".0"; // keep it a float
    }
    input += text;
    expected += model_double(d);
    break;
  }
  case 3: { // integers, beyond 2^53 too
    if (rng() % 2) {
      const std::uint64_t v = rng() >> (rng() % 64);
      input += std::to_string(v);
      expected += std::to_string(v);
    } else {
      const auto v = -static_cast<std::int64_t>(rng() >> (1 + rng() % 63)) - 1;
      input += std::to_string(v);
      expected += std::to_string(v);
    }
    break;
  }
  case 4: { // short decimals in other forms: 1E2, 0.10, 25e-1
    const int mantissa = static_cast<int>(rng() % 1000);
    const int exp = static_cast<int>(rng() % 7) - 3;
    input += std::to_string(mantissa) + "E" + std::to_string(exp);
    expected += model_double(std::stod(std::to_string(mantissa) + "e" + std::to_string(exp)));
    break;
  }
  case 5: {
    std::string text;
    const auto n = rng() % 12;
    for (std::size_t i = 0; i < n; ++i) {
      static const std::string k_alphabet[] = {"a", "Z", "e", "/", "\"", "\\", "\n", "\t", std::string(1, '\x01'),
                                               "\x7f", "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", " "};
      text += k_alphabet[rng() % std::size(k_alphabet)];
    }
    model_string(text, rng, input, expected);
    break;
  }
  case 6: {
    input += '[';
    expected += '[';
    const auto n = rng() % 4;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) {
        input += ',';
        expected += ',';
      }
      model_value(rng, depth + 1, input, expected);
    }
    ws();
    input += ']';
    expected += ']';
    break;
  }
  default: {
    input += '{';
    expected += '{';
    const auto n = rng() % 4;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) {
        input += ',';
        expected += ',';
      }
      ws();
      model_string("k" + std::to_string(i), rng, input, expected);
      input += " : ";
      expected += ':';
      model_value(rng, depth + 1, input, expected);
    }
    input += '}';
    expected += '}';
  }
  }
  ws();
}

} // namespace

TEST_CASE("generated records: prepare -> store -> get gives serde_json 1.0.150's bytes")
{
  std::mt19937_64 rng(20261201);
  auto sqlite_dir = std::string("/tmp/taskctl-prepare-test-") + std::to_string(::getpid());
  std::filesystem::create_directories(sqlite_dir);
  auto memory = open_store("mem://");
  auto sqlite = open_store("sqlite://" + sqlite_dir + "/rt.db");
  const char* k_status[] = {"working", "input_required", "completed", "failed", "cancelled"};
  for (int n = 0; n < 400; ++n) {
    const std::string task_id = "t" + std::to_string(n);
    const std::string status = k_status[rng() % 5];
    std::string vars_in = "{";
    std::string vars_out = "{";
    const auto count = rng() % 5;
    for (std::size_t i = 0; i < count; ++i) {
      vars_in += (i > 0 ? "," : "") + std::string("\"v") + std::to_string(i) + "\" :";
      vars_out += (i > 0 ? "," : "") + std::string("\"v") + std::to_string(i) + "\":";
      model_value(rng, 2, vars_in, vars_out);
    }
    vars_in += "}";
    vars_out += "}";
    std::string result_in;
    std::string result_out;
    model_value(rng, 1, result_in, result_out);
    if (result_out == "null") {
      result_in = "null";
    }
    const std::uint64_t ttl = rng() % 100'000'000;
    // expiresAt with an offset in the input; chrono's UTC "Z" form expected.
    const std::string input = std::string("{ \"task\": {\"taskId\": \"") + task_id + "\", \"status\": \"" + status +
                              "\", \"createdAt\": \"2025-11-25T10:30:00.123Z\", \"lastUpdatedAt\": "
                              "\"2025-11-25T10:31:00.456Z\", \"ttl\": " + std::to_string(ttl) +
                              ", \"pollInterval\": 500},\n \"ownerId\": \"o\", \"variables\": " + vars_in +
                              ", \"result\": " + result_in +
                              ", \"requestMethod\": \"tools/call\", \"expiresAt\": \"2025-11-25T13:00:00.5+02:00\" }\n";
    const std::string expected = R"({"task":{"taskId":")" + task_id + R"(","status":")" + status +
                                 R"(","createdAt":"2025-11-25T10:30:00.123Z","lastUpdatedAt":"2025-11-25T10:31:00.456Z","ttl":)" +
                                 std::to_string(ttl) + R"(,"pollInterval":500},"ownerId":"o","variables":)" + vars_out +
                                 R"(,"result":)" + result_out +
                                 R"(,"requestMethod":"tools/call","expiresAt":"2025-11-25T11:00:00.500Z"})";
    INFO(input);
    StoreConfig limits;
    limits.max_variable_depth = 100;
    const auto p = prepare_record("o:" + task_id, input, limits);
    REQUIRE(p.ok());
    CHECK(p.bytes == expected);
    for (auto* store : {memory.get(), sqlite.get()}) {
      store->put("o:" + task_id, p.bytes);
      CHECK(store->get("o:" + task_id).data == expected);
    }
    // Canonical bytes are a fixed point.
    CHECK(prepare_record("o:" + task_id, expected, limits).bytes == expected);
  }
  sqlite.reset();
  std::filesystem::remove_all(sqlite_dir);
}
