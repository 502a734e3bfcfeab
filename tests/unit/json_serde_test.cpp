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
          "[1.0,1e+21,100.0,0.5,-0.0,1e-7,1.2345678901234568e+29]");
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
  // What serde_json 1.0.150 (zmij) prints for each double (serde_json's own
  // tests and runs of it; docs/compatibility.md).
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
    {1e16, "1e+16"},
    {1.5e16, "1.5e+16"},
    {1e21, "1e+21"},
    {1e22, "1e+22"},
    {12345678901234567.0, "1.2345678901234568e+16"},
    {0.001, "0.001"},
    {0.0001, "0.0001"},
    {0.00001, "0.00001"},
    {1e-6, "1e-6"},
    {1.5e-7, "1.5e-7"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {5e-324, "5e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {9007199254740993.0, "9007199254740992.0"},
    {3.141592653589793, "3.141592653589793"},
    {0.1 + 0.2, "0.30000000000000004"},
    {7e-6, "7e-6"},
    {1.5e-5, "0.000015"},
    {1.234e-5, "0.00001234"},
    {1234.5, "1234.5"},
    {1e10, "10000000000.0"},
    {999999999999999.9, "999999999999999.9"},
    {1.5e15, "1500000000000000.0"},
    {9007199254740992.0, "9007199254740992.0"},
    {9999999999999998.0, "9999999999999998.0"},
    {123456789012345680.0, "1.2345678901234568e+17"},
    {18446744073709551616.0, "1.8446744073709552e+19"},
    {1e23, "1e+23"},
    {6.02214076e23, "6.02214076e+23"},
    {1e100, "1e+100"},
    {-1.7976931348623157e308, "-1.7976931348623157e+308"},
    {2.220446049250313e-16, "2.220446049250313e-16"},
    {1.23e-100, "1.23e-100"},
    {2.225073858507201e-308, "2.225073858507201e-308"},
    {1e-323, "1e-323"},
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


TEST_CASE("to_display_json: the serde writer for output, compact or pretty, valid UTF-8")
{
  const Json doc = parse_json(R"({"a":[1,1e+21,1000000000000000.0,1e-7,{}],"b":{"c":"x"},"d":[],"e":null})");
  CHECK(to_display_json(doc) == R"({"a":[1,1e+21,1000000000000000.0,1e-7,{}],"b":{"c":"x"},"d":[],"e":null})");
  CHECK(to_display_json(doc, true) == "{\n"
                                      "  \"a\": [\n"
                                      "    1,\n"
                                      "    1e+21,\n"
                                      "    1000000000000000.0,\n"
                                      "    1e-7,\n"
                                      "    {}\n"
                                      "  ],\n"
                                      "  \"b\": {\n"
                                      "    \"c\": \"x\"\n"
                                      "  },\n"
                                      "  \"d\": [],\n"
                                      "  \"e\": null\n"
                                      "}");
  Json bad = Json::object();
  bad["k"] = std::string("ok\xff\xfe" "end\xe6\x97");
  CHECK(to_display_json(bad) == "{\"k\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD" "end\xEF\xBF\xBD\"}");

  // DEL and the C1 controls (CSI is U+009B) are escaped for display: the
  // same value, which a terminal cannot obey; the stored form keeps them raw.
  Json controls = Json::object();
  controls["k"] = std::string("a\x7f" "b\xc2\x9b" "2J\xc2\x80\xc2\xa0\xc3\xa9");
  CHECK(to_display_json(controls) == "{\"k\":\"a\\u007fb\\u009b2J\\u0080\xc2\xa0\xc3\xa9\"}");
  CHECK(Json::parse(to_display_json(controls)) == controls);
  CHECK(to_serde_json(controls) == "{\"k\":\"a\x7f" "b\xc2\x9b" "2J\xc2\x80\xc2\xa0\xc3\xa9\"}");
  std::string shown;
  append_display_string(shown, "x\x7f");
  CHECK(shown == "\"x\\u007f\"");
}

// The writer skips plain runs eight bytes at a time: every byte that needs
// escaping must be found at every offset within and across those words.
TEST_CASE("append_serde_string escapes each special byte at every position of long strings")
{
  const auto reference = [](const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
      }
    }
    return out + "\"";
  };
  const std::string specials = std::string("\"\\\b\f\n\r\t\x01\x1f", 9) + std::string(1, '\0');
  for (std::size_t length : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 64u}) {
    for (std::size_t at = 0; at < length; ++at) {
      for (char special : specials) {
        std::string s(length, 'a');
        s[at] = special;
        if (at + 3 < length) {
          s[at + 3] = '\xc3'; // bytes of 0x80 and above pass through as they are
        }
        std::string out;
        append_serde_string(out, s);
        INFO("length " << length << " at " << at << " byte " << static_cast<int>(special));
        CHECK(out == reference(s));
      }
    }
  }
  std::string plain(1000, 'z');
  std::string out;
  append_serde_string(out, plain);
  CHECK(out == "\"" + plain + "\"");
  out.clear();
  append_serde_string(out, std::string(" ~\x7f\x20!#[]", 8));
  CHECK(out == std::string("\" ~\x7f\x20!#[]\"", 10));
}
