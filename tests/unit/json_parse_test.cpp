#include "taskstore/error.hpp"
#include "support/fixtures.hpp"
#include "taskstore/json/parse.hpp"
#include "taskstore/json/serde.hpp"
#include "taskstore/record.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace taskstore;
using namespace taskstore::testing;

TEST_CASE("parse_json")
{
  SECTION("key order kept; a repeated key keeps its first position and its last value")
  {
    const Json j = parse_json(R"({"b":1,"a":2,"b":3,"c":{"y":1,"x":2}})");
    CHECK(to_serde_json(j) == R"({"b":3,"a":2,"c":{"y":1,"x":2}})");
  }
  SECTION("the same with many keys (hash-indexed objects)")
  {
    std::string text = "{";
    for (int i = 0; i < 200'000; ++i) {
      text += (i > 0 ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    }
    text += R"(,"k5":"again","k199999":null})";
    const Json j = parse_json(text); // Json::parse takes minutes on this
    REQUIRE(j.size() == 200'000);
    CHECK(j["k5"] == "again");
    CHECK(j["k199999"].is_null());
    CHECK((j.get_ref<const Json::object_t&>().begin() + 5)->first == "k5");
    CHECK(to_serde_json(j).size() == text.size() - std::string(R"(,"k5":"again","k199999":null)").size() +
                                       std::string(R"("again")").size() - 1 + std::string("null").size() -
                                       std::string("199999").size());
  }
  SECTION("-0 is the float -0.0, as serde_json reads it")
  {
    const Json j = parse_json("[-0,0,-0.0,-1]");
    CHECK(j[0].is_number_float());
    CHECK(j[1].is_number_unsigned());
    CHECK(to_serde_json(j) == "[-0.0,0,-0.0,-1]");
    TaskRecord r;
    Json rec = parse_json(k_fresh_record);
    rec["task"]["ttl"] = parse_json("-0");
    CHECK(record_from_json(rec, r).size() == 1); // serde: a float is not a u64
  }
  SECTION("deep documents do not recurse")
  {
    const Json j = parse_json(std::string(500'000, '[') + std::string(500'000, ']'));
    CHECK(j.is_array());
  }
  SECTION("errors")
  {
    CHECK_THROWS_WITH(parse_json("[1,\n 2,]"), "malformed JSON at line 2, column 4 (byte offset 7): syntax error "
                                               "while parsing value - unexpected ']'; expected '[', '{', or a literal");
    CHECK_THROWS_AS(parse_json("1e999"), InvalidArgument);
    CHECK_THROWS_WITH(parse_json("1e999"), Catch::Contains("number overflow"));
    try {
      parse_json("{");
      FAIL("no exception");
    } catch (const InvalidArgument& e) {
      CHECK(error_chain(e).size() == 2); // the parser's exception is nested
    }
  }
}


TEST_CASE("serde_parse_f64: serde_json's reading, and what it refuses as out of range")
{
  CHECK(serde_parse_f64("0") == 0.0);
  CHECK(serde_parse_f64("1.5") == 1.5);
  CHECK(serde_parse_f64("-2.5e-3") == -2.5e-3);
  CHECK(serde_parse_f64("1E2") == 100.0);
  CHECK(serde_parse_f64("0.1") == 0.1);
  CHECK(serde_parse_f64("123.456") == 123.456);
  CHECK(serde_parse_f64("1e23") == 1e23);
  CHECK(serde_parse_f64("5e-324") == 5e-324);
  CHECK(serde_parse_f64("1.7976931348623157e308") == 1.7976931348623157e308);
  // Out of range for serde_json although they round to f64::MAX.
  CHECK_FALSE(serde_parse_f64("1.7976931348623158e308"));
  CHECK_FALSE(serde_parse_f64("1.797693134862315807e308"));
  CHECK_FALSE(serde_parse_f64("1.7976931348623159e308"));
  CHECK_FALSE(serde_parse_f64("1e309"));
  CHECK_FALSE(serde_parse_f64("-1e309"));
  CHECK_FALSE(serde_parse_f64("2e308"));
  CHECK_FALSE(serde_parse_f64("1E400"));
  CHECK_FALSE(serde_parse_f64("1e99999999999"));
  // Underflow is never an error.
  CHECK(serde_parse_f64("1e-400") == 0.0);
  CHECK(serde_parse_f64("0e2147483648") == 0.0);
  CHECK(serde_parse_f64("1e-2147483648") == 0.0);
  // Not one ulp of correct rounding: serde's truncating algorithm.
  CHECK(serde_parse_f64("2.4703282292062328e-324") == 0.0);
  CHECK(serde_parse_f64("1.603964615428183e143") == 1.6039646154281832e143);
  // Not numbers.
  for (const char* bad : {"", "-", "01", "1.", ".5", "+1", "1e", "1e+", "NaN", "1x"}) {
    INFO(bad);
    CHECK_FALSE(serde_parse_f64(bad));
  }
}
