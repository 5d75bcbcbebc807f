// The individual sources of the credential chain (credentials.h), one function each, for
// the chain and the tests. Each returns nullopt when the source is not configured here,
// an error when it is configured but fails, and credentials otherwise.
#pragma once

#include <optional>
#include <string>

#include "connectors/aws/credentials.h"

namespace pinstream::connectors::aws {

using MaybeCredentials = core::Result<std::optional<Credentials>>;

MaybeCredentials credentials_from_environment();
// AWS_PROFILE (default "default") in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
// AWS_CONFIG_FILE (~/.aws/config). A named AWS_PROFILE that is nowhere is an error.
MaybeCredentials credentials_from_profile();
MaybeCredentials credentials_from_web_identity();
MaybeCredentials credentials_from_container();
// Skipped when AWS_EC2_METADATA_DISABLED=true; not configured when nothing answers.
MaybeCredentials credentials_from_imds();

// The value of `key` in section `section` of an INI file ("" when absent); for the
// shared config files.
std::string ini_value(const std::string& path, const std::string& section, const std::string& key);

}  // namespace pinstream::connectors::aws
