# Redis backend benchmark (bench/redis.sh builds it in Release, starts a
# redis-server of its own and runs it).
if(TASKCTL_WITH_REDIS)
  add_executable(redis_bench ${CMAKE_CURRENT_LIST_DIR}/redis_bench.cpp)
  # hiredis directly only for the fill and the anchor's access pattern.
  target_link_libraries(redis_bench PRIVATE taskstore::taskstore PkgConfig::HIREDIS taskctl_warnings)
endif()
