#include "connectors/aws/xml.h"

#include <gtest/gtest.h>

namespace pinstream::connectors::aws {
namespace {

TEST(Xml, FindsElementsByLocalNameWithoutMatchingLongerNames) {
  const std::string doc =
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><KeyCount>2</KeyCount>)"
      R"(<IsTruncated>true</IsTruncated><Contents><Key>a&amp;b</Key><Size>3</Size></Contents>)"
      R"(<Contents><Key>c&lt;d&#233;</Key><Size>10</Size></Contents>)"
      R"(<NextContinuationToken>tok/+=</NextContinuationToken></ListBucketResult>)";
  auto contents = xml_elements(doc, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(xml_text(contents[0], "Key"), "a&b");
  EXPECT_EQ(xml_text(contents[1], "Key"), "c<d\xc3\xa9");
  EXPECT_EQ(xml_text(contents[1], "Size"), "10");
  EXPECT_EQ(xml_text(doc, "KeyCount"), "2");
  EXPECT_EQ(xml_text(doc, "NextContinuationToken"), "tok/+=");
  EXPECT_EQ(xml_text(doc, "Missing"), "");
}

TEST(Xml, ReadsEmptyAndAttributedElements) {
  const std::string doc =
      R"(<Error><Code>NoSuchBucket</Code><Message/><Resource a="1">/b</Resource></Error>)";
  EXPECT_EQ(xml_text(doc, "Code"), "NoSuchBucket");
  EXPECT_EQ(xml_text(doc, "Message"), "");
  EXPECT_EQ(xml_text(doc, "Resource"), "/b");
}

TEST(Xml, EscapeRoundTrips) {
  const std::string s = "a<b>&\"c'";
  EXPECT_EQ(xml_escape(s), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_unescape(xml_escape(s)), s);
}

}  // namespace
}  // namespace pinstream::connectors::aws
