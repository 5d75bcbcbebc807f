#include "connectors/objstore/s3_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "connectors/aws/sigv4.h"
#include "connectors/aws/xml.h"

namespace pinstream::connectors::objstore {
namespace {

using core::Result;
using core::Status;

constexpr const char* kOctets = "Content-Type: application/octet-stream";

// ListObjectsV2's LastModified ("2026-11-30T03:28:20.000Z") in ms; -1 when absent or unreadable.
int64_t last_modified_ms(const std::string& text) {
  std::chrono::system_clock::time_point t;
  if (text.empty() || !aws::parse_iso8601(text, &t)) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class S3Store : public ObjectStore {
 public:
  S3Store(S3ClientConfig config, std::string prefix, const StoreOptions& options)
      : client_(std::move(config)), prefix_(std::move(prefix)), options_(options) {}
  ~S3Store() override {
    const S3Totals t = client_.totals();
    if (t.requests == 0) return;
    spdlog::info(
        "S3 requests. store={} requests={} put={} get={} list={} head={} delete={} "
        "post={} retries={} bytes_sent={} bytes_received={} busy_ms={}",
        describe(), t.requests, t.puts, t.gets, t.lists, t.heads, t.deletes, t.posts, t.retries,
        t.bytes_sent, t.bytes_received, t.busy_micros / 1000);
  }
  S3Store(const S3Store&) = delete;
  S3Store& operator=(const S3Store&) = delete;

  std::string describe() const override {
    return "s3://" + client_.config().bucket + (prefix_.empty() ? "" : "/" + prefix_);
  }

  Result<std::string> get(const std::string& key, std::optional<ByteRange> range) override {
    S3Call c;
    c.key = full(key);
    if (range) {
      if (range->length && *range->length == 0) return std::string();
      c.headers.push_back(
          "Range: bytes=" + std::to_string(range->offset) + "-" +
          (range->length ? std::to_string(range->offset + *range->length - 1) : std::string()));
    }
    c.also_accept = {416};  // InvalidRange: the range starts past the end, nothing there
    PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(c));
    if (a.response.status == 416) return std::string();
    return std::move(a.response.body);
  }

  Result<uint64_t> size(const std::string& key) override {
    S3Call c;
    c.method = "HEAD";
    c.key = full(key);
    c.want_headers = true;
    PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(c));
    return static_cast<uint64_t>(std::stoull("0" + a.response.header("content-length")));
  }

  Status put(const std::string& key, std::string_view data) override {
    if (data.size() >= options_.multipart_threshold_bytes &&
        data.size() > options_.part_size_bytes) {
      return put_multipart(full(key), data.size(), [&](S3Call& c, uint64_t off, uint64_t len) {
        c.body = data.substr(static_cast<size_t>(off), static_cast<size_t>(len));
        return Status::ok();
      });
    }
    S3Call c;
    c.method = "PUT";
    c.key = full(key);
    c.headers = {kOctets};
    c.body = data;
    return client_.call(c).status();
  }

  Status put_file(const std::string& key, const std::string& path) override {
    PS_ASSIGN_OR_RETURN(UploadFile file, UploadFile::open(path));
    if (file.size() >= options_.multipart_threshold_bytes &&
        file.size() > options_.part_size_bytes) {
      FileRange part;  // one part's range at a time: hashed first, then read again by libcurl
      return put_multipart(
          full(key), file.size(),
          [&](S3Call& c, uint64_t off, uint64_t len) {
            PS_ASSIGN_OR_RETURN(part, file.range(off, len));
            c.file = &part;
            return Status::ok();
          },
          &file);
    }
    PS_ASSIGN_OR_RETURN(FileRange whole, file.range(0, file.size()));
    S3Call c;
    c.method = "PUT";
    c.key = full(key);
    c.headers = {kOctets};
    c.file = &whole;
    PS_RETURN_IF_ERROR(client_.call(c).status());
    Status same = file.unchanged();
    if (!same.is_ok()) (void)remove(key);  // S3 checks the hash; an emulator may not
    return same;
  }

  Status put_if_absent(const std::string& key, std::string_view data) override {
    S3Call c;
    c.method = "PUT";
    c.key = full(key);
    c.headers = {kOctets, "If-None-Match: *"};
    c.body = data;
    int attempts = 0;
    Status s = client_.call(c, &attempts).status();
    if (s.code() == core::StatusCode::kAlreadyExists && attempts > 1) {
      // An earlier attempt may have written the object and lost its answer: ours if equal.
      auto existing = get(key, std::nullopt);
      if (existing.has_value() && *existing == data) return Status::ok();
    }
    return s;
  }

  Status remove(const std::string& key) override {
    S3Call c;
    c.method = "DELETE";
    c.key = full(key);
    Status s = client_.call(c).status();
    return s.code() == core::StatusCode::kNotFound ? Status::ok() : s;
  }

  Status remove_many(const std::vector<std::string>& keys) override {
    for (size_t start = 0; start < keys.size(); start += kDeleteBatch) {
      std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete><Quiet>true</Quiet>";
      for (size_t i = start; i < std::min(keys.size(), start + kDeleteBatch); ++i) {
        body += "<Object><Key>" + aws::xml_escape(full(keys[i])) + "</Key></Object>";
      }
      body += "</Delete>";
      S3Call c;
      c.method = "POST";
      c.query = {{"delete", ""}};
      c.headers = {"Content-Type: application/xml", "Content-MD5: " + aws::md5_base64(body)};
      c.body = body;
      PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(c));
      auto errors = aws::xml_elements(a.response.body, "Error");
      if (!errors.empty()) {
        return Status::io("S3 DeleteObjects in " + describe() + " failed for " +
                          std::to_string(errors.size()) + " keys, first " +
                          aws::xml_text(errors[0], "Key") + ": " +
                          aws::xml_text(errors[0], "Code"));
      }
    }
    return Status::ok();
  }

  Result<std::vector<ObjectInfo>> list(const std::string& prefix,
                                       const std::string& start_after) override {
    std::vector<ObjectInfo> out;
    std::string token;
    const size_t strip = prefix_.empty() ? 0 : prefix_.size() + 1;
    do {
      S3Call c;
      c.query = {{"list-type", "2"},
                 {"max-keys", std::to_string(options_.list_page_keys)},
                 {"prefix", full(prefix)}};
      if (!token.empty()) c.query.emplace_back("continuation-token", token);
      if (token.empty() && !start_after.empty())
        c.query.emplace_back("start-after", full(start_after));
      PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(c));
      const std::string& doc = a.response.body;
      for (auto contents : aws::xml_elements(doc, "Contents")) {
        std::string key = aws::xml_text(contents, "Key");
        if (key.size() < strip) continue;
        out.push_back({key.substr(strip), std::stoull("0" + aws::xml_text(contents, "Size")),
                       last_modified_ms(aws::xml_text(contents, "LastModified"))});
      }
      token = aws::xml_text(doc, "IsTruncated") == "true"
                  ? aws::xml_text(doc, "NextContinuationToken")
                  : "";
    } while (!token.empty());
    return out;
  }

  Status check() override {
    S3Call c;
    c.query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", full("")}};
    return client_.call(c).status();
  }

 private:
  std::string full(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "/" + key;
  }

  // Sets a part's body: the bytes [offset, offset + length) of the object.
  using PartBody = std::function<Status(S3Call&, uint64_t offset, uint64_t length)>;
  // `file` (when the parts come from one) is checked unchanged before completing.
  Status put_multipart(const std::string& key, uint64_t size, const PartBody& body,
                       const UploadFile* file = nullptr);
  Status upload_parts(const std::string& key, const std::string& upload_id, uint64_t size,
                      const PartBody& body, const UploadFile* file);

  S3Client client_;
  std::string prefix_;
  StoreOptions options_;
};

Status S3Store::put_multipart(const std::string& key, uint64_t size, const PartBody& body,
                              const UploadFile* file) {
  S3Call start;
  start.method = "POST";
  start.key = key;
  start.query = {{"uploads", ""}};
  start.headers = {kOctets};
  PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(start));
  const std::string upload_id = aws::xml_text(a.response.body, "UploadId");
  if (upload_id.empty())
    return Status::io("S3 CreateMultipartUpload for " + key + " gave no UploadId");
  Status s = upload_parts(key, upload_id, size, body, file);
  if (!s.is_ok()) {
    S3Call abort;  // best effort: a lifecycle rule cleans what this misses
    abort.method = "DELETE";
    abort.key = key;
    abort.query = {{"uploadId", upload_id}};
    (void)client_.call(abort);
  }
  return s;
}

Status S3Store::upload_parts(const std::string& key, const std::string& upload_id, uint64_t size,
                             const PartBody& body, const UploadFile* file) {
  std::string complete = "<CompleteMultipartUpload>";
  int part = 0;
  for (uint64_t off = 0; off < size; off += options_.part_size_bytes) {
    ++part;
    S3Call c;
    c.method = "PUT";
    c.key = key;
    c.query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}};
    c.headers = {kOctets};
    PS_RETURN_IF_ERROR(body(c, off, std::min<uint64_t>(options_.part_size_bytes, size - off)));
    c.want_headers = true;
    PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(c));
    complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" +
                aws::xml_escape(a.response.header("etag")) + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  if (file) PS_RETURN_IF_ERROR(file->unchanged());  // aborted: no object is made
  S3Call done;
  done.method = "POST";
  done.key = key;
  done.query = {{"uploadId", upload_id}};
  done.headers = {"Content-Type: application/xml"};
  done.body = complete;
  PS_ASSIGN_OR_RETURN(S3Answer a, client_.call(done));
  // CompleteMultipartUpload may answer 200 with an <Error> inside.
  if (a.response.body.find("<Error>") != std::string::npos) {
    return client_.error_for(done, 500, a.response.body);
  }
  return Status::ok();
}

}  // namespace

Result<S3Location> parse_s3_url(const std::string& url) {
  constexpr std::string_view kScheme = "s3://";
  if (url.rfind(kScheme, 0) != 0) return Status::invalid("not an s3:// URL: " + url);
  std::string rest = url.substr(kScheme.size());
  S3Location loc;
  auto slash = rest.find('/');
  loc.bucket = rest.substr(0, slash);
  loc.prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!loc.prefix.empty() && loc.prefix.back() == '/') loc.prefix.pop_back();
  while (!loc.prefix.empty() && loc.prefix.front() == '/') loc.prefix.erase(0, 1);
  const bool bucket_ok =
      loc.bucket.size() >= 3 && loc.bucket.size() <= 63 &&
      std::all_of(loc.bucket.begin(), loc.bucket.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
      });
  if (!bucket_ok) {
    return Status::invalid("bad S3 bucket name in " + url +
                           ": 3-63 lower-case letters, digits, '-' or '.'");
  }
  return loc;
}

std::unique_ptr<ObjectStore> make_s3_store(S3ClientConfig config, std::string prefix,
                                           const StoreOptions& options) {
  return std::make_unique<S3Store>(std::move(config), std::move(prefix), options);
}

}  // namespace pinstream::connectors::objstore
