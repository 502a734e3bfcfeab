#include "taskstore/time.hpp"

#include <array>
#include <cstring>
#include <ctime>
#include <limits>

namespace taskstore {

namespace {

constexpr std::int64_t k_seconds_per_day = 86'400;

// chrono's NaiveDate range (years MIN_YEAR..MAX_YEAR = i32::MIN >> 13 .. i32::MAX >> 13):
// DateTime<Utc> arithmetic that leaves it overflows.
constexpr std::int64_t k_min_year = -262'144;
constexpr std::int64_t k_max_year = 262'143;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t
days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146'097 + static_cast<std::int64_t>(doe) - 719'468;
}

struct Civil
{
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// The inverse of days_from_civil.
constexpr Civil
civil_from_days(std::int64_t z)
{
  z += 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(z - era * 146'097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

constexpr bool
is_leap(std::int64_t y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr unsigned
days_in_month(std::int64_t y, unsigned m)
{
  constexpr std::array<unsigned, 12> k_days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : k_days[m - 1];
}

// Seconds since the epoch of the first instant of year y.
constexpr std::int64_t
year_start(std::int64_t y)
{
  return days_from_civil(y, 1, 1) * k_seconds_per_day;
}

constexpr std::int64_t k_min_seconds = year_start(k_min_year);
constexpr std::int64_t k_max_seconds = year_start(k_max_year + 1) - 1;

bool
in_chrono_range(std::int64_t seconds)
{
  return seconds >= k_min_seconds && seconds <= k_max_seconds;
}

// Reads exactly n decimal digits at text[pos]; advances pos. False when any is not a digit.
bool
read_digits(std::string_view text, std::size_t& pos, std::size_t n, std::int64_t& value)
{
  if (text.size() - pos < n) {
    return false;
  }
  value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool
expect(std::string_view text, std::size_t& pos, char c)
{
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

void
put2(char*& p, unsigned v)
{
  *p++ = static_cast<char>('0' + v / 10);
  *p++ = static_cast<char>('0' + v % 10);
}

void
put_fraction(char*& p, std::uint32_t value, int digits)
{
  *p++ = '.';
  for (int i = digits - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  p += digits;
}

enum class Fraction
{
  millis, // always 3 digits, truncated
  auto_si // none, 3, 6 or 9 digits
};

// chrono's write_rfc3339: years 0..9999 as 4 digits, others as {:+05}.
std::string
format(Timestamp t, Fraction fraction, std::string_view suffix)
{
  std::int64_t days = t.seconds / k_seconds_per_day;
  std::int64_t secs = t.seconds % k_seconds_per_day;
  if (secs < 0) {
    secs += k_seconds_per_day;
    --days;
  }
  const Civil date = civil_from_days(days);

  std::array<char, 64> buf{};
  char* p = buf.data();
  if (date.year >= 0 && date.year <= 9999) {
    const auto y = static_cast<unsigned>(date.year);
    put2(p, y / 100);
    put2(p, y % 100);
  } else {
    // {:+05}: sign, then at least 4 digits.
    *p++ = date.year < 0 ? '-' : '+';
    const std::uint64_t mag =
      date.year < 0 ? static_cast<std::uint64_t>(-date.year) : static_cast<std::uint64_t>(date.year);
    std::array<char, 24> digits{};
    int n = 0;
    std::uint64_t v = mag;
    do {
      digits[static_cast<std::size_t>(n++)] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (int i = n; i < 4; ++i) {
      *p++ = '0';
    }
    while (n > 0) {
      *p++ = digits[static_cast<std::size_t>(--n)];
    }
  }
  *p++ = '-';
  put2(p, date.month);
  *p++ = '-';
  put2(p, date.day);
  *p++ = 'T';
  const auto s = static_cast<unsigned>(secs);
  put2(p, s / 3600);
  *p++ = ':';
  put2(p, s / 60 % 60);
  *p++ = ':';
  put2(p, s % 60);
  if (fraction == Fraction::millis) {
    put_fraction(p, t.nanos / 1'000'000, 3);
  } else if (t.nanos == 0) {
    // no fraction
  } else if (t.nanos % 1'000'000 == 0) {
    put_fraction(p, t.nanos / 1'000'000, 3);
  } else if (t.nanos % 1'000 == 0) {
    put_fraction(p, t.nanos / 1'000, 6);
  } else {
    put_fraction(p, t.nanos, 9);
  }
  std::string out(buf.data(), p);
  out.append(suffix);
  return out;
}

} // namespace

Timestamp
now_utc()
{
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return Timestamp{static_cast<std::int64_t>(ts.tv_sec), static_cast<std::uint32_t>(ts.tv_nsec)};
}

std::optional<Timestamp>
parse_rfc3339(std::string_view text)
{
  std::size_t pos = 0;
  std::int64_t year = 0;
  std::int64_t month = 0;
  std::int64_t day = 0;
  std::int64_t hour = 0;
  std::int64_t minute = 0;
  std::int64_t second = 0;

  // Year: 4 digits, or a sign and 4..9 digits (how chrono writes years outside 0..9999).
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    const bool negative = text[0] == '-';
    pos = 1;
    std::size_t n = 0;
    while (pos + n < text.size() && text[pos + n] >= '0' && text[pos + n] <= '9') {
      ++n;
    }
    if (n < 4 || n > 9 || !read_digits(text, pos, n, year)) {
      return std::nullopt;
    }
    year = negative ? -year : year;
  } else if (!read_digits(text, pos, 4, year)) {
    return std::nullopt;
  }
  if (!expect(text, pos, '-') || !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return std::nullopt;
  }
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second)) {
    return std::nullopt;
  }
  std::uint32_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) {
        return std::nullopt;
      }
      nanos = nanos * 10 + static_cast<std::uint32_t>(text[pos] - '0');
      ++pos;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (int i = digits; i < 9; ++i) {
      nanos *= 10;
    }
  }
  std::int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool negative = text[pos] == '-';
    ++pos;
    std::int64_t oh = 0;
    std::int64_t om = 0;
    if (!read_digits(text, pos, 2, oh) || !expect(text, pos, ':') || !read_digits(text, pos, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (negative ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  const std::int64_t days =
    days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * k_seconds_per_day + hour * 3600 + minute * 60 + second - offset;
  if (!in_chrono_range(seconds)) {
    return std::nullopt;
  }
  return Timestamp{seconds, nanos};
}

std::string
format_millis(Timestamp t)
{
  return format(t, Fraction::millis, "Z");
}

std::string
format_autosi(Timestamp t)
{
  return format(t, Fraction::auto_si, "Z");
}

std::string
format_rfc3339_offset(Timestamp t)
{
  return format(t, Fraction::auto_si, "+00:00");
}

std::optional<Timestamp>
add_millis(Timestamp t, std::uint64_t ms)
{
  // chrono: TimeDelta::try_milliseconds(ms as i64) then checked_add_signed;
  // a ttl above i64::MAX or a result outside chrono's date range gives None.
  if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  const std::int64_t add_seconds = static_cast<std::int64_t>(ms / 1000);
  const auto add_nanos = static_cast<std::uint32_t>(ms % 1000) * 1'000'000U;
  std::int64_t seconds = 0;
  if (__builtin_add_overflow(t.seconds, add_seconds, &seconds)) {
    return std::nullopt;
  }
  std::uint32_t nanos = t.nanos + add_nanos;
  if (nanos >= 1'000'000'000U) {
    nanos -= 1'000'000'000U;
    if (__builtin_add_overflow(seconds, std::int64_t{1}, &seconds)) {
      return std::nullopt;
    }
  }
  if (!in_chrono_range(seconds)) {
    return std::nullopt;
  }
  return Timestamp{seconds, nanos};
}

} // namespace taskstore
