# The object-store layer: one interface (object_store.h), a local-disk and an S3 store.
target_sources(pinstream_connectors PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/local_store.cc ${CMAKE_CURRENT_LIST_DIR}/open_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/s3_client.cc ${CMAKE_CURRENT_LIST_DIR}/s3_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/s3_store.cc)
