#include "imap/message/thread_builder.hpp"

#include <algorithm>
#include <span>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace postamt::imap {
namespace {

constexpr int kNone = -1;
// Bounds for hostile mailboxes (a References chain of 100,000 messages, or one message
// naming 100,000 ids): a walk up the tree gives up after kMaxWalk steps (the link is then
// left out, as one that would close a loop), only the last kMaxReferences ids of a message
// count, and a thread deeper than kMaxDepth is flattened at that depth, so the recursive
// steps below stay within a small stack. Real threads stay far below all three.
constexpr int kMaxWalk = 4096;
constexpr std::size_t kMaxReferences = 500;
constexpr int kMaxDepth = 500;

// A node of the thread tree: a message, or a dummy standing for a referenced message that
// is not among the threaded ones (RFC 5256 §4 step 1).
struct Container {
  int message = kNone;  // index into the messages
  int parent = kNone;
  std::vector<int> children;
};

class ReferencesThreader {
 public:
  explicit ReferencesThreader(std::vector<ThreadMessage>& messages) : messages_(messages) {}

  std::string run() {
    link_references();                       // step 1
    std::vector<int> roots;                  // step 2
    for (int c = 0; c < static_cast<int>(containers_.size()); ++c) {
      if (containers_[c].parent == kNone) roots.push_back(c);
    }
    id_table_.clear();                       // step 3
    flatten(roots);
    roots = prune(roots, true);              // step 4
    sort_siblings(roots, false);             // step 4 (top level)
    merge_by_subject(roots);                 // step 5
    sort_siblings(roots, true);              // step 6
    std::string out;
    for (int root : roots) {
      out += '(';
      render(root, out);
      out += ')';
    }
    return out;
  }

 private:
  int new_container() {
    containers_.emplace_back();
    return static_cast<int>(containers_.size()) - 1;
  }

  int container_for(const std::string& id) {
    if (auto found = id_table_.find(id); found != id_table_.end()) return found->second;
    const int c = new_container();
    id_table_.emplace(id, c);
    return c;
  }

  // Whether `node` is `ancestor` or lies below it; true too when the walk is too long.
  bool is_within(int node, int ancestor) const {
    int steps = 0;
    for (int c = node; c != kNone; c = containers_[c].parent) {
      if (c == ancestor || ++steps > kMaxWalk) return true;
    }
    return false;
  }

  // Every container deeper than kMaxDepth + 1 moves up to the container at depth kMaxDepth
  // above it (iteratively: the tree may be deep here).
  void flatten(const std::vector<int>& roots) {
    std::vector<std::pair<int, int>> pending;  // container, depth
    for (int root : roots) pending.emplace_back(root, 0);
    while (!pending.empty()) {
      const auto [node, depth] = pending.back();
      pending.pop_back();
      if (depth > kMaxDepth) {
        const int anchor = containers_[node].parent;
        for (int child : containers_[node].children) {
          containers_[child].parent = anchor;
          containers_[anchor].children.push_back(child);
          pending.emplace_back(child, depth);
        }
        containers_[node].children.clear();
      } else {
        for (int child : containers_[node].children) pending.emplace_back(child, depth + 1);
      }
    }
  }

  void unlink(int child) {
    const int parent = containers_[child].parent;
    if (parent == kNone) return;
    std::erase(containers_[parent].children, child);
    containers_[child].parent = kNone;
  }

  void link(int parent, int child) {
    containers_[child].parent = parent;
    containers_[parent].children.push_back(child);
  }

  void link_references() {
    for (int m = 0; m < static_cast<int>(messages_.size()); ++m) {
      const ThreadMessage& message = messages_[m];
      // (1A) A message without Message-ID, or with one already taken by another message,
      // is treated as if its id were unique.
      int self = kNone;
      if (!message.message_id.empty()) {
        const int c = container_for(message.message_id);
        if (containers_[c].message == kNone) self = c;
      }
      if (self == kNone) self = new_container();
      containers_[self].message = m;
      // References in order: each one the parent of the next, unless they are linked
      // already or the link would close a loop.
      int previous = kNone;
      const std::size_t skipped = message.references.size() - std::min(message.references.size(), kMaxReferences);
      for (const std::string& id : std::span(message.references).subspan(skipped)) {
        const int c = container_for(id);
        if (previous != kNone && previous != c && containers_[c].parent == kNone &&
            !is_within(previous, c)) {
          link(previous, c);
        }
        previous = c;
      }
      // (1B) The last reference is the parent of this message; the most recent parent
      // wins over an older link, but never closing a loop.
      if (previous != kNone && previous != self && !is_within(previous, self)) {
        unlink(self);
        link(previous, self);
      }
    }
  }

  // Step 4: a dummy without children goes; a dummy with children is replaced by them,
  // except at the top level where it stays unless it has a single child.
  std::vector<int> prune(const std::vector<int>& siblings, bool top_level) {
    std::vector<int> kept;
    for (int c : siblings) {
      containers_[c].children = prune(containers_[c].children, false);
      for (int child : containers_[c].children) containers_[child].parent = c;
      if (containers_[c].message != kNone) {
        kept.push_back(c);
      } else if (containers_[c].children.empty()) {
        continue;
      } else if (!top_level || containers_[c].children.size() == 1) {
        for (int child : containers_[c].children) {
          containers_[child].parent = containers_[c].parent;
          kept.push_back(child);
        }
        containers_[c].children.clear();
      } else {
        kept.push_back(c);
      }
    }
    return kept;
  }

  // The message that stands for a container in sibling order: its own, or for a dummy its
  // first child's (children sorted before).
  int representative(int c) const {
    while (containers_[c].message == kNone && !containers_[c].children.empty()) {
      c = containers_[c].children.front();
    }
    return containers_[c].message;
  }

  std::tuple<std::int64_t, std::uint32_t> date_key(int c) const {
    const int m = representative(c);
    if (m == kNone) return {0, 0};
    return {messages_[m].sent, messages_[m].sequence_number};
  }

  // Sorts `siblings` by sent date (ties by sequence number); with `deep`, every set of
  // children below first (step 6), else only the children of dummies (step 4).
  void sort_siblings(std::vector<int>& siblings, bool deep) {
    for (int c : siblings) {
      if (deep || containers_[c].message == kNone) sort_siblings(containers_[c].children, deep);
    }
    std::sort(siblings.begin(), siblings.end(),
                     [&](int a, int b) { return date_key(a) < date_key(b); });
  }

  const ThreadMessage* subject_message(int c) const {
    const int m = representative(c);
    return m == kNone ? nullptr : &messages_[m];
  }

  bool is_dummy(int c) const { return containers_[c].message == kNone; }
  bool is_reply(int c) const { return !is_dummy(c) && messages_[containers_[c].message].reply_or_forward; }

  // Step 5: threads at the top level with the same base subject are gathered.
  void merge_by_subject(std::vector<int>& roots) {
    std::unordered_map<std::string, int> subjects;  // (5A)
    for (int c : roots) {                            // (5B)
      const ThreadMessage* message = subject_message(c);
      if (message == nullptr || message->base_subject.empty()) continue;
      auto [entry, inserted] = subjects.emplace(message->base_subject, c);
      if (inserted) continue;
      const int old = entry->second;
      if ((is_dummy(old) && !is_dummy(c)) || (is_reply(old) && !is_dummy(c) && !is_reply(c))) {
        entry->second = c;
      }
    }
    std::vector<bool> removed(containers_.size(), false);
    for (std::size_t i = 0; i < roots.size(); ++i) {  // (5C)
      const int c = roots[i];
      if (removed[c]) continue;
      const ThreadMessage* message = subject_message(c);
      if (message == nullptr || message->base_subject.empty()) continue;
      int& entry = subjects.at(message->base_subject);
      const int old = entry;
      if (old == c) continue;
      if (is_dummy(old) && is_dummy(c)) {
        for (int child : containers_[c].children) link(old, child);
        containers_[c].children.clear();
        removed[c] = true;
      } else if (is_dummy(old)) {
        link(old, c);
        removed[c] = true;
      } else if (is_dummy(c)) {
        link(c, old);
        removed[old] = true;
        entry = c;
      } else if (!is_reply(old) && is_reply(c)) {
        link(old, c);
        removed[c] = true;
      } else {
        const int dummy = new_container();
        removed.push_back(false);
        // The dummy takes the table message's place among the roots.
        *std::find(roots.begin(), roots.end(), old) = dummy;
        link(dummy, old);
        link(dummy, c);
        removed[c] = true;
        entry = dummy;
      }
    }
    std::erase_if(roots, [&](int c) { return removed[c]; });
  }

  void render(int c, std::string& out) const {
    const Container& container = containers_[c];
    if (container.message != kNone) {
      out += std::to_string(messages_[container.message].number);
      if (container.children.size() == 1) {
        out += ' ';
        render(container.children.front(), out);
        return;
      }
      if (!container.children.empty()) out += ' ';
    }
    for (int child : container.children) {
      out += '(';
      render(child, out);
      out += ')';
    }
  }

  std::vector<ThreadMessage>& messages_;
  std::vector<Container> containers_;
  std::unordered_map<std::string, int> id_table_;
};

}  // namespace

std::vector<std::string> message_ids(std::string_view raw_value) {
  std::vector<std::string> ids;
  std::size_t i = 0;
  int comment_depth = 0;
  while (i < raw_value.size()) {
    const char c = raw_value[i];
    if (c == '\\' && comment_depth > 0) {
      i += 2;
    } else if (c == '(') {
      ++comment_depth;
      ++i;
    } else if (c == ')' && comment_depth > 0) {
      --comment_depth;
      ++i;
    } else if (c == '<' && comment_depth == 0) {
      const std::size_t end = raw_value.find_first_of("<>", i + 1);
      if (end == std::string_view::npos) break;
      if (raw_value[end] == '<') {  // "<" without its ">": start again there
        i = end;
        continue;
      }
      // Folding inside an id is dropped; an id with other white space is malformed.
      std::string id;
      bool valid = end > i + 1;
      for (char ch : raw_value.substr(i, end - i + 1)) {
        if (ch == '\r' || ch == '\n') continue;
        if (ch == ' ' || ch == '\t') valid = false;
        id += ch;
      }
      if (valid && id.size() > 2) ids.push_back(std::move(id));
      i = end + 1;
    } else {
      ++i;
    }
  }
  return ids;
}

std::string thread_ordered_subject(std::vector<ThreadMessage> messages) {
  // Sorted by base subject, then sent date, then mailbox order.
  std::sort(messages.begin(), messages.end(), [](const ThreadMessage& a, const ThreadMessage& b) {
    return std::tie(a.base_subject, a.sent, a.sequence_number) <
           std::tie(b.base_subject, b.sent, b.sequence_number);
  });
  struct Group {
    std::size_t first = 0, end = 0;
  };
  std::vector<Group> groups;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (groups.empty() || messages[groups.back().first].base_subject != messages[i].base_subject) {
      groups.push_back(Group{i, i});
    }
    groups.back().end = i + 1;
  }
  std::sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) {
    return std::tie(messages[a.first].sent, messages[a.first].sequence_number) <
           std::tie(messages[b.first].sent, messages[b.first].sequence_number);
  });
  std::string out;
  for (const Group& group : groups) {
    out += '(';
    out += std::to_string(messages[group.first].number);
    const std::size_t children = group.end - group.first - 1;
    if (children == 1) {
      out += ' ' + std::to_string(messages[group.first + 1].number);
    } else if (children > 1) {
      out += ' ';
      for (std::size_t i = group.first + 1; i < group.end; ++i) {
        out += '(' + std::to_string(messages[i].number) + ')';
      }
    }
    out += ')';
  }
  return out;
}

std::string thread_references(std::vector<ThreadMessage> messages) {
  std::sort(messages.begin(), messages.end(), [](const ThreadMessage& a, const ThreadMessage& b) {
    return a.sequence_number < b.sequence_number;
  });
  return ReferencesThreader(messages).run();
}

}  // namespace postamt::imap
