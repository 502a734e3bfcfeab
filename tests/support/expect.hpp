#pragma once
// Assertion helpers shared by the suites that link test_stores.

#include "taskstore/error.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace taskstore::testing {

// Runs f and returns the StorageError it throws; fails the current test when
// f returns normally or throws anything else.
template <class F>
StorageError
storage_error_of(F&& f)
{
  try {
    f();
  } catch (const StorageError& e) {
    return e;
  }
  FAIL("expected a StorageError");
  throw std::logic_error("unreachable");
}

} // namespace taskstore::testing
