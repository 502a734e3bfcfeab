# Unit tests of key, error, uri and registry.
foreach(t key error uri registry)
  add_executable(unit_${t} ${t}_test.cpp)
  target_link_libraries(unit_${t} PRIVATE catch_main taskstore::taskstore taskctl_warnings)
  target_compile_definitions(unit_${t} PRIVATE $<$<AND:$<BOOL:${TASKCTL_WITH_SQLITE}>,$<BOOL:${TASKCTL_WITH_REDIS}>,$<BOOL:${TASKCTL_WITH_DYNAMODB}>>:TASKSTORE_TEST_ALL_BACKENDS=1>)
  add_test(NAME unit.${t} COMMAND unit_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS "unit")
endforeach()
