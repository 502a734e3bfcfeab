#pragma once
// Timestamps (UTC, nanosecond precision) and the RFC 3339 formats pmcp-tasks
// writes (facts §2.3). Reading them out of record JSON is json/peek's job.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace taskstore {

// A UTC instant with nanosecond precision; seconds may be negative.
struct Timestamp
{
  std::int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  std::uint32_t nanos = 0;   // 0..999'999'999; up to 1'999'999'999 in a leap second
  auto operator<=>(const Timestamp&) const = default;
  std::int64_t epoch_millis() const { return seconds * 1000 + nanos / 1'000'000; }
};

Timestamp now_utc();

// Parses a timestamp exactly as chrono 0.4.45's DateTime<Utc> deserializer
// does (its relaxed RFC 3339 parser) and converts it to UTC; nullopt when
// chrono would refuse it. That accepts 1-digit fields, whitespace between the
// parts and at either end, a 'T', 't' or ' ' separator, any number of
// fraction digits (truncated to 9), a leap second (second 60 at any minute,
// kept as second 59 with nanos >= 1e9), signed years, and the offsets "Z",
// "z", "UTC" (any case), +hh:mm, +hhmm, +hh mm and U+2212 for the minus.
// The instant must lie in chrono 0.4.45's range (years -262143..262142),
// which every chrono that pmcp-tasks builds with can hold.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// "2025-11-25T10:30:00.123Z": exactly 3 fraction digits, truncated (createdAt, lastUpdatedAt).
std::string format_millis(Timestamp t);

// chrono AutoSi with 'Z': no fraction when nanos == 0, else 3, 6 or 9 digits (expiresAt).
std::string format_autosi(Timestamp t);

// Same as format_autosi but with "+00:00" (TaskError::Expired's expired_at).
std::string format_rfc3339_offset(Timestamp t);

// Adds milliseconds; nullopt on overflow: ms above i64::MAX, or a result
// outside chrono's date range (years -262144..262143), as TaskRecord::new's
// checked_add_signed. Years beyond 9999 are kept (format_autosi signs them).
std::optional<Timestamp> add_millis(Timestamp t, std::uint64_t ms);

// True iff expires_at is set and now is strictly later (facts §2.4 is_expired).
inline bool is_expired_at(const std::optional<Timestamp>& expires_at, Timestamp now)
{
  return expires_at && now > *expires_at;
}

} // namespace taskstore
