#include "stream/core/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace pinstream::core {

TEST(ExpandEnv, SubstitutesVariablesAndDefaults) {
  ::setenv("PS_TEST_VAR", "abc", 1);
  ::unsetenv("PS_TEST_UNSET");
  auto r = expand_env("a=${PS_TEST_VAR} b=${PS_TEST_UNSET:-dflt} c=$$ d=$x");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, "a=abc b=dflt c=$ d=$x");
}

TEST(ExpandEnv, UnsetWithoutDefaultNamesLineAndVariable) {
  ::unsetenv("PS_TEST_UNSET");
  auto r = expand_env("x: 1\ny: ${PS_TEST_UNSET}\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "line 2: environment variable 'PS_TEST_UNSET' is not set and has no default");
  EXPECT_FALSE(expand_env("${OPEN").has_value());
}

TEST(ConfigNode, UnknownKeyErrorNamesFileLineColumnAndKey) {
  auto root = parse_config_text("runtime:\n  epoch_interval_ms: 100\n  epohc: 3\n", "p.yaml");
  ASSERT_TRUE(root.has_value());
  auto rt = root->get("runtime");
  ASSERT_TRUE(rt.has_value());
  EXPECT_EQ(*(*rt)->get_int("epoch_interval_ms"), 100);
  Status st = (*rt)->reject_unknown_keys();
  EXPECT_EQ(st.message(), "p.yaml:3:10: key 'runtime.epohc': unknown key 'epohc'");
}

TEST(ConfigNode, WrongTypeErrorNamesKey) {
  auto root = parse_config_text("a:\n  n: twelve\n", "f.yaml");
  ASSERT_TRUE(root.has_value());
  auto a = root->get("a");
  auto n = (*a)->get_int("n");
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().message(), "f.yaml:2:6: key 'a.n': expected an integer, got 'twelve'");
  EXPECT_FALSE(root->get("missing").has_value());
}

TEST(ConfigNode, YamlSyntaxErrorNamesFileAndLine) {
  auto root = parse_config_text("a: [1, 2\nb: 3\n", "bad.yaml");
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().message().rfind("bad.yaml:", 0), 0u) << root.error().message();
}

}  // namespace pinstream::core
