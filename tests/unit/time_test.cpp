#include "support/fixtures.hpp"
#include "taskstore/time.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <string>

using namespace taskstore;
using namespace taskstore::testing;

TEST_CASE("now_utc")
{
  const auto before = std::chrono::system_clock::now();
  const Timestamp t = now_utc();
  const auto after = std::chrono::system_clock::now();
  CHECK(t.nanos < 1'000'000'000U);
  const auto ns = std::chrono::seconds(t.seconds) + std::chrono::nanoseconds(t.nanos);
  CHECK(ns >= before.time_since_epoch() - std::chrono::milliseconds(1));
  CHECK(ns <= after.time_since_epoch() + std::chrono::milliseconds(1));
}

TEST_CASE("parse_rfc3339")
{
  SECTION("UTC with Z, z, T, t or a space")
  {
    CHECK(parse_rfc3339("2025-11-25T10:30:00Z") == at(k_t0));
    CHECK(parse_rfc3339("2025-11-25t10:30:00z") == at(k_t0));
    CHECK(parse_rfc3339("2025-11-25 10:30:00Z") == at(k_t0));
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == at(0));
    CHECK(parse_rfc3339("1969-12-31T23:59:59.5Z") == at(-1, 500'000'000));
    CHECK(parse_rfc3339("0000-01-01T00:00:00Z") == at(-62'167'219'200));
    CHECK(parse_rfc3339("9999-12-31T23:59:59.999999999Z") == at(253'402'300'799, 999'999'999));
  }

  SECTION("fractions of 1 to 9 digits")
  {
    CHECK(parse_rfc3339("2025-11-25T10:30:00.1Z") == at(k_t0, 100'000'000));
    CHECK(parse_rfc3339("2025-11-25T10:30:00.123Z") == at(k_t0, 123'000'000));
    CHECK(parse_rfc3339("2025-11-25T10:30:00.123456Z") == at(k_t0, 123'456'000));
    CHECK(parse_rfc3339("2025-11-25T10:30:00.123456789Z") == at(k_t0, 123'456'789));
    CHECK(parse_rfc3339("2025-11-25T10:30:00.000000001Z") == at(k_t0, 1));
    // chrono truncates digits past the ninth.
    CHECK(parse_rfc3339("2025-11-25T10:30:00.1234567891Z") == at(k_t0, 123'456'789));
    CHECK_FALSE(parse_rfc3339("2025-11-25T10:30:00.Z"));
  }

  SECTION("any offset, converted to UTC")
  {
    CHECK(parse_rfc3339("2025-11-25T11:30:00+01:00") == at(k_t0));
    CHECK(parse_rfc3339("2025-11-25T16:00:00.25+05:30") == at(k_t0, 250'000'000));
    CHECK(parse_rfc3339("2025-11-25T02:30:00-08:00") == at(k_t0));
    CHECK(parse_rfc3339("2025-11-25T10:30:00+00:00") == at(k_t0));
    CHECK(parse_rfc3339("2025-11-25T10:30:00-00:00") == at(k_t0));
    // Across a day, month and year boundary.
    CHECK(parse_rfc3339("2026-01-01T00:30:00+01:00") == parse_rfc3339("2025-12-31T23:30:00Z"));
    CHECK(parse_rfc3339("2025-11-25T10:30:00+23:59"));
    CHECK_FALSE(parse_rfc3339("2025-11-25T10:30:00+24:00"));
    CHECK_FALSE(parse_rfc3339("2025-11-25T10:30:00+01:60"));
    CHECK(parse_rfc3339("2025-11-25T11:30:00+0100") == at(k_t0)); // chrono reads +hhmm too
    CHECK_FALSE(parse_rfc3339("2025-11-25T10:30:00+01"));
  }

  SECTION("ranges, leap years included")
  {
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z"));
    CHECK(parse_rfc3339("2000-02-29T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2023-02-29T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("1900-02-29T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-04-31T00:00:00Z"));
    CHECK(parse_rfc3339("2025-12-31T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-13-01T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-00-01T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-01-00T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-01-32T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-01-01T24:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-01-01T23:60:00Z"));
    CHECK_FALSE(parse_rfc3339("2025-01-01T23:59:61Z"));
    // A leap second is second 59 with nanos >= 1e9, as chrono keeps it.
    CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == at(1'483'228'799, 1'000'000'000));
  }

  SECTION("signed years as format_autosi writes them")
  {
    CHECK(parse_rfc3339("+10000-01-01T00:00:00Z") == at(253'402'300'800));
    CHECK(parse_rfc3339("-0001-12-31T23:59:59Z") == at(-62'167'219'201));
    CHECK(parse_rfc3339("+999-01-01T00:00:00Z") == parse_rfc3339("0999-01-01T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("+9999999999-01-01T00:00:00Z"));
  }

  SECTION("malformed text")
  {
    for (const char* bad :
         {"", "2025", "2025-11-25", "2025-11-25T10:30Z", "2025-11-25T10:30:00", "2025-11-25X10:30:00Z",
          "2025/11/25T10:30:00Z", "2025-11-25T10:30:00GMT", "2025-11-25T1a:30:00Z", "２０２５-11-25T10:30:00Z"}) {
      INFO(bad);
      CHECK_FALSE(parse_rfc3339(bad));
    }
  }
}

TEST_CASE("parse_rfc3339 reads what chrono 0.4.45's DateTime<Utc> deserializer reads")
{
  // Each accepted case and the text chrono writes back for it (format_autosi),
  // from the chrono 0.4.45 source and its runs (docs/compatibility.md).
  const std::pair<const char*, const char*> accepted[] = {
    {"2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"},
    {"2025-01-02t03:04:05z", "2025-01-02T03:04:05Z"},
    {"2025-01-02 03:04:05Z", "2025-01-02T03:04:05Z"},
    {"2025-01-02  03:04:05Z", "2025-01-02T03:04:05Z"},
    {" 2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"},
    {"2025 - 01 - 02T03 : 04 : 05Z", "2025-01-02T03:04:05Z"},
    {"2025-1-2T3:4:5Z", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05.120000Z", "2025-01-02T03:04:05.120Z"},
    {"2025-01-02T03:04:05.1234Z", "2025-01-02T03:04:05.123400Z"},
    {"2025-01-02T03:04:05.000Z", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05.12345678901234567890123Z", "2025-01-02T03:04:05.123456789Z"},
    {"2025-01-02T03:04: 05.5 Z", "2025-01-02T03:04:05.500Z"},
    {"2025-01-02T03:04:05+05:30", "2025-01-01T21:34:05Z"},
    {"2025-01-02T03:04:05+0530", "2025-01-01T21:34:05Z"},
    {"2025-01-02T03:04:05+05 30", "2025-01-01T21:34:05Z"},
    {"2025-01-02T03:04:05+05::30", "2025-01-01T21:34:05Z"},
    {"2025-11-25T11:30:00+0530", "2025-11-25T06:00:00Z"},
    {"2025-01-02T03:04:05-00:00", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05+23:59", "2025-01-01T03:05:05Z"},
    {"2025-01-02T03:04:05UTC", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05utc", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05 UTC", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05\xe2\x88\x92" "05:00", "2025-01-02T08:04:05Z"},
    {"2025-01-02T03:04:05Z ", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05Z\n", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05Z\xe3\x80\x80", "2025-01-02T03:04:05Z"},
    {"2025-01-02T03:04:05Z\v", "2025-01-02T03:04:05Z"},
    {"2016-12-31T23:59:60Z", "2016-12-31T23:59:60Z"},
    {"2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.500Z"},
    {"2025-01-02T03:04:60Z", "2025-01-02T03:04:60Z"},
    {"2016-12-31T23:59:60+01:00", "2016-12-31T22:59:60Z"},
    {"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
    {"+10000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z"},
    {"-0001-01-01T00:00:00Z", "-0001-01-01T00:00:00Z"},
    {"+2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"},
    {"+002025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"},
    {"25-01-02T03:04:05Z", "0025-01-02T03:04:05Z"},
    {"+262142-12-31T23:59:59.999999999Z", "+262142-12-31T23:59:59.999999999Z"},
    {"-262143-01-01T00:00:00Z", "-262143-01-01T00:00:00Z"},
  };
  for (const auto& [text, written] : accepted) {
    INFO(text);
    const auto t = parse_rfc3339(text);
    REQUIRE(t);
    CHECK(format_autosi(*t) == written);
  }
  for (const char* text :
       {"2025-01-02 T03:04:05Z", "2025-01-02\t03:04:05Z", "2025-001-02T03:04:05Z", "2025-01-02T03:04:05.Z",
        "2025-01-02T03:04:05,5Z", "2025-01-02T03:04:05 .5Z", "2025-01-02T03:04:05. 5Z", "2025-01-02T03:04:05",
        "2025-01-02", "2025-01-02T03:04Z", "2025-01-02T03:04:05+05", "2025-01-02T03:04:05+00",
        "2025-01-02T03:04:05+5:30", "2025-01-02T03:04:05+05:30:00", "2025-01-02T03:04:05+24:00",
        "2025-01-02T03:04:05+99:59", "2025-01-02T03:04:05+05:60", "2025-01-02T03:04:05GMT",
        "2025-01-02T03:04:05U", "2025-01-02T03:04:05Zx", "2025-01-02T03:04:05ZZ", "2025-01-02T03:04:05+05:30Z",
        "2025-01-02T03:04:61Z", "2025-01-02T24:00:00Z", "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z",
        "2025-00-01T00:00:00Z", "2025-01-32T00:00:00Z", "10000-01-01T00:00:00Z", "002025-01-02T03:04:05Z",
        "+262143-12-31T23:59:59Z", "+262143-12-31T23:59:59+05:00", "+262142-12-31T23:59:59-01:00",
        "-262144-01-01T00:00:00Z", "-262143-01-01T00:00:00+01:00", "+ 2025-01-02T03:04:05Z", ""}) {
    INFO(text);
    CHECK_FALSE(parse_rfc3339(text));
  }
}

TEST_CASE("parse_rfc3339's fast path for YYYY-MM-DDTHH:MM:SS reads what the general reading reads")
{
  // A leading space sends a text down the general, whitespace-skipping path:
  // every one-byte change of canonical texts must parse alike both ways.
  const std::string alphabet = "0123456789-T:.Zz+ tx";
  for (const std::string base : {"2025-01-02T03:04:05Z", "2024-02-29T23:59:60.123456789Z", "1999-12-31T23:59:59+05:30",
                                 "2025-01-02T03:04:05.5Z"}) {
    for (std::size_t i = 0; i <= base.size(); ++i) {
      for (const char c : alphabet) {
        for (const std::string& text : {base.substr(0, i) + c + base.substr(std::min(i + 1, base.size())),
                                        base.substr(0, i) + c + base.substr(i), base.substr(0, i)}) {
          INFO(text);
          const auto fast = parse_rfc3339(text);
          const auto general = parse_rfc3339(" " + text);
          REQUIRE(fast.has_value() == general.has_value());
          if (fast) {
            CHECK(*fast == *general);
          }
        }
      }
    }
  }
}

TEST_CASE("format_millis")
{
  CHECK(format_millis(at(k_t0, 123'456'789)) == "2025-11-25T10:30:00.123Z");
  CHECK(format_millis(at(k_t0, 999'999'999)) == "2025-11-25T10:30:00.999Z"); // truncated, not rounded
  CHECK(format_millis(at(k_t0)) == "2025-11-25T10:30:00.000Z");
  CHECK(format_millis(at(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_millis(at(-1, 500'000'000)) == "1969-12-31T23:59:59.500Z");
  CHECK(format_millis(at(951'782'400)) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("format_autosi")
{
  CHECK(format_autosi(at(k_t0)) == "2025-11-25T10:30:00Z");
  CHECK(format_autosi(at(k_t0, 123'000'000)) == "2025-11-25T10:30:00.123Z");
  CHECK(format_autosi(at(k_t0, 120'000'000)) == "2025-11-25T10:30:00.120Z");
  CHECK(format_autosi(at(k_t0, 123'456'000)) == "2025-11-25T10:30:00.123456Z");
  CHECK(format_autosi(at(k_t0, 123'456'789)) == "2025-11-25T10:30:00.123456789Z");
  CHECK(format_autosi(at(k_t0, 1)) == "2025-11-25T10:30:00.000000001Z");
  CHECK(format_autosi(at(k_t0, 1000)) == "2025-11-25T10:30:00.000001Z");

  SECTION("years outside 0..9999 get a sign")
  {
    CHECK(format_autosi(at(-62'167'219'200)) == "0000-01-01T00:00:00Z");
    CHECK(format_autosi(at(253'402'300'799)) == "9999-12-31T23:59:59Z");
    CHECK(format_autosi(at(253'402'300'800)) == "+10000-01-01T00:00:00Z");
    CHECK(format_autosi(at(-62'167'219'201)) == "-0001-12-31T23:59:59Z");
  }

  SECTION("round trips through parse_rfc3339")
  {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> secs(-70'000'000'000LL, 300'000'000'000LL);
    std::uniform_int_distribution<std::uint32_t> nanos(0, 999'999'999);
    for (int i = 0; i < 2000; ++i) {
      Timestamp t = at(secs(rng), i % 4 == 0 ? 0 : nanos(rng));
      if (i % 4 == 1) {
        t.nanos -= t.nanos % 1'000'000;
      }
      INFO(format_autosi(t));
      CHECK(parse_rfc3339(format_autosi(t)) == t);
      CHECK(parse_rfc3339(format_rfc3339_offset(t)) == t);
    }
  }
}

TEST_CASE("format_rfc3339_offset")
{
  CHECK(format_rfc3339_offset(at(k_t0 + 3600, 123'456'789)) == "2025-11-25T11:30:00.123456789+00:00");
  CHECK(format_rfc3339_offset(at(k_t0)) == "2025-11-25T10:30:00+00:00");
}

TEST_CASE("add_millis")
{
  CHECK(add_millis(at(k_t0, 123'456'789), 3'600'000) == at(k_t0 + 3600, 123'456'789));
  CHECK(add_millis(at(k_t0, 999'000'000), 1) == at(k_t0 + 1, 0));
  CHECK(add_millis(at(k_t0, 999'999'999), 1500) == at(k_t0 + 2, 499'999'999));
  CHECK(add_millis(at(k_t0), 0) == at(k_t0));
  SECTION("overflow gives nullopt, like chrono's checked_add_signed")
  {
    CHECK_FALSE(add_millis(at(k_t0), std::uint64_t{1} << 63));          // not an i64
    CHECK_FALSE(add_millis(at(k_t0), 9'223'372'036'854'775'807ULL));    // beyond chrono's dates
    CHECK_FALSE(add_millis(at(k_t0), 18'446'744'073'709'551'615ULL));
    // Year 10000 and later are still dates for chrono (written with a sign).
    const auto far = add_millis(at(k_t0), 1'000'000'000'000'000ULL);
    REQUIRE(far);
    CHECK(far->seconds == k_t0 + 1'000'000'000'000LL);
    CHECK(format_autosi(*far) == "+33714-08-22T12:16:40Z");
    CHECK(parse_rfc3339(format_autosi(*far)) == far);
    // The last instant chrono 0.4.45 represents: 262142-12-31T23:59:59.999999999.
    const auto last = parse_rfc3339("+262142-12-31T23:59:59.999999999Z");
    REQUIRE(last);
    CHECK_FALSE(add_millis(*last, 1));
    CHECK(add_millis(at(last->seconds - 1, 999'000'000), 1) == at(last->seconds, 0));
  }
}

TEST_CASE("is_expired_at")
{
  CHECK_FALSE(is_expired_at(std::nullopt, at(k_t0)));
  CHECK_FALSE(is_expired_at(at(k_t0), at(k_t0))); // strictly later only
  CHECK(is_expired_at(at(k_t0), at(k_t0, 1)));
  CHECK_FALSE(is_expired_at(at(k_t0, 1), at(k_t0)));
}
