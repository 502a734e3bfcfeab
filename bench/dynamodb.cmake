# DynamoDB benchmark (bench/dynamodb.sh starts dynalite, builds it in Release and runs it).
if(TASKCTL_WITH_DYNAMODB)
  add_executable(dynamodb_bench ${CMAKE_CURRENT_LIST_DIR}/dynamodb_bench.cpp)
  target_link_libraries(dynamodb_bench PRIVATE taskstore::taskstore taskctl_warnings)
endif()
