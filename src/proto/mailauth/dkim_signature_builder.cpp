#include "proto/mailauth/dkim_signature_builder.hpp"

namespace postamt::mailauth {
namespace {

constexpr std::size_t kLineWidth = 78;

class FoldedWriter {
 public:
  explicit FoldedWriter(std::string start) : text_(std::move(start)), column_(text_.size()) {}

  // Adds a piece, folding before it when it would pass the line width.
  void add(std::string_view piece, bool space_before) {
    if (column_ + piece.size() + (space_before ? 1 : 0) > kLineWidth && column_ > 1) {
      fold();
    } else if (space_before) {
      text_.push_back(' ');
      ++column_;
    }
    text_.append(piece);
    column_ += piece.size();
  }
  void fold() {
    text_.append("\r\n\t");
    column_ = 1;
  }
  // A long value cut anywhere (base64: FWS is allowed between its characters).
  void add_breakable(std::string_view value) {
    while (!value.empty()) {
      if (column_ >= kLineWidth) fold();
      const std::size_t take = std::min(value.size(), kLineWidth - column_);
      text_.append(value.substr(0, take));
      column_ += take;
      value.remove_prefix(take);
    }
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
  std::size_t column_;
};

}  // namespace

std::string build_dkim_signature_field(const DkimSignatureFields& fields, std::string_view signature_base64) {
  FoldedWriter out("DKIM-Signature:");
  out.add("v=1;", true);
  out.add("a=" + std::string(algorithm_name(fields.algorithm)) + ";", true);
  out.add("c=" + std::string(canon_name(fields.header_canon)) + "/" + std::string(canon_name(fields.body_canon)) + ";",
          true);
  out.add("d=" + fields.domain + ";", true);
  out.add("s=" + fields.selector + ";", true);
  if (!fields.identity.empty()) out.add("i=" + fields.identity + ";", true);
  if (fields.timestamp) out.add("t=" + std::to_string(*fields.timestamp) + ";", true);
  if (fields.expiration) out.add("x=" + std::to_string(*fields.expiration) + ";", true);
  if (fields.body_length) out.add("l=" + std::to_string(*fields.body_length) + ";", true);
  // h= folded at its colons (FWS is allowed around them, §3.5).
  for (std::size_t i = 0; i < fields.signed_headers.size(); ++i) {
    std::string piece = (i == 0 ? "h=" : "") + fields.signed_headers[i];
    piece += (i + 1 == fields.signed_headers.size()) ? ";" : ":";
    out.add(piece, i == 0);
  }
  out.add("bh=", true);
  out.add_breakable(fields.body_hash_base64 + ";");
  out.fold();  // b= always starts a line: see the header comment
  out.add("b=", false);
  out.add_breakable(signature_base64);
  return out.take();
}

}  // namespace postamt::mailauth
