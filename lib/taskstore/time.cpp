#include "taskstore/time.hpp"

#include <array>
#include <cstring>
#include <ctime>
#include <limits>

namespace taskstore {

namespace {

constexpr std::int64_t k_seconds_per_day = 86'400;

// chrono 0.4.45's NaiveDate range (MIN_YEAR = (i32::MIN >> 13) + 1, MAX_YEAR =
// (i32::MAX >> 13) - 1, since 0.4.32). chrono 0.4.23's is one year wider at
// each end; inside 0.4.45's every version pmcp-tasks builds with can read
// the value, so that is the range taskctl accepts and computes in.
constexpr std::int64_t k_min_year = -262'143;
constexpr std::int64_t k_max_year = 262'142;

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
  // A leap second is second 59 with nanos >= 1e9 (chrono's representation):
  // written as :60 with the rest as the fraction.
  const bool leap = t.nanos >= 1'000'000'000U;
  const std::uint32_t nanos = leap ? t.nanos - 1'000'000'000U : t.nanos;
  put2(p, s / 3600);
  *p++ = ':';
  put2(p, s / 60 % 60);
  *p++ = ':';
  put2(p, leap ? 60 : s % 60);
  if (fraction == Fraction::millis) {
    put_fraction(p, nanos / 1'000'000, 3);
  } else if (nanos == 0) {
    // no fraction
  } else if (nanos % 1'000'000 == 0) {
    put_fraction(p, nanos / 1'000'000, 3);
  } else if (nanos % 1'000 == 0) {
    put_fraction(p, nanos / 1'000, 6);
  } else {
    put_fraction(p, nanos, 9);
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

namespace {

// The length of the Unicode White_Space character (Rust's char::is_whitespace)
// at text[pos], 0 when there is none.
std::size_t
whitespace_at(std::string_view text, std::size_t pos)
{
  if (pos >= text.size()) {
    return 0;
  }
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if ((b0 >= 0x09 && b0 <= 0x0D) || b0 == 0x20) {
    return 1;
  }
  auto byte = [&](std::size_t i) {
    return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0;
  };
  if (b0 == 0xC2 && (byte(1) == 0x85 || byte(1) == 0xA0)) {
    return 2; // U+0085, U+00A0
  }
  if (b0 == 0xE1 && byte(1) == 0x9A && byte(2) == 0x80) {
    return 3; // U+1680
  }
  if (b0 == 0xE2 && byte(1) == 0x80) {
    const unsigned b2 = byte(2);
    if ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) {
      return 3; // U+2000..U+200A, U+2028, U+2029, U+202F
    }
  }
  if (b0 == 0xE2 && byte(1) == 0x81 && byte(2) == 0x9F) {
    return 3; // U+205F
  }
  if (b0 == 0xE3 && byte(1) == 0x80 && byte(2) == 0x80) {
    return 3; // U+3000
  }
  return 0;
}

void
skip_whitespace(std::string_view text, std::size_t& pos)
{
  while (const std::size_t n = whitespace_at(text, pos)) {
    pos += n;
  }
}

bool
is_digit(std::string_view text, std::size_t pos)
{
  return pos < text.size() && text[pos] >= '0' && text[pos] <= '9';
}

// chrono's scan::number(s, 1, max) after trim_start: 1..max digits.
bool
read_number(std::string_view text, std::size_t& pos, std::size_t max, std::int64_t& value)
{
  skip_whitespace(text, pos);
  std::size_t n = 0;
  value = 0;
  while (n < max && is_digit(text, pos + n)) {
    value = value * 10 + (text[pos + n] - '0');
    ++n;
  }
  pos += n;
  return n > 0;
}

// A literal preceded by optional whitespace (chrono's Space("") item).
bool
read_literal(std::string_view text, std::size_t& pos, char c)
{
  skip_whitespace(text, pos);
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// True, with the fields read, when text starts "YYYY-MM-DDTHH:MM:SS" (the
// form every writer uses): what the general reading below gives for those
// 19 bytes, without its whitespace and width handling.
bool
read_canonical_prefix(std::string_view text, std::int64_t& year, std::int64_t& month, std::int64_t& day,
                      std::int64_t& hour, std::int64_t& minute, std::int64_t& second)
{
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return false;
  }
  static constexpr std::size_t k_digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  for (const std::size_t i : k_digits) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
  }
  const auto two = [text](std::size_t i) { return std::int64_t{text[i] - '0'} * 10 + (text[i + 1] - '0'); };
  year = two(0) * 100 + two(2);
  month = two(5);
  day = two(8);
  hour = two(11);
  minute = two(14);
  second = two(17);
  return true;
}

// The year: 1..4 digits, or a sign and any number of digits that fit i32.
bool
read_year(std::string_view text, std::size_t& pos, std::int64_t& year)
{
  skip_whitespace(text, pos);
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const bool negative = text[pos] == '-';
    ++pos;
    std::size_t n = 0;
    std::int64_t value = 0;
    while (is_digit(text, pos + n)) {
      if (value > 100'000'000'000LL) {
        return false; // beyond i32 (and chrono's range) long before i64 overflows
      }
      value = value * 10 + (text[pos + n] - '0');
      ++n;
    }
    if (n == 0) {
      return false;
    }
    pos += n;
    year = negative ? -value : value;
    return true;
  }
  return read_number(text, pos, 4, year);
}

// The offset (chrono's relaxed parser): "UTC" (any case), "Z", "z", or a sign
// ('+', '-', U+2212) with HH, any run of ':' and whitespace, then MM.
bool
read_offset(std::string_view text, std::size_t& pos, std::int64_t& offset)
{
  skip_whitespace(text, pos);
  const std::string_view rest = text.substr(pos);
  if (rest.size() >= 3 && (rest[0] == 'U' || rest[0] == 'u') && (rest[1] == 'T' || rest[1] == 't') &&
      (rest[2] == 'C' || rest[2] == 'c')) {
    pos += 3;
    offset = 0;
    return true;
  }
  if (!rest.empty() && (rest[0] == 'Z' || rest[0] == 'z')) {
    ++pos;
    offset = 0;
    return true;
  }
  int sign = 0;
  if (!rest.empty() && rest[0] == '+') {
    sign = 1;
    ++pos;
  } else if (!rest.empty() && rest[0] == '-') {
    sign = -1;
    ++pos;
  } else if (rest.substr(0, 3) == "\xE2\x88\x92") { // U+2212 MINUS SIGN
    sign = -1;
    pos += 3;
  } else {
    return false;
  }
  if (!is_digit(text, pos) || !is_digit(text, pos + 1)) {
    return false;
  }
  const int hours = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
  pos += 2;
  while (pos < text.size()) {
    if (text[pos] == ':') {
      ++pos;
    } else if (const std::size_t n = whitespace_at(text, pos)) {
      pos += n;
    } else {
      break;
    }
  }
  if (!is_digit(text, pos) || !is_digit(text, pos + 1) || text[pos] > '5') {
    return false;
  }
  const int minutes = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
  pos += 2;
  const std::int64_t magnitude = hours * 3600 + minutes * 60;
  if (magnitude >= k_seconds_per_day) {
    return false; // FixedOffset::east_opt
  }
  offset = sign * magnitude;
  return true;
}

} // namespace

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
  if (read_canonical_prefix(text, year, month, day, hour, minute, second)) {
    pos = 19;
  } else {
    if (!read_year(text, pos, year) || !read_literal(text, pos, '-') || !read_number(text, pos, 2, month) ||
        !read_literal(text, pos, '-') || !read_number(text, pos, 2, day)) {
      return std::nullopt;
    }
    // Exactly one separator byte right after the day.
    if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
      return std::nullopt;
    }
    ++pos;
    if (!read_number(text, pos, 2, hour) || !read_literal(text, pos, ':') || !read_number(text, pos, 2, minute) ||
        !read_literal(text, pos, ':') || !read_number(text, pos, 2, second)) {
      return std::nullopt;
    }
  }
  std::uint32_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    if (!is_digit(text, pos)) {
      return std::nullopt;
    }
    // Up to 9 digits scaled to nanoseconds; the rest are truncated.
    std::uint32_t scale = 100'000'000;
    while (is_digit(text, pos)) {
      nanos += static_cast<std::uint32_t>(text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  std::int64_t offset = 0;
  if (pos + 1 == text.size() && text[pos] == 'Z') {
    pos = text.size(); // what read_offset makes of a final "Z", at once
  } else {
    if (!read_offset(text, pos, offset)) {
      return std::nullopt;
    }
    skip_whitespace(text, pos);
    if (pos != text.size()) {
      return std::nullopt;
    }
  }
  if (year < k_min_year || year > k_max_year || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  if (second == 60) {
    // A leap second, at any minute: second 59 with nanos >= 1e9, as chrono keeps it.
    second = 59;
    nanos += 1'000'000'000U;
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
