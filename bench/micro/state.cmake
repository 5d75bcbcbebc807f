# State micro-benchmarks: dedup claims, join + aggregate update per record, epoch flush.
pinstream_bench(state_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_bench.cc LIBS pinstream_state)
target_compile_definitions(state_bench PRIVATE PINSTREAM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
