#include "masking/trigger_regex.hpp"

namespace phigate::masking::trigger_regex {
namespace {

byte_set range(unsigned from, unsigned to) {
  byte_set s;
  for (unsigned b = from; b <= to; ++b) s.set(b);
  return s;
}

// Reads the subset of PCRE that describes a set of strings without looking at the surroundings. Anything
// else (anchors, \b, back references, look-around, inline options other than "(?i:") makes the parse fail,
// and the expression stays with Hyperscan.
class parser {
 public:
  parser(std::string_view text, bool caseless, bool exact)
      : text_(text), caseless_(caseless), exact_(exact) {}

  std::optional<node> parse() {
    std::optional<node> n = alternation();
    if (!n || at_ < text_.size()) return std::nullopt;
    return n;
  }

 private:
  bool more() const { return at_ < text_.size(); }
  char peek() const { return text_[at_]; }

  std::optional<node> alternation() {
    node alt{node::kind::alt};
    for (;;) {
      std::optional<node> branch = sequence();
      if (!branch) return std::nullopt;
      alt.children.push_back(std::move(*branch));
      if (!more() || peek() != '|') break;
      ++at_;
    }
    if (alt.children.size() == 1) return std::move(alt.children.front());
    return alt;
  }

  std::optional<node> sequence() {
    node seq{node::kind::concat};
    while (more() && peek() != '|' && peek() != ')') {
      std::optional<node> item = quantified();
      if (!item) return std::nullopt;
      seq.children.push_back(std::move(*item));
    }
    return seq;
  }

  std::optional<node> quantified() {
    std::optional<node> item = atom();
    while (item && more()) {
      unsigned lo = 0, hi = 0;
      char c = peek();
      if (c == '?' || c == '*' || c == '+') {
        ++at_;
        lo = c == '+' ? 1 : 0;
        hi = c == '?' ? 1 : unbounded;
      } else if (c != '{' || !counted(lo, hi)) {
        break;
      }
      if (more() && peek() == '+') return std::nullopt;  // possessive
      if (more() && peek() == '?') ++at_;                // lazy: same strings
      node rep{node::kind::repeat};
      rep.min = lo;
      rep.max = hi;
      rep.children.push_back(std::move(*item));
      item = std::move(rep);
    }
    return item;
  }

  // "{n}", "{n,}" or "{n,m}" at at_; anything else is not a quantifier.
  bool counted(unsigned& lo, unsigned& hi) {
    std::size_t p = at_ + 1;
    auto number = [&](unsigned& out) {
      std::size_t begin = p;
      out = 0;
      while (p < text_.size() && text_[p] >= '0' && text_[p] <= '9' && p - begin < 6)
        out = out * 10 + static_cast<unsigned>(text_[p++] - '0');
      return p > begin;
    };
    if (!number(lo)) return false;
    hi = lo;
    if (p < text_.size() && text_[p] == ',') {
      ++p;
      if (!number(hi)) hi = unbounded;
    }
    if (p >= text_.size() || text_[p] != '}' || hi < lo) return false;
    at_ = p + 1;
    return true;
  }

  std::optional<node> atom() {
    char c = text_[at_++];
    switch (c) {
      case '(':
        return group();
      case '[':
        return bytes(char_class());
      case '.':
        if (exact_) return std::nullopt;
        return bytes(range(0, 255));  // a superset of "any byte but \n"
      case '\\':
        return bytes(escape());
      case '^':
      case '$':
      case '*':
      case '+':
      case '?':
      case '{':
      case ')':
        return std::nullopt;
      default:
        return bytes(literal(static_cast<unsigned char>(c)));
    }
  }

  std::optional<node> group() {
    bool outer = caseless_;
    if (more() && peek() == '?') {
      if (text_.substr(at_, 2) == "?:") {
        at_ += 2;
      } else if (text_.substr(at_, 3) == "?i:") {
        at_ += 3;
        caseless_ = true;
      } else {
        return std::nullopt;
      }
    }
    std::optional<node> inner = alternation();
    caseless_ = outer;
    if (!inner || !more() || peek() != ')') return std::nullopt;
    ++at_;
    return inner;
  }

  std::optional<node> bytes(std::optional<byte_set> s) {
    if (!s) return std::nullopt;
    node n{node::kind::bytes};
    n.set = *s;
    return n;
  }

  byte_set literal(unsigned char c) const {
    byte_set s;
    s.set(c);
    if (caseless_ && c >= 'a' && c <= 'z') s.set(c - 'a' + 'A');
    if (caseless_ && c >= 'A' && c <= 'Z') s.set(c - 'A' + 'a');
    return s;
  }

  // After a backslash: a single byte ("\.", "\t", "\x41") or -1.
  int escaped_byte() {
    if (!more()) return -1;
    char c = peek();
    switch (c) {
      case 't':
        ++at_;
        return '\t';
      case 'n':
        ++at_;
        return '\n';
      case 'r':
        ++at_;
        return '\r';
      case 'f':
        ++at_;
        return '\f';
      case 'v':
        ++at_;
        return '\v';
      case 'e':
        ++at_;
        return 0x1B;
      case 'a':
        ++at_;
        return 0x07;
      case 'x':
        return hex_escape();
      default:
        break;
    }
    bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (alnum || static_cast<unsigned char>(c) >= 0x80) return -1;  // \d, \b, \1, \p, \Q, ...
    ++at_;
    return static_cast<unsigned char>(c);
  }

  // After a backslash: a byte or one of the class escapes \d \D \w \W \s \S. Others (\b, \1, \p, \Q, \A, ...)
  // fail. \s is taken as the widest PCRE reading (with \v), which only adds bytes.
  std::optional<byte_set> escape() {
    byte_set digits = range('0', '9');
    byte_set word = digits | range('A', 'Z') | range('a', 'z') | range('_', '_');
    byte_set space = range('\t', '\r') | range(' ', ' ');
    if (more()) {
      switch (peek()) {
        case 'd':
          ++at_;
          return digits;
        case 'D':
          ++at_;
          return ~digits;
        case 'w':
          ++at_;
          return word;
        case 'W':
          ++at_;
          return ~word;
        case 's':
        case 'S': {
          if (exact_) return std::nullopt;  // which bytes Hyperscan counts as space is not pinned down here
          const bool negated = peek() == 'S';
          ++at_;
          return negated ? ~space : space;
        }
        default:
          break;
      }
    }
    int b = escaped_byte();
    if (b < 0) return std::nullopt;
    return literal(static_cast<unsigned char>(b));
  }

  int hex_escape() {
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    if (at_ + 3 > text_.size() || hex(text_[at_ + 1]) < 0 || hex(text_[at_ + 2]) < 0) return -1;
    int value = hex(text_[at_ + 1]) * 16 + hex(text_[at_ + 2]);
    at_ += 3;
    return value;
  }

  // One class member that may start a range: a plain byte, an escaped byte, or -1 for a class escape (whose
  // set is put in `set`).
  std::optional<int> class_item(byte_set& set) {
    if (peek() != '\\') {
      int b = static_cast<unsigned char>(text_[at_++]);
      return b;
    }
    ++at_;
    std::size_t before = at_;
    int b = escaped_byte();
    if (b >= 0) return b;
    at_ = before;
    std::optional<byte_set> s = escape();
    if (!s) return std::nullopt;
    set |= *s;
    return -1;
  }

  // After "[". Ranges are byte-wise; caseless folds ASCII letters before a negation applies.
  std::optional<byte_set> char_class() {
    bool negate = more() && peek() == '^';
    if (negate) ++at_;
    byte_set s;
    bool first = true;
    while (more() && (peek() != ']' || first)) {
      first = false;
      if (text_.substr(at_, 2) == "[:") return std::nullopt;  // POSIX classes
      std::optional<int> low = class_item(s);
      if (!low) return std::nullopt;
      if (*low < 0) continue;
      int high = *low;
      if (at_ + 1 < text_.size() && peek() == '-' && text_[at_ + 1] != ']') {
        ++at_;
        byte_set unused;
        std::optional<int> upper = class_item(unused);
        if (!upper || *upper < *low) return std::nullopt;
        high = *upper;
      }
      for (int b = *low; b <= high; ++b) s |= literal(static_cast<unsigned char>(b));
    }
    if (!more()) return std::nullopt;
    ++at_;  // "]"
    return negate ? ~s : s;
  }

  std::string_view text_;
  std::size_t at_ = 0;
  bool caseless_;
  bool exact_;  // fail where the reading would only be a superset of Hyperscan's
};

}  // namespace

std::optional<node> parse(std::string_view expression, bool caseless) {
  return parser(expression, caseless, false).parse();
}

std::optional<node> parse_exact(std::string_view expression, bool caseless) {
  return parser(expression, caseless, true).parse();
}

}  // namespace phigate::masking::trigger_regex
