#include "auth/throttle_state.hpp"

#include <charconv>
#include <system_error>

#include "auth/address.hpp"
#include "base/atomic_file.hpp"
#include "base/log.hpp"

namespace postamt::auth {
namespace fs = std::filesystem;
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);

std::string to_hex(std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : text) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.empty()) return std::nullopt;
  std::string text;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc() || end != hex.data() + i + 2) return std::nullopt;
    text.push_back(static_cast<char>(value));
  }
  return text;
}

template <class Number>
Number number(std::string_view text) {
  Number value{};
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

fs::path locks_file(const fs::path& data_dir) { return data_dir / "auth-locks"; }
fs::path unlock_requests_dir(const fs::path& data_dir) { return data_dir / "auth-unlock"; }

std::string format_locks(const std::vector<ThrottleEntry>& entries, AuthThrottle::Clock::time_point now) {
  const auto wall_now = std::chrono::system_clock::now();
  std::string text;
  for (const ThrottleEntry& entry : entries) {
    const auto until = wall_now + std::chrono::duration_cast<std::chrono::system_clock::duration>(entry.until - now);
    text += entry.kind == ThrottleEntry::Kind::source ? "source" : "account";
    text += '\t' + entry.key + '\t' + std::to_string(entry.failures) + '\t' +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(until.time_since_epoch()).count()) +
            '\t' + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(entry.delay).count()) +
            '\n';
  }
  return text;
}

std::vector<LockLine> parse_locks(std::string_view text) {
  std::vector<LockLine> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
      const auto tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 5) continue;
    lines.push_back({std::string(fields[0]), std::string(fields[1]), number<unsigned>(fields[2]),
                     number<std::int64_t>(fields[3]), number<std::int64_t>(fields[4])});
  }
  return lines;
}

fs::path unlock_request_path(const fs::path& data_dir, std::string_view target) {
  return unlock_requests_dir(data_dir) / to_hex(target);
}

std::vector<std::string> take_unlock_requests(const fs::path& data_dir) {
  std::vector<std::string> targets;
  std::error_code ec;
  for (fs::directory_iterator it(unlock_requests_dir(data_dir), ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path path = it->path();
    if (auto target = from_hex(path.filename().string())) targets.push_back(std::move(*target));
    fs::remove(path, ec);  // taken (or not a request at all)
    ec.clear();
  }
  return targets;
}

ThrottleStateSync::ThrottleStateSync(asio::any_io_executor executor, AuthThrottle& throttle, fs::path data_dir)
    : timer_(std::move(executor)), throttle_(throttle), data_dir_(std::move(data_dir)) {}

void ThrottleStateSync::start() {
  std::error_code ec;
  fs::create_directories(unlock_requests_dir(data_dir_), ec);
  fs::permissions(unlock_requests_dir(data_dir_), fs::perms::owner_all, ec);
  tick();
}

void ThrottleStateSync::stop() {
  stopped_ = true;
  timer_.cancel();
}

void ThrottleStateSync::schedule() {
  if (stopped_) return;
  timer_.expires_after(kPollInterval);
  timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) tick();
  });
}

void ThrottleStateSync::tick() {
  const auto now = AuthThrottle::Clock::now();
  throttle_.prune(now);
  for (const std::string& target : take_unlock_requests(data_dir_)) {
    auto account = normalize_address(target);
    const bool lifted = throttle_.unlock(account ? *account : target);
    log::info("auth.unlock", {{"target", target}, {"lifted", lifted ? "yes" : "nothing locked"}});
  }
  if (const auto changes = throttle_.changes(); changes != written_changes_) {
    if (auto written = write_file_atomically(locks_file(data_dir_), format_locks(throttle_.entries(now), now), 0600);
        written) {
      written_changes_ = changes;
    } else {
      log::warn("auth.locks_write_failed", {{"error", written.error().message}});
    }
  }
  schedule();
}

}  // namespace postamt::auth
