#include "auth/address.hpp"

#include "storage/api/name_rules.hpp"

namespace postamt::auth {

std::expected<std::string, std::string> normalize_address(std::string_view address) {
  return storage::normalize_address(address);
}

std::expected<std::string, std::string> normalize_domain(std::string_view domain) {
  return storage::normalize_domain_name(domain);
}

std::expected<std::string, std::string> normalize_alias_source(std::string_view source) {
  return storage::normalize_alias_source(source);
}

}  // namespace postamt::auth
