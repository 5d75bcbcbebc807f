target_sources(pinstream_connectors PRIVATE 
  ${CMAKE_CURRENT_LIST_DIR}/kinesis_api.cc ${CMAKE_CURRENT_LIST_DIR}/kinesis_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/producer.cc)
target_link_libraries(pinstream_connectors PRIVATE CURL::libcurl nlohmann_json::nlohmann_json
  simdjson::simdjson)
