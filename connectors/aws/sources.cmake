# AWS identity shared by S3, Kinesis and MSK: the credential chain, SigV4 helpers (OpenSSL)
# and the MSK IAM token.
find_package(OpenSSL REQUIRED)
target_sources(pinstream_connectors PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/credentials.cc ${CMAKE_CURRENT_LIST_DIR}/credential_sources.cc
  ${CMAKE_CURRENT_LIST_DIR}/msk_iam.cc ${CMAKE_CURRENT_LIST_DIR}/sigv4.cc
  ${CMAKE_CURRENT_LIST_DIR}/xml.cc)
target_link_libraries(pinstream_connectors PRIVATE OpenSSL::Crypto nlohmann_json::nlohmann_json
  spdlog::spdlog)
