#include "dns/dns_error.hpp"

namespace postamt::dns {

std::string_view dns_failure_name(DnsFailure failure) {
  switch (failure) {
    case DnsFailure::no_such_domain: return "no such domain";
    case DnsFailure::null_mx: return "domain accepts no mail (null MX)";
    case DnsFailure::bad_name: return "invalid domain name";
    case DnsFailure::server_failure: return "DNS server failure";
    case DnsFailure::refused: return "DNS query refused";
    case DnsFailure::timeout: return "DNS timeout";
    case DnsFailure::shutdown: return "resolver shut down";
    case DnsFailure::other: return "DNS error";
  }
  return "DNS error";
}

bool dns_failure_is_permanent(DnsFailure failure) {
  return failure == DnsFailure::no_such_domain || failure == DnsFailure::null_mx ||
         failure == DnsFailure::bad_name;
}

Error DnsError::to_error() const {
  return Error{permanent() ? ErrorKind::permanent : ErrorKind::temporary, message};
}

}  // namespace postamt::dns
