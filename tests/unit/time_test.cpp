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
    CHECK_FALSE(parse_rfc3339("2025-11-25T10:30:00.1234567891Z"));
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
    CHECK_FALSE(parse_rfc3339("2025-11-25T10:30:00+0100"));
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
    CHECK_FALSE(parse_rfc3339("2025-01-01T23:59:60Z"));
  }

  SECTION("signed years as format_autosi writes them")
  {
    CHECK(parse_rfc3339("+10000-01-01T00:00:00Z") == at(253'402'300'800));
    CHECK(parse_rfc3339("-0001-12-31T23:59:59Z") == at(-62'167'219'201));
    CHECK_FALSE(parse_rfc3339("+999-01-01T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("+9999999999-01-01T00:00:00Z"));
  }

  SECTION("malformed text")
  {
    for (const char* bad :
         {"", "2025", "2025-11-25", "2025-11-25T10:30Z", "2025-11-25T10:30:00", "2025-11-25X10:30:00Z",
          "2025-11-25T10:30:00Z ", " 2025-11-25T10:30:00Z", "2025-1-25T10:30:00Z", "2025/11/25T10:30:00Z",
          "2025-11-25T10:30:00UTC", "2025-11-25T1a:30:00Z", "２０２５-11-25T10:30:00Z"}) {
      INFO(bad);
      CHECK_FALSE(parse_rfc3339(bad));
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
    // The last representable instant: 262143-12-31T23:59:59.999999999.
    const auto last = parse_rfc3339("+262143-12-31T23:59:59.999999999Z");
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
