# The SQLite backend's own tests: file mode, schema checks, read-only opens,
# multi-process CAS. Included by tests/unit/CMakeLists.txt.
if(TASKCTL_WITH_SQLITE)
  add_executable(unit_sqlite ${CMAKE_CURRENT_LIST_DIR}/sqlite_test.cpp)
  # SQLite itself only to inspect the file the backend wrote.
  target_link_libraries(unit_sqlite PRIVATE catch_main test_stores taskstore::taskstore taskctl_warnings
                        SQLite::SQLite3)
  add_test(NAME unit.sqlite COMMAND unit_sqlite)
  set_tests_properties(unit.sqlite PROPERTIES LABELS "unit;sqlite" TIMEOUT 300)
endif()
