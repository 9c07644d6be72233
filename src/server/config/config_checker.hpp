#pragma once
// The machinery config_loader.cpp's key tables are written in: a Checker that reads typed
// values and collects every problem, KeySpec tables that find a key's handler (and the
// "did you mean" candidates), and handlers made from the member a key sets. Internal to
// server/config: it includes toml++, so nothing outside this folder includes it.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "server/config/config_loader.hpp"
#include "server/config/suggest.hpp"

namespace postamt::config::detail {

namespace fs = std::filesystem;

// Offending values are echoed back; keep a pasted blob from flooding the terminal.
constexpr std::size_t kMaxShownValue = 80;
constexpr std::int64_t kNoUpperBound = std::numeric_limits<std::int64_t>::max();

// Text helpers: everything printed stays on one line, whatever bytes the file holds.
std::string escape_controls(std::string_view text, bool escape_quotes);
// A string value as the operator wrote it, quoted and cut short when long.
std::string shown_value(std::string_view text);
// "prefix.segment", the segment quoted when it is not a bare TOML key.
std::string join_key(std::string_view prefix, std::string_view segment);
std::string_view type_name(const toml::node& node);
std::string describe_range(std::int64_t min, std::int64_t max);
std::string list_choices(std::span<const std::string_view> names);

// ---------------------------------------------------------------------------------------
// The checker: typed readers that report what is wrong and return nullopt.

// One key = value pair under validation. key is the full dotted key.
struct Field {
  std::string key;
  const toml::node& node;
};

class Checker {
 public:
  void report(std::string key, const toml::source_region& where, std::string message) {
    problems_.push_back(
        ConfigProblem{std::move(key), where.begin.line, where.begin.column, std::move(message)});
  }

  void report_whole_file(std::string key, std::string message) {
    problems_.push_back(ConfigProblem{std::move(key), 0, 0, std::move(message)});
  }

  void report_expected(const Field& field, std::string_view expected) {
    report(field.key, field.node.source(),
           fmt::format("expected {}, got {}", expected, type_name(field.node)));
  }

  void report_bad_value(const Field& field, std::string_view expected, std::string_view value) {
    report(field.key, field.node.source(),
           fmt::format("expected {}, got {}", expected, shown_value(value)));
  }

  void report_unknown_key(std::string key, const toml::source_region& where, std::string_view name,
                          std::span<const std::string_view> known) {
    std::string message = "unknown key";
    if (const auto suggestion = closest_match(name, known)) {
      message += fmt::format(", did you mean '{}'?", *suggestion);
    }
    report(std::move(key), where, std::move(message));
  }

  std::size_t problem_count() const { return problems_.size(); }

  // In file order; whole-file problems (line 0) last.
  std::vector<ConfigProblem> take_problems() {
    // Stable by the index tie-break. (std::stable_sort trips a deprecation warning in
    // libstdc++ 12 under clang 19, so it is avoided.)
    std::vector<std::size_t> order(problems_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    const auto rank = [this](std::size_t i) {
      const ConfigProblem& p = problems_[i];
      return std::tuple(p.line == 0, p.line, p.column, i);
    };
    std::ranges::sort(order, [&rank](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
    std::vector<ConfigProblem> sorted;
    sorted.reserve(order.size());
    for (const std::size_t i : order) {
      sorted.push_back(std::move(problems_[i]));
    }
    problems_.clear();
    return sorted;
  }

  std::optional<std::int64_t> integer(const Field& field, std::int64_t min, std::int64_t max) {
    const auto* value = field.node.as_integer();
    if (value == nullptr) {
      report_expected(field, describe_range(min, max));
      return std::nullopt;
    }
    if (value->get() < min || value->get() > max) {
      report(field.key, field.node.source(),
             fmt::format("expected {}, got {}", describe_range(min, max), value->get()));
      return std::nullopt;
    }
    return value->get();
  }

  std::optional<bool> boolean(const Field& field) {
    const auto* value = field.node.as_boolean();
    if (value == nullptr) {
      report_expected(field, "a boolean (true or false)");
      return std::nullopt;
    }
    return value->get();
  }

  // A string that passes valid(); expected describes the accepted form.
  template <class Predicate>
  std::optional<std::string> string(const Field& field, std::string_view expected,
                                    Predicate valid) {
    const auto* value = field.node.as_string();
    if (value == nullptr) {
      report_expected(field, expected);
      return std::nullopt;
    }
    if (!valid(std::string_view(value->get()))) {
      report_bad_value(field, expected, value->get());
      return std::nullopt;
    }
    return value->get();
  }

  // Relative paths stay relative here; resolve_paths() anchors them once all is valid.
  std::optional<fs::path> path(const Field& field) {
    auto text = string(field, "a non-empty path", [](std::string_view value) {
      return !value.empty() && value.find('\0') == std::string_view::npos;
    });
    if (!text) {
      return std::nullopt;
    }
    return fs::path(std::move(*text));
  }

  // The index of the value in names.
  std::optional<std::size_t> one_of(const Field& field, std::span<const std::string_view> names) {
    const std::string expected = "one of " + list_choices(names);
    const auto* value = field.node.as_string();
    if (value == nullptr) {
      report_expected(field, expected);
      return std::nullopt;
    }
    const std::string_view text = value->get();
    const auto found = std::ranges::find(names, text);
    if (found != names.end()) {
      return static_cast<std::size_t>(found - names.begin());
    }
    std::string message = fmt::format("expected {}, got {}", expected, shown_value(text));
    if (const auto suggestion = closest_match(text, names)) {
      message += fmt::format(" (did you mean \"{}\"?)", *suggestion);
    }
    report(field.key, field.node.source(), std::move(message));
    return std::nullopt;
  }

  // An array of strings, each passing valid(); every bad element is reported.
  template <class Predicate>
  std::optional<std::vector<std::string>> string_list(const Field& field,
                                                      std::string_view expected_item,
                                                      Predicate valid) {
    const auto* array = field.node.as_array();
    if (array == nullptr) {
      report_expected(field, fmt::format("an array of strings, each {}", expected_item));
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool all_valid = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const Field element{fmt::format("{}[{}]", field.key, i), *array->get(i)};
      if (auto text = string(element, expected_item, valid)) {
        out.push_back(std::move(*text));
      } else {
        all_valid = false;
      }
    }
    if (!all_valid) {
      return std::nullopt;
    }
    return out;
  }

 private:
  std::vector<ConfigProblem> problems_;
};

// ---------------------------------------------------------------------------------------
// Table-driven key descriptions: the same table finds the handler, detects unknown keys
// and supplies the "did you mean" candidates.

template <class Section>
struct KeySpec {
  std::string_view name;
  void (*apply)(Checker&, const Field&, Section&);
};

template <class Section>
void check_keys(Checker& checker, const toml::table& table, std::string_view prefix,
                std::span<const KeySpec<Section>> specs, Section& out) {
  std::vector<std::string_view> names;
  names.reserve(specs.size());
  for (const auto& spec : specs) {
    names.push_back(spec.name);
  }
  for (const auto& [key, node] : table) {
    const std::string_view name = key.str();
    std::string full_key = join_key(prefix, name);
    const auto spec = std::ranges::find(specs, name, &KeySpec<Section>::name);
    if (spec == specs.end()) {
      checker.report_unknown_key(std::move(full_key), key.source(), name, names);
      continue;
    }
    spec->apply(checker, Field{std::move(full_key), node}, out);
  }
}

template <class Section>
void check_section(Checker& checker, const Field& field, std::span<const KeySpec<Section>> specs,
                   Section& out) {
  const auto* table = field.node.as_table();
  if (table == nullptr) {
    checker.report_expected(field, fmt::format("a table ([{}])", field.key));
    return;
  }
  check_keys(checker, *table, field.key, specs, out);
}

// Handlers for the plain keys, made from the member they set; each converts to the
// KeySpec<Section>::apply function pointer.
template <class Member>
struct MemberTraits;

template <class Section, class Value>
struct MemberTraits<Value Section::*> {
  using SectionType = Section;
  using ValueType = Value;
};

template <auto kMember>
using SectionOf = typename MemberTraits<decltype(kMember)>::SectionType;

// Integers, and durations counted in their own unit (seconds, milliseconds).
template <auto kMember, std::int64_t kMin, std::int64_t kMax>
void integer_key(Checker& checker, const Field& field, SectionOf<kMember>& out) {
  using Value = typename MemberTraits<decltype(kMember)>::ValueType;
  if (const auto value = checker.integer(field, kMin, kMax)) {
    out.*kMember = Value(*value);
  }
}

template <auto kMember>
void boolean_key(Checker& checker, const Field& field, SectionOf<kMember>& out) {
  if (const auto value = checker.boolean(field)) {
    out.*kMember = *value;
  }
}

// fs::path and std::optional<fs::path> members alike.
template <auto kMember>
void path_key(Checker& checker, const Field& field, SectionOf<kMember>& out) {
  if (auto value = checker.path(field)) {
    out.*kMember = std::move(*value);
  }
}

}  // namespace postamt::config::detail
