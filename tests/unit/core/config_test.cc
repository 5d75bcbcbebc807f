#include "stream/core/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/support/test_support.h"

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
            "2:4: environment variable 'PS_TEST_UNSET' is not set and has no default; set it "
            "or write ${PS_TEST_UNSET:-default}");
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

// A billion-laughs document: `levels` levels of `width` aliases of the level below.
std::string alias_bomb(int levels, int width) {
  std::string y = "a0: &a0 [lol]\n";
  for (int l = 1; l <= levels; ++l) {
    y += "a" + std::to_string(l) + ": &a" + std::to_string(l) + " [";
    for (int w = 0; w < width; ++w) y += (w ? ",*a" : "*a") + std::to_string(l - 1);
    y += "]\n";
  }
  return y;
}

TEST(ConfigParse, AliasBombIsRefusedQuicklyAtTheNodeWhereItExpandsPastTheLimit) {
  std::string bomb = alias_bomb(9, 9);  // 9^9 = 387M nodes if expanded
  ASSERT_LT(bomb.size(), 512u);
  auto start = std::chrono::steady_clock::now();
  auto root = parse_config_text(bomb, "bomb.yaml");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(root.has_value());
  const std::string& m = root.error().message();
  EXPECT_EQ(m.rfind("bomb.yaml:", 0), 0u) << m;
  EXPECT_NE(m.find("expands to more than 100000 nodes"), std::string::npos) << m;
  EXPECT_NE(m.find("aliases"), std::string::npos) << m;
  EXPECT_LT(took, std::chrono::seconds(2));
  // A few aliases, as configurations use them to share a section, are fine.
  auto ok = parse_config_text("base: &b {x: 1, y: 2}\none: *b\ntwo: *b\n", "ok.yaml");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(*(*ok->get("two"))->get_int("y"), 2);
}

TEST(ConfigParse, LongScalarsRepeatedByAliasesAreRefusedByTheirExpandedSize) {
  std::string y = "s: &s " + std::string(500'000, 'x') + "\nl: &l [*s,*s,*s,*s,*s,*s,*s,*s]\n";
  y += "m: [*l,*l,*l,*l,*l,*l,*l,*l,*l,*l]\n";  // 80 copies of 500 KB = 40 MB
  auto root = parse_config_text(y, "big.yaml");
  ASSERT_FALSE(root.has_value());
  EXPECT_NE(root.error().message().find("32 MiB"), std::string::npos) << root.error().message();
}

TEST(ConfigParse, NestingDeeperThanTheLimitIsRefusedWithItsPosition) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  auto root = parse_config_text("a: " + deep + "\n", "deep.yaml");
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().message().rfind("deep.yaml:1:", 0), 0u) << root.error().message();
  EXPECT_NE(root.error().message().find("nested deeper than 64 levels"), std::string::npos);
  // Far deeper than yaml-cpp's own parser guard: an error, not a stack overflow.
  std::string very(200'000, '[');
  auto r2 = parse_config_text(very, "very.yaml");
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().message().rfind("very.yaml:1:", 0), 0u) << r2.error().message();
  std::string blocks;
  for (int i = 0; i < 100'000; ++i) blocks += "- ";
  auto r3 = parse_config_text(blocks + "x\n", "blocks.yaml");
  ASSERT_FALSE(r3.has_value());
  EXPECT_EQ(r3.error().message().rfind("blocks.yaml:1:", 0), 0u) << r3.error().message();
}

TEST(ConfigParse, FileOverTheSizeLimitIsRefusedWithoutParsing) {
  testing::TempDir dir{"ps-cfg"};
  std::string path = (dir.path() / "huge.yaml").string();
  std::ofstream(path) << "a: " << std::string(kMaxConfigBytes, 'x') << "\n";
  auto root = load_config_file(path);
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().message(),
            path + ":1:1: the configuration is over 1 MiB; is this the right file?");
}

TEST(ConfigParse, DuplicateKeyIsReportedAsDuplicateWithItsPosition) {
  auto root = parse_config_text("runtime:\n  epoch_interval_ms: 100\n  epoch_interval_ms: 200\n",
                                "dup.yaml");
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().message(),
            "dup.yaml:3:3: key 'runtime.epoch_interval_ms': duplicate key 'epoch_interval_ms'; "
            "keep only one");
  EXPECT_FALSE(parse_config_text("a: {x: 1, x: 2}\n", "f.yaml").has_value());
  // The same key under two different parents is no duplicate.
  EXPECT_TRUE(parse_config_text("a: {x: 1}\nb: {x: 1}\n", "f.yaml").has_value());
}

TEST(ConfigParse, UnsetVariableNamesFileLineColumnAndKey) {
  ::unsetenv("PS_TEST_UNSET");
  auto root = parse_config_text("runtime:\n  state_dir: /data/${PS_TEST_UNSET}/state\n", "e.yaml");
  ASSERT_FALSE(root.has_value());
  EXPECT_EQ(root.error().message(),
            "e.yaml:2:20: key 'runtime.state_dir': environment variable 'PS_TEST_UNSET' is not "
            "set and has no default; set it or write ${PS_TEST_UNSET:-default}");
  auto flow = parse_config_text("a: {x: 1, y: ${PS_TEST_UNSET}}\n", "f.yaml");
  ASSERT_FALSE(flow.has_value());
  EXPECT_EQ(flow.error().message().rfind("f.yaml:1:14: key 'a.y': ", 0), 0u)
      << flow.error().message();
}

TEST(ConfigParse, EmptyConfigurationFileIsReportedAtTheFileStart) {
  testing::TempDir dir{"ps-cfg"};
  for (const char* text : {"", "# only a comment\n", "\n\n"}) {
    std::string path = (dir.path() / "empty.yaml").string();
    std::ofstream(path) << text;
    auto root = load_config_file(path);
    ASSERT_FALSE(root.has_value()) << text;
    EXPECT_EQ(root.error().message().rfind(path + ":1:1: empty configuration", 0), 0u)
        << root.error().message();
  }
  // A null document read by a component points at 1:1, not 0:0.
  auto root = parse_config_text("", "n.yaml");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->get("x").error().message().rfind("n.yaml:1:1:", 0), 0u);
}

TEST(ConfigParse, NonStringMapKeyIsRefused) {
  auto root = parse_config_text("? [a, b]\n: 1\n", "k.yaml");
  ASSERT_FALSE(root.has_value());
  EXPECT_NE(root.error().message().find("a map key must be a plain string"), std::string::npos);
}

}  // namespace pinstream::core
