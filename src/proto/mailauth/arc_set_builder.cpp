#include "proto/mailauth/arc_set_builder.hpp"

#include "proto/mailauth/tag_list.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::size_t kLineWidth = 76;

// Appends "tag=value;" items separated by a space, or a fold when the line would grow
// past kLineWidth. b= always has a line of its own, unbroken (see the header).
class FieldWriter {
 public:
  explicit FieldWriter(std::string_view name) : text_(std::string(name) + ":"), line_(text_.size()) {}

  void tag(std::string_view name, std::string_view value, bool last = false) {
    std::string item = std::string(name) + "=" + std::string(value) + (last ? "" : ";");
    if (line_ + 1 + item.size() > kLineWidth) {
      fold();
    } else {
      text_ += ' ';
      ++line_;
    }
    text_ += item;
    line_ += item.size();
  }

  void signature(std::string_view base64) {
    fold();
    text_ += "b=";
    text_ += base64;
    text_ += ';';
    line_ += 3 + base64.size();
  }

  std::string take() { return std::move(text_); }

 private:
  void fold() {
    text_ += "\r\n ";
    line_ = 1;
  }
  std::string text_;
  std::size_t line_ = 0;
};

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The results of an authres-payload after its authserv-id, split at top-level ";".
std::vector<std::string_view> split_results(std::string_view text) {
  std::vector<std::string_view> parts;
  int comment_depth = 0;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && (quoted || comment_depth > 0)) {
      ++i;
    } else if (quoted) {
      quoted = c != '"';
    } else if (c == '"' && comment_depth == 0) {
      quoted = true;
    } else if (c == '(') {
      ++comment_depth;
    } else if (c == ')' && comment_depth > 0) {
      --comment_depth;
    } else if (c == ';' && comment_depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace

std::string build_arc_seal_field(const ArcSealFields& fields, std::string_view signature_base64) {
  FieldWriter writer("ARC-Seal");
  writer.tag("a", algorithm_name(fields.algorithm));
  writer.signature(signature_base64);
  writer.tag("cv", arc_status_name(fields.chain_status));
  writer.tag("d", fields.domain);
  writer.tag("i", std::to_string(fields.instance));
  writer.tag("s", fields.selector);
  writer.tag("t", std::to_string(fields.timestamp), /*last=*/true);
  return writer.take();
}

std::string build_arc_message_signature_field(const ArcMessageSignatureFields& fields,
                                              std::string_view signature_base64) {
  FieldWriter writer("ARC-Message-Signature");
  writer.tag("a", algorithm_name(fields.algorithm));
  writer.signature(signature_base64);
  writer.tag("bh", fields.body_hash_base64);
  writer.tag("c", "relaxed/relaxed");
  writer.tag("d", fields.domain);
  std::string names;
  for (const auto& name : fields.signed_headers) {
    if (!names.empty()) names += ':';
    names += name;
  }
  writer.tag("h", names);
  writer.tag("i", std::to_string(fields.instance));
  writer.tag("s", fields.selector);
  writer.tag("t", std::to_string(fields.timestamp), /*last=*/true);
  return writer.take();
}

std::string build_arc_authentication_results_field(std::uint32_t instance, std::string_view payload) {
  return "ARC-Authentication-Results: i=" + std::to_string(instance) + "; " + std::string(trim_fws(payload));
}

std::string merged_auth_results(const std::vector<HeaderField>& fields, std::string_view authserv_id) {
  std::vector<std::string> results;
  for (const HeaderField& field : fields) {
    if (!field_name_equals(field.name, "Authentication-Results")) continue;
    const std::vector<std::string_view> parts = split_results(field.value);
    // RFC 8601 §2.2: authserv-id [CFWS authres-version] — the first word is the id.
    std::string_view id = trim_fws(parts.front());
    std::size_t end = 0;
    while (end < id.size() && !is_wsp(id[end]) && id[end] != '(') ++end;
    if (to_lower_ascii(id.substr(0, end)) != to_lower_ascii(authserv_id)) continue;
    for (std::size_t k = 1; k < parts.size(); ++k) {
      const std::string_view result = trim_fws(parts[k]);
      if (!result.empty()) results.emplace_back(result);
    }
  }
  if (results.empty()) return {};
  std::string payload = std::string(authserv_id) + "; ";
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (k > 0) payload += ";\r\n  ";
    payload += results[k];
  }
  return payload;
}

}  // namespace postamt::mailauth
