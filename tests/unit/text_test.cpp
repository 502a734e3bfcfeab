#include "taskstore/text.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace taskstore;

TEST_CASE("percent_encode keeps the unreserved set and `keep`")
{
  CHECK(percent_encode("aZ09-._~") == "aZ09-._~");
  CHECK(percent_encode("a b/c:d") == "a%20b%2Fc%3Ad");
  CHECK(percent_encode("a b/c:d", "/") == "a%20b/c%3Ad");
  CHECK(percent_encode(std::string("\x00\xff", 2)) == "%00%FF");
  CHECK(percent_encode("") == "");
}

TEST_CASE("percent_decode is strict, percent_decode_lenient keeps malformed escapes")
{
  CHECK(percent_decode("a%2Fb%2fc") == std::optional<std::string>("a/b/c"));
  CHECK(percent_decode("%00") == std::optional<std::string>(std::string(1, '\0')));
  CHECK_FALSE(percent_decode("a%2"));
  CHECK_FALSE(percent_decode("a%zz"));
  CHECK_FALSE(percent_decode("%"));
  CHECK(percent_decode_lenient("a%2") == "a%2");
  CHECK(percent_decode_lenient("a%zz%41") == "a%zzA");
  CHECK(percent_decode_lenient("100%") == "100%");
}

TEST_CASE("percent_encode and percent_decode round-trip every byte")
{
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  CHECK(percent_decode(percent_encode(all)) == std::optional<std::string>(all));
  CHECK(percent_decode(percent_encode(all, "/:@")) == std::optional<std::string>(all));
}

TEST_CASE("check_utf8: Rust's from_utf8 rules and Utf8Error text")
{
  CHECK_FALSE(check_utf8(""));
  CHECK_FALSE(check_utf8("plain ascii"));
  CHECK_FALSE(check_utf8("gr\xc3\xbc\xc3\x9f \xe6\x97\xa5 \xf0\x9f\x98\x80"));
  CHECK_FALSE(check_utf8("\xf4\x8f\xbf\xbf")); // U+10FFFF

  const auto bad = check_utf8("abc\xff");
  REQUIRE(bad);
  CHECK(bad->offset == 3);
  CHECK(bad->message == "invalid utf-8 sequence of 1 bytes from index 3");

  const auto truncated = check_utf8("ab\xe6\x97");
  REQUIRE(truncated);
  CHECK(truncated->offset == 2);
  CHECK(truncated->message == "incomplete utf-8 byte sequence from index 2");

  // A bad continuation after two good bytes of a 3-byte sequence.
  const auto two = check_utf8("\xe6\x97x");
  REQUIRE(two);
  CHECK(two->message == "invalid utf-8 sequence of 2 bytes from index 0");

  CHECK(check_utf8("\xc0\x80"));         // overlong NUL
  CHECK(check_utf8("\xed\xa0\x80"));     // surrogate U+D800
  CHECK(check_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
  CHECK(check_utf8("\xe0\x80\x80"));     // overlong 3-byte
}
