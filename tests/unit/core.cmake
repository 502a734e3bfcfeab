# Unit tests of time, record and validate (one executable per module).
foreach(t time record validate)
  add_executable(unit_${t} ${t}_test.cpp)
  target_link_libraries(unit_${t} PRIVATE catch_main taskstore::taskstore taskctl_warnings)
  add_test(NAME unit.${t} COMMAND unit_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS "unit" TIMEOUT 120)
endforeach()
