target_sources(pinstream_connectors PRIVATE 
  ${CMAKE_CURRENT_LIST_DIR}/kinesis_api.cc ${CMAKE_CURRENT_LIST_DIR}/kinesis_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/producer.cc)
# --available-now: where each shard ends when the run starts.
target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/shard_ends.cc)
target_link_libraries(pinstream_connectors PRIVATE CURL::libcurl nlohmann_json::nlohmann_json
  simdjson::simdjson)
