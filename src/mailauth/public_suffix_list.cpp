#include "mailauth/public_suffix_list.hpp"

#include <libpsl.h>

namespace postamt::mailauth {

Result<PublicSuffixList> PublicSuffixList::load(const std::string& path) {
  // psl_latest() picks the newest of the built-in data and the distribution file.
  psl_ctx_t* context = path.empty() ? psl_latest(nullptr) : psl_load_file(path.c_str());
  if (!context) {
    return permanent_error("cannot load the Public Suffix List" + (path.empty() ? std::string() : " from " + path));
  }
  return PublicSuffixList(std::shared_ptr<const psl_ctx_st>(context, [](const psl_ctx_st* c) {
    psl_free(const_cast<psl_ctx_t*>(c));
  }));
}

std::string PublicSuffixList::organisational_domain(std::string_view domain) const {
  std::string name(domain);
  if (!name.empty() && name.back() == '.') name.pop_back();
  const char* registrable = psl_registrable_domain(context_.get(), name.c_str());
  return registrable ? std::string(registrable) : name;
}

}  // namespace postamt::mailauth
