#pragma once
// A HashSink computing SHA-256 (OpenSSL 3, kept out of this header).
#include <memory>
#include <string>
#include <string_view>

#include "proto/mailauth/dkim_canon.hpp"

struct evp_md_ctx_st;

namespace postamt::mailauth {

class Sha256Sink final : public HashSink {
 public:
  Sha256Sink();
  ~Sha256Sink() override;
  Sha256Sink(const Sha256Sink&) = delete;
  Sha256Sink& operator=(const Sha256Sink&) = delete;

  void update(std::string_view bytes) override;
  std::string finish();  // the 32-octet digest; once

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

std::string sha256(std::string_view bytes);

}  // namespace postamt::mailauth
