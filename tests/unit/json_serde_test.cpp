#include "taskstore/json/parse.hpp"
#include "taskstore/json/serde.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <string>

using namespace taskstore;

TEST_CASE("to_serde_json: serde_json's compact output")
{
  SECTION("strings")
  {
    CHECK(to_serde_json(Json("héllo ✓ 😀")) == "\"héllo ✓ 😀\"");
    CHECK(to_serde_json(Json(std::string("\x01\x1f\b\f\n\r\t\"\\/\x7f", 11))) ==
          "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f\"");
    CHECK(to_serde_json(Json(std::string("a\0b", 3))) == "\"a\\u0000b\"");
    CHECK(to_serde_json(Json(std::string("\x1a"))) == "\"\\u001a\"");
  }
  SECTION("numbers")
  {
    CHECK(to_serde_json(Json(0)) == "0");
    CHECK(to_serde_json(Json(-42)) == "-42");
    CHECK(to_serde_json(Json(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
    CHECK(to_serde_json(Json(std::numeric_limits<std::uint64_t>::max())) == "18446744073709551615");
    CHECK(to_serde_json(Json::parse("[1.0,1e21,1E+2,0.5,-0.0,1e-7,123456789012345678901234567890]")) ==
          "[1.0,1e21,100.0,0.5,-0.0,1e-7,1.2345678901234568e29]");
    CHECK(to_serde_json(Json(std::nan(""))) == "null");
  }
  SECTION("containers, keys in stored order, no whitespace")
  {
    CHECK(to_serde_json(Json::parse(R"( { "b" : [ 1 , { } , [ ] , null , true , false ] , "a" : "x" } )")) ==
          R"({"b":[1,{},[],null,true,false],"a":"x"})");
    CHECK(to_serde_json(Json::object()) == "{}");
    CHECK(to_serde_json(Json::array()) == "[]");
  }
  SECTION("any depth without recursion")
  {
    Json deep = Json::array();
    Json* p = &deep;
    for (int i = 0; i < 200'000; ++i) {
      p->push_back(Json::array());
      p = &p->back();
    }
    const std::string out = to_serde_json(deep);
    CHECK(out.size() == 400'002);
    CHECK(serde_json_size(deep) == out.size());
  }
}

TEST_CASE("format_serde_double")
{
  // What serde_json (ryu) prints for each double.
  const std::vector<std::pair<double, std::string>> cases = {
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {1.0, "1.0"},
    {-1.0, "-1.0"},
    {0.1, "0.1"},
    {1.5, "1.5"},
    {100.0, "100.0"},
    {123.456, "123.456"},
    {1e15, "1000000000000000.0"},
    {1e16, "1e16"},
    {1.5e16, "1.5e16"},
    {1e21, "1e21"},
    {1e22, "1e22"},
    {12345678901234567.0, "1.2345678901234568e16"},
    {0.001, "0.001"},
    {0.0001, "0.0001"},
    {0.00001, "0.00001"},
    {1e-6, "1e-6"},
    {1.5e-7, "1.5e-7"},
    {1.7976931348623157e308, "1.7976931348623157e308"},
    {5e-324, "5e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {9007199254740993.0, "9007199254740992.0"},
    {3.141592653589793, "3.141592653589793"},
  };
  for (const auto& [value, text] : cases) {
    INFO(text);
    CHECK(format_serde_double(value) == text);
  }
  CHECK(format_serde_double(std::numeric_limits<double>::infinity()) == "null");
}

TEST_CASE("serde_string_size and serde_json_size")
{
  CHECK(serde_string_size("") == 2);
  CHECK(serde_string_size("abc") == 5);
  CHECK(serde_string_size("\"\\\n") == 8);
  CHECK(serde_string_size(std::string("\x01", 1)) == 8);
  CHECK(serde_string_size("é") == 4);
  // Every position within and across 8-byte words, every kind of byte.
  std::mt19937 rng(99);
  const std::string alphabet = std::string("abcXYZ \x01\x1f\"\\/\x7f\n\t", 15) + "é😀";
  for (int i = 0; i < 5000; ++i) {
    std::string text(rng() % 40, 'a');
    for (char& c : text) {
      c = rng() % 4 == 0 ? alphabet[rng() % alphabet.size()] : 'q';
    }
    INFO(text);
    CHECK(serde_string_size(text) == to_serde_json(Json(text)).size());
  }
  const Json j = Json::parse(R"({"a\n":["é",1.0,-0.5,1e300,18446744073709551615,-1,{"":null}],"b":true})");
  CHECK(serde_json_size(j) == to_serde_json(j).size());
}

