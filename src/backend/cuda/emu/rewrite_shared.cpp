// Build tool of the emulation build (run by cmake/emu.cmake on every kernel source and
// header): copies a .cu/.cuh file line for line and turns each statement
//
//   __shared__ [__align__(n)] T name[d1][d2];
// into
//   static ::sr_emu::SharedSlot sr_emu_slot_name; auto &name =
//       ::sr_emu::shared_var<T[d1][d2], n>(sr_emu_slot_name, "name", __FILE__, __LINE__);
//
// on the same line, so that every static shared array becomes a per-block heap block:
// AddressSanitizer then sees its bounds even in template kernels (whose statics it does not
// instrument), and each block starts from NaN bytes. A #line directive keeps diagnostics,
// __FILE__ and __LINE__ on the original file. Declarations it cannot rewrite are errors.
//
// Usage: sr_emu_rewrite <input> <output>
#include <ctype.h>
#include <stdio.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

bool is_ident(char c) {
  return isalnum((unsigned char)c) || c == '_';
}

// The line with comments and the insides of string and character literals blanked out
// (same length, so columns still match the original line).
std::string blank_comments(const std::string &line, bool &in_block_comment) {
  std::string out = line;
  char quote = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (in_block_comment) {
      if (out.compare(i, 2, "*/") == 0) {
        out[i] = out[i + 1] = ' ';
        ++i;
        in_block_comment = false;
      } else {
        out[i] = ' ';
      }
    } else if (quote) {
      if (out[i] == quote) {
        quote = 0;
      } else {
        if (out[i] == '\\' && i + 1 < out.size()) out[i++] = ' ';
        out[i] = ' ';
      }
    } else if (out[i] == '"' || out[i] == '\'') {
      quote = out[i];
    } else if (out.compare(i, 2, "//") == 0) {
      for (size_t j = i; j < out.size(); ++j) out[j] = ' ';
      break;
    } else if (out.compare(i, 2, "/*") == 0) {
      out[i] = out[i + 1] = ' ';
      ++i;
      in_block_comment = true;
    }
  }
  return out;
}

size_t find_word(const std::string &s, const std::string &word, size_t from = 0) {
  for (size_t p = s.find(word, from); p != std::string::npos; p = s.find(word, p + 1)) {
    bool left = p == 0 || !is_ident(s[p - 1]);
    bool right = p + word.size() >= s.size() || !is_ident(s[p + word.size()]);
    if (left && right) return p;
  }
  return std::string::npos;
}

std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Removes `__align__(x)` or `alignas(x)` from decl and returns x ("" if none).
std::string take_alignment(std::string &decl, std::string &error) {
  for (const char *spec : {"__align__", "alignas"}) {
    size_t p = find_word(decl, spec);
    if (p == std::string::npos) continue;
    size_t open = decl.find('(', p);
    if (open == std::string::npos) break;
    int depth = 0;
    for (size_t i = open; i < decl.size(); ++i) {
      if (decl[i] == '(') ++depth;
      if (decl[i] == ')' && --depth == 0) {
        std::string align = trim(decl.substr(open + 1, i - open - 1));
        decl.erase(p, i + 1 - p);
        return align;
      }
    }
    error = "unbalanced parentheses in the alignment";
    return "";
  }
  return "";
}

// Rewrites one statement that declares a __shared__ variable; code is the line with
// comments blanked. Returns false with a message if the form is not supported.
bool rewrite(const std::string &code, const std::string &line, std::string &out,
             std::string &error) {
  size_t start = code.find_first_not_of(" \t");
  std::string indent = code.substr(0, start);
  size_t pos = start;
  if (code.compare(pos, 6, "static") == 0 && pos + 6 < code.size() && !is_ident(code[pos + 6]))
    pos = code.find_first_not_of(" \t", pos + 6);
  if (find_word(code, "extern") != std::string::npos) {
    error = "extern __shared__: declare dynamic shared memory with SR_DYNAMIC_SHARED(type, name)";
    return false;
  }
  if (code.compare(pos, 10, "__shared__") != 0) {
    error = "__shared__ must open its own declaration statement (one variable per line)";
    return false;
  }
  if (indent.empty()) {
    error = "file-scope __shared__ variables are not supported: declare them in the kernel";
    return false;
  }
  size_t semi = code.find(';', pos);
  if (semi == std::string::npos || trim(code.substr(semi + 1)).size()) {
    error = "a __shared__ declaration must fit on one line and end it with ';'";
    return false;
  }
  std::string decl = code.substr(pos + 10, semi - pos - 10);
  std::string align = take_alignment(decl, error);
  if (!error.empty()) return false;
  decl = trim(decl);
  int depth = 0;
  for (char c : decl) {
    if (c == '(' || c == '[' || c == '<') ++depth;
    if (c == ')' || c == ']' || c == '>') --depth;
    if (depth == 0 && (c == ',' || c == '=')) {
      error = "one __shared__ variable per declaration, without an initializer";
      return false;
    }
  }
  // Array bounds from the end, then the name, then the type.
  size_t end = decl.size();
  while (end > 0 && decl[end - 1] == ']') {
    int d = 0;
    size_t i = end;
    while (i > 0) {
      --i;
      if (decl[i] == ']') ++d;
      if (decl[i] == '[' && --d == 0) break;
    }
    if (d != 0) {
      error = "unbalanced brackets in the array bounds";
      return false;
    }
    end = i == 0 ? 0 : decl.find_last_not_of(" \t", i - 1) + 1;
  }
  std::string dims = trim(decl.substr(end));
  size_t name_begin = end;
  while (name_begin > 0 && is_ident(decl[name_begin - 1])) --name_begin;
  std::string name = decl.substr(name_begin, end - name_begin);
  std::string type = trim(decl.substr(0, name_begin));
  if (name.empty() || isdigit((unsigned char)name[0]) || type.empty()) {
    error = "cannot find the type and name in this __shared__ declaration";
    return false;
  }
  std::string slot = "sr_emu_slot_" + name;
  out = indent + "static ::sr_emu::SharedSlot " + slot + "; auto &" + name +
        " = ::sr_emu::shared_var<" + type + (dims.empty() ? "" : " " + dims) +
        (align.empty() ? "" : ", " + align) + ">(" + slot + ", \"" + name +
        "\", __FILE__, __LINE__);" + line.substr(semi + 1);
  return true;
}

std::string quoted(const std::string &path) {
  std::string q = "\"";
  for (char c : path) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <input .cu/.cuh> <output>\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[1]);
    return 1;
  }
  std::ostringstream out;
  out << "#define SR_EMU_REWRITTEN 1\n#line 1 " << quoted(argv[1]) << "\n";
  std::string line;
  bool in_comment = false, in_macro = false;
  int failures = 0;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::string code = blank_comments(line, in_comment);
    size_t first = code.find_first_not_of(" \t");
    bool directive = in_macro || (first != std::string::npos && code[first] == '#');
    in_macro = directive && !line.empty() && line.back() == '\\';
    if (directive || find_word(code, "__shared__") == std::string::npos) {
      out << line << '\n';
      continue;
    }
    std::string rewritten, error;
    if (!rewrite(code, line, rewritten, error)) {
      fprintf(stderr, "%s:%zu: error: %s\n", argv[1], number, error.c_str());
      ++failures;
      continue;
    }
    out << rewritten << '\n';
  }
  if (failures) return 1;
  std::error_code ignored; // a missing directory shows up as the write failing
  std::filesystem::create_directories(std::filesystem::path(argv[2]).parent_path(), ignored);
  std::ofstream file(argv[2]);
  file << out.str();
  if (!file) {
    fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[2]);
    return 1;
  }
  return 0;
}
