target_sources(pinstream_connectors PRIVATE ${CMAKE_CURRENT_LIST_DIR}/http_client.cc)
target_link_libraries(pinstream_connectors PRIVATE CURL::libcurl)
