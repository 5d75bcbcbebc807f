target_sources(pinstream_runtime PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/generator.cc ${CMAKE_CURRENT_LIST_DIR}/vocabulary.cc
  ${CMAKE_CURRENT_LIST_DIR}/files_sink.cc ${CMAKE_CURRENT_LIST_DIR}/kafka_rest_sink.cc
  ${CMAKE_CURRENT_LIST_DIR}/sinks.cc ${CMAKE_CURRENT_LIST_DIR}/kinesis_sink.cc)
