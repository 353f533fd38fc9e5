// The bad-input battery (issue 7): every kind of wrong input a student can type, tried on the
// real binaries in build/bin. Each one must end in
//   - one clear message that names the problem (checked by its key words),
//   - exit status 2 ("bad input"), never a crash (a signal) or a sanitizer report,
//   - no output file left behind: not the --json or --save-weights target, not a temporary.
//
// The broken weight files are made here from a good one (minimodel::safetensors_bytes), by
// editing its JSON header or cutting its bytes, so each breaks exactly one rule.
//
// Set MINIMODEL_BATTERY_LOG=<file> to append "command => first line of the message" for every
// case to that file (the list in the closing note was made that way).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/model.hpp"
#include "minimodel/io/weights_io.hpp"
#include "run_binary.hpp"
#include "helpers.hpp"

namespace {

using test_support::kLabs;

namespace fs = std::filesystem;
using test_support::run;
using test_support::Run;
using test_support::temp_path;
using Bytes = std::vector<std::uint8_t>;


bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

void log_case(const std::string& command, const Run& r) {
  const char* log = std::getenv("MINIMODEL_BATTERY_LOG");
  if (log == nullptr || *log == '\0') return;
  const std::vector<std::string> lines = lines_of(r.output);
  std::ofstream(log, std::ios::app) << command << "  =>  [exit " << r.status << "] "
                                    << (lines.empty() ? std::string("(nothing)") : lines.front()) << "\n";
}

// Every file in `directory` whose name starts with `stem`: the target or a leftover temporary.
std::vector<fs::path> files_starting_with(const fs::path& directory, const std::string& stem) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (entry.path().filename().string().rfind(stem, 0) == 0) found.push_back(entry.path());
  }
  return found;
}

// Runs `command` (a binary in build/bin and its arguments) and checks the four promises.
// `words`: what the message must say. `outputs`: files the run was asked to write, which must
// not exist afterwards (nor any temporary beside them).
Run expect_refused(const std::string& command, const std::vector<std::string>& words,
                   const std::vector<fs::path>& outputs = {}) {
  const Run r = run(command);
  log_case(command, r);
  INFO("command: " << command);
  INFO("output:\n" << r.output);
  CHECK(r.signal == 0);  // a crash, not an error message
  CHECK(r.status == 2);
  for (const std::string& word : words) {
    INFO("the message should say: " << word);
    CHECK(contains(r.output, word));
  }
  // Sanitized builds: a report is a failure even when the exit status happens to be right.
  CHECK_FALSE(contains(r.output, "Sanitizer"));
  CHECK_FALSE(contains(r.output, "runtime error:"));
  // One message: one line, and for a command-line error CLI11's hint as a second line.
  const std::vector<std::string> lines = lines_of(r.output);
  CHECK(!lines.empty());
  CHECK(lines.size() <= 2);
  if (lines.size() == 2) CHECK(lines[1] == "Run with --help for more information.");
  for (const fs::path& output : outputs) {
    INFO("output file that must not exist: " << output);
    CHECK(files_starting_with(output.parent_path(), output.filename().string()).empty());
  }
  return r;
}

// A scratch directory for one test case, removed at the end of it.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name) : dir(temp_path(name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  fs::path operator/(const std::string& name) const { return dir / name; }
};

void write_bytes(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// ---------------------------------------------------------------------------------------------
// A good weights file, taken apart so that a test can break one thing and put it back together.

struct Safetensors {
  nlohmann::ordered_json header;  // in file order: __metadata__, then the tensors
  Bytes data;                     // the tensor bytes after the header
};

std::uint64_t read_u64_le(const Bytes& bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[static_cast<std::size_t>(i)];
  return value;
}

void append_u64_le(Bytes& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

const Bytes& good_file() {
  static const Bytes bytes = minimodel::safetensors_bytes(minimodel::MiniGPT(minimodel::MiniGPTConfig(), minimodel::MiniGPT::kDefaultSeed));
  return bytes;
}

Safetensors take_apart(const Bytes& bytes) {
  const std::uint64_t length = read_u64_le(bytes);
  const auto header_begin = bytes.begin() + 8;
  const auto header_end = header_begin + static_cast<std::ptrdiff_t>(length);
  return {nlohmann::ordered_json::parse(header_begin, header_end), Bytes(header_end, bytes.end())};
}

// The header as text (any text, valid JSON or not) with its length prefix, then the data.
Bytes assemble(const std::string& header_text, const Bytes& data) {
  Bytes out;
  append_u64_le(out, header_text.size());
  out.insert(out.end(), header_text.begin(), header_text.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes assemble(const Safetensors& parts) { return assemble(parts.header.dump(), parts.data); }

std::uint64_t tensor_bytes(const Safetensors& parts, const std::string& name) {
  const auto& offsets = parts.header.at(name).at("data_offsets");
  return offsets[1].get<std::uint64_t>() - offsets[0].get<std::uint64_t>();
}

struct BrokenFile {
  std::string what;                // for the log and the test's INFO
  Bytes bytes;
  std::vector<std::string> words;  // what the loader's message must say
};

std::vector<BrokenFile> broken_weight_files() {
  const Bytes& good = good_file();
  const Safetensors parts = take_apart(good);
  const std::uint64_t header_length = read_u64_le(good);
  std::vector<BrokenFile> files;
  const auto edited = [&](const std::string& what, const std::vector<std::string>& words,
                          const std::function<void(Safetensors&)>& edit) {
    Safetensors copy = parts;
    edit(copy);
    files.push_back({what, assemble(copy), words});
  };

  // Cut short or empty.
  files.push_back({"empty", {}, {"the file is empty"}});
  files.push_back({"5 bytes", Bytes(good.begin(), good.begin() + 5), {"only 5 bytes long", "truncated"}});
  files.push_back({"cut inside the header",
                   Bytes(good.begin(), good.begin() + 8 + static_cast<std::ptrdiff_t>(header_length / 2)),
                   {"header length prefix says", "truncated"}});
  files.push_back({"cut inside the tensor data", Bytes(good.begin(), good.end() - 1000),
                   {"data buffer holds only", "truncated"}});
  files.push_back({"last byte missing", Bytes(good.begin(), good.end() - 1), {"truncated"}});

  // A length prefix that lies.
  {
    Bytes b = good;
    const std::uint64_t too_long = good.size();  // more than the bytes after the prefix
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(too_long >> (8 * i));
    files.push_back({"header length larger than the file", b, {"header length prefix says", "only"}});
  }
  {
    Bytes b = good;
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = 0xFF;
    files.push_back({"header length 2^64 - 1", b, {"above the", "limit"}});
  }
  {
    const std::string text = "# Not weights at all, but a markdown file someone renamed.\n";
    files.push_back({"a text file", Bytes(text.begin(), text.end()), {"not a safetensors file"}});
  }

  // Not JSON, or not the JSON a header is.
  files.push_back({"invalid JSON", assemble("{\"E\": {\"dtype\": \"F32\", ", parts.data), {"not valid JSON"}});
  files.push_back({"header is a JSON array", assemble("[1, 2, 3]", parts.data), {"not an object"}});
  files.push_back({"header nested 20 deep", assemble(std::string(20, '[') + std::string(20, ']'), parts.data),
                   {"nested more than"}});
  {
    std::string text = parts.header.dump();
    text.insert(text.size() - 1, ", \"E\": " + parts.header.at("E").dump());
    files.push_back({"tensor E twice", assemble(text, parts.data), {"tensor 'E' appears twice"}});
  }

  // One entry wrong.
  edited("dtype F16", {"dtype F16", "F32 only"}, [](Safetensors& s) { s.header["E"]["dtype"] = "F16"; });
  edited("dtype not a string", {"dtype that is a JSON number"}, [](Safetensors& s) { s.header["E"]["dtype"] = 32; });
  edited("entry without dtype", {"has no 'dtype'"}, [](Safetensors& s) { s.header["E"].erase("dtype"); });
  edited("negative dimension", {"non-negative integer"},
         [](Safetensors& s) { s.header["ln_final.beta"]["shape"] = {-64}; });
  edited("shape (256, 64) for W_1", {"block_0.ffn.W_1", "(256, 64)", "expects (64, 256)"},
         [](Safetensors& s) { s.header["block_0.ffn.W_1"]["shape"] = {256, 64}; });
  edited("offsets span fewer bytes than the shape", {"'E'", "span"},
         [](Safetensors& s) { s.header["E"]["data_offsets"] = {0, 100}; });
  edited("offsets begin after end", {"begin is after end"},
         [](Safetensors& s) { s.header["E"]["data_offsets"] = {16384, 0}; });
  edited("negative offset", {"two non-negative integers"},
         [](Safetensors& s) { s.header["E"]["data_offsets"] = {-4, 16380}; });
  edited("offsets past the end of the data", {"ln_final.beta", "data buffer holds only"}, [](Safetensors& s) {
    const std::uint64_t n = s.data.size();
    s.header["ln_final.beta"]["data_offsets"] = {n, n + 256};
  });
  edited("overlapping offsets", {"overlap"}, [](Safetensors& s) {
    s.header["block_0.ln1.beta"]["data_offsets"] = s.header["block_0.ln1.gamma"]["data_offsets"];
  });

  // The wrong set of tensors.
  edited("missing tensor", {"missing tensor 'ln_final.beta'"}, [](Safetensors& s) {
    const std::uint64_t n = tensor_bytes(s, "ln_final.beta");  // the last tensor: drop its bytes
    s.header.erase("ln_final.beta");
    s.data.resize(s.data.size() - n);
  });
  edited("renamed tensor", {"missing tensor 'ln_final.beta'"}, [](Safetensors& s) {
    s.header["ln_final.bias"] = s.header["ln_final.beta"];
    s.header.erase("ln_final.beta");
  });
  edited("an extra, untied head", {"unknown tensor 'lm_head.weight'", "ties its head"}, [](Safetensors& s) {
    const std::uint64_t n = s.data.size();
    s.header["lm_head.weight"] = {{"dtype", "F32"}, {"shape", {64, 64}}, {"data_offsets", {n, n + 64 * 64 * 4}}};
    s.data.resize(n + 64 * 64 * 4, 0);
  });
  edited("an extra tensor of no known name", {"unknown tensor 'block_2.attn.W_q'"}, [](Safetensors& s) {
    const std::uint64_t n = s.data.size();
    s.header["block_2.attn.W_q"] = {{"dtype", "F32"}, {"shape", {64, 64}}, {"data_offsets", {n, n + 64 * 64 * 4}}};
    s.data.resize(n + 64 * 64 * 4, 0);
  });

  // The config the file records.
  edited("metadata number not a string", {"must be strings"},
         [](Safetensors& s) { s.header["__metadata__"]["d_model"] = 64; });
  edited("metadata number is text", {"d_model", "not an integer"},
         [](Safetensors& s) { s.header["__metadata__"]["d_model"] = "sixty-four"; });
  {
    minimodel::ConfigValues v;
    v.vocab_size = 512;
    files.push_back({"saved from another config (vocab 512)",
                     minimodel::safetensors_bytes(minimodel::MiniGPT(minimodel::MiniGPTConfig(v), minimodel::MiniGPT::kDefaultSeed)),
                     {"different config", "vocab_size is 512 in the file but 64"}});
  }
  return files;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Flags every binary shares.

TEST_CASE("battery: unknown flags, missing and malformed values, stray arguments", "[labs][battery]") {
  for (const std::string lab : kLabs) {
    expect_refused(lab + " --no-such-flag", {"--no-such-flag"});
    expect_refused(lab + " stray-argument", {"stray-argument"});
    expect_refused(lab + " --seed", {"--seed", "missing"});
    expect_refused(lab + " --seed banana", {"--seed", "'banana' is not a whole number"});
    expect_refused(lab + " --seed 1.5", {"--seed", "'1.5' is not a whole number"});
    expect_refused(lab + " --seed -5", {"--seed", "'-5' is negative"});
    expect_refused(lab + " --seed 99999999999999999999999", {"--seed", "out of range"});
    expect_refused(lab + " --json", {"--json", "missing"});
    expect_refused(lab + " --json ''", {"--json", "empty"});
  }
  expect_refused("labdiff", {"expected is required"});
  expect_refused("labdiff --no-such-flag a b", {"--no-such-flag"});
  expect_refused("labdiff a b c", {"c"});
  expect_refused("labdiff --abs -1 a b", {"--abs", "'-1' is not a tolerance"});
  expect_refused("labdiff --rel banana a b", {"--rel", "'banana' is not a number"});
  expect_refused("labdiff --abs nan a b", {"--abs", "'nan' is not a tolerance"});
  expect_refused("labdiff --max-shown -3 a b", {"--max-shown", "'-3'"});
}

TEST_CASE("battery: unreadable and unwritable paths", "[labs][battery]") {
  const Scratch scratch("paths");
  const fs::path regular = scratch / "a-file";
  std::ofstream(regular) << "not a directory\n";
  const fs::path missing_dir = scratch / "no-such-dir";

  for (const std::string lab : kLabs) {
    const fs::path in_missing = missing_dir / "out.json", under_file = regular / "out.json";
    expect_refused(lab + " --json " + in_missing.string(), {"--json", "cannot write", "not an existing directory"},
                   {in_missing});
    expect_refused(lab + " --json " + under_file.string(), {"--json", "cannot write", "not an existing directory"});
    expect_refused(lab + " --json " + scratch.dir.string(), {"--json", "it is a directory"});
  }

  // lab01 reads and writes weights.
  const std::string lab01 = "lab01-assemble-mini-gpt";
  expect_refused(lab01 + " --load-weights " + (scratch / "nothing.safetensors").string(),
                 {"cannot read weights file", "No such file or directory"});
  expect_refused(lab01 + " --load-weights " + scratch.dir.string(), {"cannot read weights file", "is a directory"});
  expect_refused(lab01 + " --load-weights ''", {"--load-weights", "the value is empty"});
  expect_refused(lab01 + " --save-weights ''", {"--save-weights", "the value is empty"});
  const fs::path out = scratch / "w.safetensors";
  expect_refused(lab01 + " --save-weights " + (missing_dir / "w.safetensors").string(),
                 {"cannot save weights", "No such file or directory"});
  expect_refused(lab01 + " --save-weights " + (regular / "w.safetensors").string(),
                 {"cannot save weights", "Not a directory"});
  expect_refused(lab01 + " --save-weights " + scratch.dir.string(), {"cannot save weights", "Is a directory"});
  // A bad --json is found before anything is written: the weights are not saved either.
  expect_refused(lab01 + " --save-weights " + out.string() + " --json " + (missing_dir / "out.json").string(),
                 {"--json", "cannot write"}, {out});

  // Every check of the input runs before the weights are saved: a bad --svg leaves no file.
  expect_refused(lab01 + " --save-weights " + out.string() + " --svg " + missing_dir.string(), {"--svg"}, {out});

  // A file that exists but cannot be read. Root reads every file, so this case needs a user.
  const fs::path locked = scratch / "locked.safetensors";
  std::ofstream(locked, std::ios::binary) << "x";
  fs::permissions(locked, fs::perms::none);
  if (::access(locked.c_str(), R_OK) == 0) {
    WARN("skipped the unreadable-file case: running as root, which can read a file with mode 000");
  } else {
    expect_refused(lab01 + " --load-weights " + locked.string(), {"cannot read weights file", "Permission denied"});
  }

  expect_refused("labdiff " + (scratch / "nothing.txt").string() + " " + regular.string(),
                 {"cannot read", "No such file or directory"});
  expect_refused("labdiff " + scratch.dir.string() + " " + scratch.dir.string(), {"cannot read", "is a directory"});
}

// ---------------------------------------------------------------------------------------------
// Sizes and configurations (lab02 counts any config given by flags).

TEST_CASE("battery: lab02 refuses zero, negative, indivisible and odd sizes", "[labs][battery]") {
  const std::string lab02 = "lab02-parameter-inventory";
  expect_refused(lab02 + " --d-model 0", {"d_model = 0", "positive"});
  expect_refused(lab02 + " --n-heads -1", {"n_heads = -1", "positive"});
  expect_refused(lab02 + " --n-heads 0", {"n_heads = 0", "positive"});
  expect_refused(lab02 + " --n-layers 0", {"n_layers = 0", "positive"});
  expect_refused(lab02 + " --d-ff -4", {"d_ff = -4", "positive"});
  expect_refused(lab02 + " --vocab-size 0", {"vocab_size = 0", "positive"});
  expect_refused(lab02 + " --context-len 0", {"context_len = 0", "positive"});
  expect_refused(lab02 + " --d-model 66 --n-heads 4", {"d_model must be divisible by n_heads"});
  expect_refused(lab02 + " --n-heads 3", {"d_model must be divisible by n_heads"});
  expect_refused(lab02 + " --d-model 12 --n-heads 4", {"d_head", "= 3", "even"});
  expect_refused(lab02 + " --d-model 64 --n-heads 64", {"d_head", "= 1", "even"});
  expect_refused(lab02 + " --vocab-size 100000000", {"vocab_size = 100000000", "at most"});
  expect_refused(lab02 + " --d-model abc", {"--d-model", "'abc' is not a whole number"});
  expect_refused(lab02 + " --d-model 1.5", {"--d-model", "'1.5' is not a whole number"});
  expect_refused(lab02 + " --d-model ''", {"--d-model", "'' is not a whole number"});
  expect_refused(lab02 + " --d-model 99999999999999999999", {"--d-model", "out of range"});
  expect_refused(lab02 + " --d-model", {"--d-model", "missing"});
}

// ---------------------------------------------------------------------------------------------
// Sequences: words, ids, lengths, positions.

TEST_CASE("battery: lab01 refuses unknown words, empty text and text longer than the context",
          "[labs][battery]") {
  const std::string lab01 = "lab01-assemble-mini-gpt";
  expect_refused(lab01 + " --text 'I wrk'", {"unknown word 'wrk'"});
  expect_refused(lab01 + " --text 'i work'", {"unknown word 'i'", "did you mean 'I'"});
  expect_refused(lab01 + " --text 'I work,you work'", {"unknown word 'work,you'"});
  expect_refused(lab01 + " --text ''", {"--text", "the value is empty"});
  expect_refused(lab01 + " --text '   '", {"empty text"});
  expect_refused(lab01 + " --text", {"--text", "missing"});
  std::string long_text;
  for (int i = 0; i < 33; ++i) long_text += "I ";
  expect_refused(lab01 + " --text " + test_support::quoted(long_text), {"too long", "T = 33", "context_len = 32"});
}

TEST_CASE("battery: lab03 refuses ids out of range, long sequences and --perturb-at outside",
          "[labs][battery]") {
  const std::string lab03 = "lab03-causality-perturbation";
  expect_refused(lab03 + " --tokens 1,64", {"token id 64 at position 1 is out of range"});
  expect_refused(lab03 + " --tokens 1,2,3,4,5,6,-1", {"token id -1 at position 6 is out of range"});
  expect_refused(lab03 + " --tokens 1,a", {"--tokens", "'a' is not a whole number"});
  expect_refused(lab03 + " --tokens ''", {"--tokens", "'' is not a whole number"});
  expect_refused(lab03 + " --tokens 4294967296", {"--tokens", "4294967296"});
  expect_refused(lab03 + " --tokens 99999999999999999999", {"--tokens", "out of range"});
  std::string too_long = "1";
  for (int i = 0; i < 32; ++i) too_long += ",1";
  expect_refused(lab03 + " --tokens " + too_long, {"too long", "T = 33", "context_len = 32"});
  expect_refused(lab03 + " --perturb-at 8", {"--perturb-at 8 is outside the sequence", "T = 8"});
  expect_refused(lab03 + " --tokens 1,4 --perturb-at 2", {"--perturb-at 2 is outside the sequence", "T = 2"});
  expect_refused(lab03 + " --perturb-at -1", {"--perturb-at", "'-1' is negative"});
  expect_refused(lab03 + " --perturb-at x", {"--perturb-at", "'x' is not a whole number"});
}

// ---------------------------------------------------------------------------------------------
// Weight files.

TEST_CASE("battery: the good weights file round-trips through lab01", "[labs][battery]") {
  const Scratch scratch("good-weights");
  const fs::path saved = scratch / "saved.safetensors", made = scratch / "made.safetensors";
  const Run save = run("lab01-assemble-mini-gpt --save-weights " + saved.string());
  INFO(save.output);
  REQUIRE(save.status == 0);
  // The lab's file is the library's bytes: the broken files below start from the same thing.
  std::ifstream in(saved, std::ios::binary);
  const Bytes from_lab((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(from_lab == good_file());
  write_bytes(made, assemble(take_apart(good_file())));  // taken apart and put back: still good
  const Run load = run("lab01-assemble-mini-gpt --load-weights " + made.string());
  INFO(load.output);
  CHECK(load.status == 0);
  CHECK(contains(load.output, "PASS: all"));
}

TEST_CASE("battery: lab01 refuses every broken weights file with one message", "[labs][battery][weights]") {
  const Scratch scratch("broken-weights");
  const fs::path saved = scratch / "out.safetensors", json = scratch / "out.json";
  for (const BrokenFile& file : broken_weight_files()) {
    INFO("broken file: " << file.what);
    const fs::path path = scratch / "broken.safetensors";
    write_bytes(path, file.bytes);
    std::vector<std::string> words = file.words;
    words.push_back("cannot read weights file '" + path.string() + "'");
    expect_refused("lab01-assemble-mini-gpt --load-weights " + path.string() + " --save-weights " +
                       saved.string() + " --json " + json.string(),
                   words, {saved, json});
    fs::remove(path);
  }
}
