// Fuzz target: the RFC 3339 parser (parse_rfc3339, chrono's relaxed reading)
// and the formatters pmcp-tasks' formats are written with.
//
// Properties, for every input that parses:
//  - nanos stays below 2e9 (below 1e9 unless a leap second) and a leap
//    second is only ever at second 59 of a minute (kept as 59 + nanos >= 1e9);
//  - format_autosi, format_rfc3339_offset and format_millis write text that
//    parses back: the first two to the same instant, format_millis to the
//    instant truncated to milliseconds;
//  - add_millis never crashes, and when it succeeds the result is not earlier.
// Also the input, read as a duration by nothing else, is tried as the
// millisecond count of add_millis.

#include "fuzz_support.hpp"

#include "taskstore/time.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

using taskctl_fuzz::check;
using taskctl_fuzz::fail;
using taskstore::Timestamp;

namespace {

std::string
show(const Timestamp& t)
{
  return std::to_string(t.seconds) + "s " + std::to_string(t.nanos) + "ns";
}

std::optional<Timestamp>
parse(std::string_view text)
{
  try {
    return taskstore::parse_rfc3339(text);
  } catch (const std::exception& e) {
    fail("parse_rfc3339 threw", e.what());
  }
}

void
round_trip(const Timestamp& t, std::string_view what, const std::string& text, const Timestamp& expected)
{
  const std::optional<Timestamp> back = parse(text);
  check(back.has_value(), what, "does not parse back: " + text + " (from " + show(t) + ")");
  check(*back == expected, what, text + " parses back as " + show(*back) + ", expected " + show(expected));
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (size >= 8) {
    std::uint64_t ms = 0;
    std::memcpy(&ms, data, sizeof ms);
    for (const Timestamp base : {Timestamp{0, 0}, Timestamp{253402300799, 999999999}, Timestamp{-62167219200, 0}}) {
      if (const auto later = taskstore::add_millis(base, ms)) {
        check(*later >= base, "add_millis went backwards");
      }
    }
  }

  const std::optional<Timestamp> t = parse(text);
  if (!t) {
    return 0;
  }
  check(t->nanos < 2'000'000'000u, "nanos out of range", show(*t));
  if (t->nanos >= 1'000'000'000u) {
    const std::int64_t second_of_minute = ((t->seconds % 60) + 60) % 60;
    check(second_of_minute == 59, "a leap second not at second 59", show(*t));
  }
  std::string autosi;
  std::string offset;
  std::string millis;
  try {
    autosi = taskstore::format_autosi(*t);
    offset = taskstore::format_rfc3339_offset(*t);
    millis = taskstore::format_millis(*t);
  } catch (const std::exception& e) {
    fail("a formatter threw", e.what());
  }
  round_trip(*t, "format_autosi", autosi, *t);
  round_trip(*t, "format_rfc3339_offset", offset, *t);
  round_trip(*t, "format_millis", millis, Timestamp{t->seconds, t->nanos / 1'000'000 * 1'000'000});
  (void)t->epoch_millis();
  if (const auto later = taskstore::add_millis(*t, 1000)) {
    check(*later > *t, "add_millis(t, 1000) is not later", show(*t));
  }
  return 0;
}
