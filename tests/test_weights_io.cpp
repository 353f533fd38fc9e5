// Safetensors save and load: a bit-exact round trip, the metadata, and one clear WeightsError
// for every way a file can be malformed or belong to another model.
//
// Bad files are made by saving a good one and editing its JSON header (FileParts below), so
// each case differs from a valid file in exactly the way its name says.
#include <catch2/catch.hpp>

#include <unistd.h>  // getpid(), for a temporary directory no other run uses

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/io/weights_io.hpp"
#include "helpers.hpp"

using namespace minimodel;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using ordered_json = nlohmann::ordered_json;

namespace {

using test_support::canonical;
using test_support::same_bits;

// A fresh directory under the system temporary directory, removed with everything in it when
// the test ends.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> made{0};
    path_ =
        fs::temp_directory_path() / fmt::format("minimodel_weights_test_{}_{}", ::getpid(), made++);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out);
}

std::uint64_t u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The raw pieces of a file, to edit: header length, header text, data buffer.
struct FileParts {
  std::string header_text;
  Bytes data;

  explicit FileParts(const Bytes& file) {
    REQUIRE(file.size() >= 8);
    const std::uint64_t n = u64_le(file.data());
    REQUIRE(n <= file.size() - 8);
    header_text.assign(reinterpret_cast<const char*>(file.data()) + 8, n);
    data.assign(file.begin() + 8 + static_cast<std::ptrdiff_t>(n), file.end());
  }

  ordered_json header() const { return ordered_json::parse(header_text); }
  void set_header(const ordered_json& header) { header_text = header.dump(); }

  // Removes a tensor and its bytes, moving later tensors down so the buffer stays packed.
  void erase_tensor(const std::string& name) {
    ordered_json h = header();
    const std::uint64_t begin = h[name]["data_offsets"][0], end = h[name]["data_offsets"][1];
    data.erase(data.begin() + static_cast<std::ptrdiff_t>(begin),
               data.begin() + static_cast<std::ptrdiff_t>(end));
    h.erase(name);
    for (auto& [key, entry] : h.items()) {
      if (key == "__metadata__") continue;
      if (entry["data_offsets"][0].get<std::uint64_t>() >= end) {
        entry["data_offsets"][0] = entry["data_offsets"][0].get<std::uint64_t>() - (end - begin);
        entry["data_offsets"][1] = entry["data_offsets"][1].get<std::uint64_t>() - (end - begin);
      }
    }
    set_header(h);
  }

  // Appends a tensor of `numel` zero floats at the end of the buffer.
  void append_tensor(const std::string& name, const std::vector<std::size_t>& shape,
                     std::size_t numel) {
    ordered_json h = header();
    h[name] = {{"dtype", "F32"},
               {"shape", shape},
               {"data_offsets", {data.size(), data.size() + 4 * numel}}};
    data.resize(data.size() + 4 * numel, 0);
    set_header(h);
  }

  // Re-assembles the file with a length prefix that matches the (edited) header.
  Bytes bytes() const {
    Bytes out;
    for (int i = 0; i < 8; ++i) {
      out.push_back(static_cast<std::uint8_t>(header_text.size() >> (8 * i)));
    }
    out.insert(out.end(), header_text.begin(), header_text.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
  }
};



// Every parameter of `a` equals the one of `b` with the same name, bit for bit.
bool same_parameters(const MiniGPT& a, const MiniGPT& b) {
  if (a.parameters().size() != b.parameters().size()) return false;
  for (const Parameter& p : a.parameters()) {
    const Parameter* q = b.parameters().find(p.name);
    if (q == nullptr || q->shape() != p.shape() ||
        std::memcmp(p.data(), q->data(), p.numel() * sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

std::vector<std::vector<float>> snapshot(const MiniGPT& model) {
  std::vector<std::vector<float>> values;
  for (const Parameter& p : model.parameters()) values.emplace_back(p.data(), p.data() + p.numel());
  return values;
}

MiniGPTConfig small_tanh_config() {
  ConfigValues v;
  v.d_model = 32;
  v.n_heads = 2;
  v.n_layers = 3;
  v.d_ff = 48;
  v.vocab_size = 64;
  v.context_len = 16;
  v.ln_eps = 1.0 / 3.0e5;  // not a short decimal: the metadata must still round-trip it exactly
  v.rope_base = 500.0;
  v.gelu = GeluForm::tanh;
  return MiniGPTConfig(v);
}

MiniGPTConfig vocab_512_config() {
  ConfigValues v;
  v.vocab_size = 512;
  return MiniGPTConfig(v);
}

// The file and in-memory loaders both refuse `bytes` with a WeightsError containing `problem`;
// the file's message also names the file.
void require_load_error(const TempDir& dir, const Bytes& bytes, const std::string& problem) {
  const fs::path path = dir / "bad.safetensors";
  write_file(path, bytes);
  MiniGPT model;
  REQUIRE_THROWS_AS(load_safetensors_into(model, path), WeightsError);
  REQUIRE_THROWS_WITH(load_safetensors_into(model, path),
                      Contains(problem) && Contains(path.string()));
  REQUIRE_THROWS_WITH(load_safetensors_into_from_bytes(model, bytes, "bytes"), Contains(problem));
}

}  // namespace

TEST_CASE("weights: save then load is bit-exact", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  const MiniGPT saved(MiniGPTConfig(), 1);
  save_safetensors(saved, path);

  MiniGPT loaded(MiniGPTConfig(), 2);
  REQUIRE_FALSE(same_parameters(saved, loaded));  // otherwise the test would prove nothing
  load_safetensors_into(loaded, path);

  CHECK(same_parameters(saved, loaded));
  CHECK(same_bits(saved.forward(canonical()), loaded.forward(canonical())));
  // The tied head reads the loaded E, not a stale copy.
  CHECK(loaded.lm_head().weight().data() == loaded.embedding().E().data());
}

TEST_CASE("weights: load_safetensors rebuilds the config and the logits", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  const MiniGPT saved(MiniGPTConfig(), 7);
  save_safetensors(saved, path);

  CHECK(read_safetensors_config(path) == saved.config());
  const MiniGPT loaded = load_safetensors(path);
  CHECK(loaded.config() == saved.config());
  CHECK(same_parameters(saved, loaded));
  CHECK(same_bits(saved.forward(canonical()), loaded.forward(canonical())));
}

TEST_CASE("weights: a tanh-GELU, non-locked config round-trips", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "small.safetensors";
  const MiniGPT saved(small_tanh_config(), 3);
  save_safetensors(saved, path);

  const MiniGPTConfig config = read_safetensors_config(path);
  CHECK(config == saved.config());
  CHECK(config.gelu() == GeluForm::tanh);
  CHECK(config.ln_eps() == 1.0 / 3.0e5);

  const MiniGPT loaded = load_safetensors(path);
  CHECK(same_parameters(saved, loaded));
  CHECK(same_bits(saved.forward(canonical()), loaded.forward(canonical())));
}

TEST_CASE("weights: the RMSNorm, no-bias variant round-trips and is told apart", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "variant.safetensors";
  const MiniGPT saved(MiniGPTConfig({.norm = NormKind::rms_norm, .ffn_biases = false}), 4);
  save_safetensors(saved, path);

  const MiniGPTConfig config = read_safetensors_config(path);
  CHECK(config.norm() == NormKind::rms_norm);
  CHECK_FALSE(config.ffn_biases());
  const MiniGPT loaded = load_safetensors(path);
  CHECK(same_parameters(saved, loaded));
  CHECK(same_bits(saved.forward(canonical()), loaded.forward(canonical())));

  // Into the locked model (LayerNorm, biases: CONVENTIONS.md §2) it does not go: the difference is named.
  MiniGPT locked;
  CHECK_THROWS_WITH(load_safetensors_into(locked, path),
                    Contains("norm is rmsnorm in the file but layernorm in the model (and 1 other "
                             "field)"));
  MiniGPT rms_with_biases(MiniGPTConfig({.norm = NormKind::rms_norm}));
  CHECK_THROWS_WITH(load_safetensors_into(rms_with_biases, path),
                    Contains("ffn_biases is no in the file but yes in the model;"));
}

TEST_CASE("weights: the file records the config, the conventions and the layout", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  const MiniGPT model(MiniGPTConfig(), 1);
  save_safetensors(model, path);
  const Bytes file = read_file(path);
  const FileParts parts(file);
  const ordered_json header = parts.header();
  const ordered_json& meta = header["__metadata__"];

  SECTION("config and conventions in __metadata__, every value a string") {
    for (const auto& [key, value] : meta.items()) CHECK(value.is_string());
    CHECK(meta["format"] == "minimodel-safetensors-v1");
    CHECK(meta["d_model"] == "64");
    CHECK(meta["n_heads"] == "4");
    CHECK(meta["n_layers"] == "2");
    CHECK(meta["d_ff"] == "256");
    CHECK(meta["vocab_size"] == "64");
    CHECK(meta["context_len"] == "32");
    CHECK(meta["ln_eps"] == "1e-05");
    CHECK(meta["rope_base"] == "10000");
    CHECK(meta["gelu"] == "exact");
    CHECK(meta["norm"] == "layernorm");
    CHECK(meta["ffn_biases"] == "yes");
    CHECK(meta["rope_pairing"] == "interleaved (2i, 2i+1)");
    CHECK(meta["linear_layout"] == "y = x·W + b, W is (d_in, d_out)");
    CHECK(meta["tied_lm_head"] == "logits = h·Eᵀ, head shares E");
    CHECK(meta["layer_norm"] == "biased variance, eps inside sqrt");
  }

  SECTION("the config fields in the table's order, each as field_text writes it") {
    std::vector<std::string> keys;
    for (const auto& [key, value] : meta.items()) keys.push_back(key);
    std::size_t position = 1;  // after "format"
    for (const ConfigField& field : kConfigFields) {
      INFO("field " << field.name);
      REQUIRE(position < keys.size());
      CHECK(keys[position++] == field.name);
      CHECK(meta[std::string(field.name)] == field_text(model.config().values(), field));
    }
  }

  SECTION("tensors in registry order, packed, F32, no separate head") {
    std::vector<std::string> names;
    std::uint64_t expected_begin = 0;
    for (const auto& [key, entry] : header.items()) {
      if (key == "__metadata__") continue;
      names.push_back(key);
      const Parameter& p = model.parameters().at(key);
      CHECK(entry["dtype"] == "F32");
      CHECK(entry["shape"].get<Shape>() == p.shape());
      CHECK(entry["data_offsets"][0] == expected_begin);
      CHECK(entry["data_offsets"][1] == expected_begin + 4 * p.numel());
      expected_begin += 4 * p.numel();
    }
    std::vector<std::string> registry_names;
    for (const Parameter& p : model.parameters()) registry_names.push_back(p.name);
    CHECK(names == registry_names);
    CHECK(expected_begin == 4 * 103'680);
    CHECK(parts.data.size() == 4 * 103'680);
  }

  SECTION("the data starts 8-byte aligned and the floats are little-endian") {
    CHECK((8 + parts.header_text.size()) % 8 == 0);
    // E[0][0] is the first float of the buffer; assemble its bits from the bytes by hand.
    const std::uint32_t bits = static_cast<std::uint32_t>(parts.data[0]) |
                               static_cast<std::uint32_t>(parts.data[1]) << 8 |
                               static_cast<std::uint32_t>(parts.data[2]) << 16 |
                               static_cast<std::uint32_t>(parts.data[3]) << 24;
    std::uint32_t expected = 0;
    std::memcpy(&expected, model.parameters().at("E").data(), 4);
    CHECK(bits == expected);
  }
}

TEST_CASE("weights: a malformed file is one clear WeightsError", "[weights]") {
  TempDir dir;
  const fs::path good_path = dir / "good.safetensors";
  save_safetensors(MiniGPT(MiniGPTConfig(), 1), good_path);
  const Bytes good = read_file(good_path);
  FileParts parts(good);
  ordered_json header = parts.header();
  const auto edit = [&] {  // applies the edits made to `header`
    parts.set_header(header);
    return parts.bytes();
  };

  SECTION("empty file") {
    require_load_error(dir, {}, "the file is empty (0 bytes)");
  }
  SECTION("shorter than the length prefix") {
    require_load_error(dir, Bytes(good.begin(), good.begin() + 5),
                       "only 5 bytes long, shorter than the 8-byte header length");
  }
  SECTION("header length larger than the file") {
    require_load_error(dir, Bytes(good.begin(), good.begin() + 40),
                       "only 32 bytes follow it; the file is truncated");
  }
  SECTION("header length above the sanity cap") {
    Bytes bad = good;
    for (int i = 0; i < 8; ++i) bad[static_cast<std::size_t>(i)] = 0xff;
    require_load_error(dir, bad, "above the 100000000-byte limit");
  }
  SECTION("truncated data") {
    require_load_error(dir, Bytes(good.begin(), good.end() - 100),
                       "tensor 'ln_final.beta' has data_offsets [414464, 414720] but the data "
                       "buffer holds only 414620 bytes; the file is truncated");
  }
  SECTION("bytes after the last tensor") {
    parts.data.resize(parts.data.size() + 16);
    require_load_error(dir, parts.bytes(), "the last 16 bytes belong to no tensor");
  }
  SECTION("invalid JSON") {
    parts.header_text = R"({"E": {"dtype": "F32", )";
    require_load_error(dir, parts.bytes(), "the header is not valid JSON");
    require_load_error(dir, parts.bytes(), "parse error at line 1, column");
  }
  SECTION("a number too large for JSON to hold") {
    parts.header_text =
        R"({"E": 1e999})";  // nlohmann reports this as out_of_range, not parse_error
    require_load_error(dir, parts.bytes(), "the header is not valid JSON");
    require_load_error(dir, parts.bytes(), "number overflow");
  }
  SECTION("JSON that is not an object") {
    parts.header_text = "[1, 2, 3]";
    require_load_error(dir, parts.bytes(), "the header is a JSON array, not an object");
  }
  SECTION("nested deeper than any header") {
    parts.header_text = R"({"E": [[[[[[[[[[0]]]]]]]]]]})";
    require_load_error(dir, parts.bytes(), "nested more than 8 levels deep");
  }
  SECTION("wrong dtype") {
    header["E"]["dtype"] = "F16";
    require_load_error(dir, edit(), "tensor 'E' has dtype F16; this workbook reads F32 only");
  }
  SECTION("an entry that is not an object") {
    header["E"] = 5;
    require_load_error(dir, edit(), "the entry for tensor 'E' is a JSON number");
  }
  SECTION("an entry without a dtype") {
    header["E"].erase("dtype");
    require_load_error(dir, edit(), "tensor 'E' has no 'dtype'");
  }
  SECTION("a negative dimension") {
    header["E"]["shape"] = {64, -64};
    require_load_error(dir, edit(), "every dimension must be a non-negative integer");
  }
  SECTION("a shape too large to count") {
    header["E"]["shape"] = {std::uint64_t{1} << 40, std::uint64_t{1} << 40};
    require_load_error(dir, edit(), "too many elements");
  }
  SECTION("data_offsets that are not two integers") {
    header["E"]["data_offsets"] = {0};
    require_load_error(dir, edit(), "they must be two non-negative integers [begin, end]");
  }
  SECTION("missing tensor") {
    parts.erase_tensor("block_1.ffn.b_2");
    require_load_error(dir, parts.bytes(), "missing tensor 'block_1.ffn.b_2'");
  }
  SECTION("a separate LM head") {
    parts.append_tensor("lm_head.weight", {64, 64}, 64 * 64);
    require_load_error(dir, parts.bytes(),
                       "unknown tensor 'lm_head.weight' — this model ties its head to E, so the "
                       "file must not contain a separate head");
  }
  SECTION("an unknown extra tensor") {
    parts.append_tensor("block_0.attn.b_q", {64}, 64);
    require_load_error(
        dir, parts.bytes(),
        "unknown tensor 'block_0.attn.b_q'; the model has no parameter of that name");
  }
  SECTION("duplicated tensor name") {
    // An ordered_json cannot hold a repeated key, so the repeat is spliced into the text.
    std::string text = header.dump();
    text.pop_back();  // the closing brace
    text += R"(,"E":)" + header["E"].dump() + "}";
    parts.header_text = text;
    require_load_error(dir, parts.bytes(), "tensor 'E' appears twice in the header");
  }
  SECTION("duplicated key inside an entry") {
    std::string text = header.dump();
    const std::string first = R"("dtype":"F32")";
    text.replace(text.find(first), first.size(), R"("dtype":"F32","dtype":"F16")");
    parts.header_text = text;
    require_load_error(dir, parts.bytes(), "key 'dtype' appears twice in the entry for 'E'");
  }
  SECTION("overlapping offsets") {
    header["block_0.ln1.gamma"]["data_offsets"] = {16000, 16256};
    require_load_error(dir, edit(),
                       "tensors 'E' (bytes [0, 16384)) and 'block_0.ln1.gamma' (bytes [16000, "
                       "16256)) overlap");
  }
  SECTION("a gap between tensors") {
    header["block_0.ln1.gamma"]["data_offsets"] = {16400, 16656};
    require_load_error(dir, edit(), "bytes [16384, 16400) of the data buffer belong to no tensor");
  }
  SECTION("offsets past the end of the data") {
    header["ln_final.beta"]["data_offsets"] = {500000, 500256};
    require_load_error(dir, edit(),
                       "tensor 'ln_final.beta' has data_offsets [500000, 500256] but the data "
                       "buffer holds only 414720 bytes");
  }
  SECTION("begin after end") {
    header["E"]["data_offsets"] = {16384, 0};
    require_load_error(dir, edit(), "tensor 'E' has data_offsets [16384, 0]: begin is after end");
  }
  SECTION("size that disagrees with the shape") {
    header["E"]["shape"] = {64, 32};
    require_load_error(dir, edit(),
                       "tensor 'E' has shape (64, 32), which is 8192 bytes of F32, but its "
                       "data_offsets [0, 16384] span 16384 bytes");
  }
  SECTION("shape that disagrees with the config") {
    header["E"]["shape"] = {32, 128};  // the same 16384 bytes, the wrong shape
    require_load_error(dir, edit(),
                       "tensor 'E' has shape (32, 128) but the model's config expects (64, 64)");
  }
  SECTION("metadata that is not all strings") {
    header["__metadata__"]["d_model"] = 64;
    require_load_error(dir, edit(), "__metadata__ value for 'd_model' is a JSON number");
  }
  SECTION("config metadata that disagrees with the model") {
    header["__metadata__"]["ln_eps"] = "1e-06";
    require_load_error(dir, edit(), "ln_eps is 1e-06 in the file but 1e-05 in the model");
  }
}

TEST_CASE("weights: a file from another config names the difference", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "vocab512.safetensors";
  save_safetensors(MiniGPT(vocab_512_config(), 1), path);

  SECTION("with its config in the metadata") {
    require_load_error(dir, read_file(path), "vocab_size is 512 in the file but 64 in the model");
  }
  SECTION("without metadata, the shapes still disagree") {
    FileParts parts(read_file(path));
    ordered_json header = parts.header();
    header.erase("__metadata__");
    parts.set_header(header);
    require_load_error(dir, parts.bytes(),
                       "tensor 'E' has shape (512, 64) but the model's config expects (64, 64)");
  }
  SECTION("a GELU that differs") {
    save_safetensors(MiniGPT(small_tanh_config(), 1), path);
    MiniGPT model(MiniGPTConfig(ConfigValues{.d_model = 32,
                                             .n_heads = 2,
                                             .n_layers = 3,
                                             .d_ff = 48,
                                             .vocab_size = 64,
                                             .context_len = 16,
                                             .ln_eps = 1.0 / 3.0e5,
                                             .rope_base = 500.0,
                                             .gelu = GeluForm::exact}));
    REQUIRE_THROWS_WITH(load_safetensors_into(model, path),
                        Contains("gelu is tanh in the file but exact in the model"));
  }
}

TEST_CASE("weights: the config in __metadata__ is checked", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  save_safetensors(MiniGPT(MiniGPTConfig(), 1), path);
  FileParts parts(read_file(path));
  ordered_json header = parts.header();
  const auto config_error = [&] {  // read_safetensors_config's message for the edited header
    parts.set_header(header);
    const Bytes bytes = parts.bytes();
    write_file(path, bytes);
    REQUIRE_THROWS_AS(read_safetensors_config(path), WeightsError);
    REQUIRE_THROWS_AS(load_safetensors(path), WeightsError);
    try {
      read_safetensors_config(path);
    } catch (const WeightsError& e) {
      return std::string(e.what());
    }
    return std::string();
  };

  SECTION("no metadata") {
    header.erase("__metadata__");
    CHECK_THAT(config_error(), Contains("has no __metadata__") && Contains(path.string()));
  }
  SECTION("a missing key") {
    header["__metadata__"].erase("d_ff");
    CHECK_THAT(config_error(), Contains("__metadata__ has no 'd_ff'"));
  }
  SECTION("text that is not an integer") {
    header["__metadata__"]["d_model"] = "64abc";
    CHECK_THAT(config_error(), Contains("the config in __metadata__ is invalid: d_model = '64abc' "
                                        "is not an integer"));
  }
  SECTION("an invalid config, with the config's own message") {
    header["__metadata__"]["n_heads"] = "5";
    CHECK_THAT(config_error(), Contains("the config in __metadata__ is invalid") &&
                                   Contains("d_model must be divisible by n_heads"));
  }
  SECTION("an unknown GELU") {
    header["__metadata__"]["gelu"] = "relu";
    CHECK_THAT(config_error(), Contains("gelu = 'relu' is not a GELU form"));
  }
  SECTION("an unknown norm") {
    header["__metadata__"]["norm"] = "batchnorm";
    CHECK_THAT(config_error(), Contains("norm = 'batchnorm' is not a normalisation"));
  }
  SECTION("ffn_biases that is not yes or no") {
    header["__metadata__"]["ffn_biases"] = "true";
    CHECK_THAT(config_error(), Contains("ffn_biases = 'true' is not 'yes' or 'no'"));
  }
  SECTION("a real-valued field that is not a number") {
    header["__metadata__"]["rope_base"] = "ten thousand";
    CHECK_THAT(config_error(), Contains("rope_base = 'ten thousand' is not a number"));
  }
}

TEST_CASE("weights: every config variant round-trips through __metadata__", "[weights]") {
  const std::vector<MiniGPTConfig> variants = {
      MiniGPTConfig(),
      MiniGPTConfig({.norm = NormKind::rms_norm}),
      MiniGPTConfig({.ffn_biases = false}),
      MiniGPTConfig({.norm = NormKind::rms_norm, .ffn_biases = false}),
      MiniGPTConfig({.vocab_size = 512, .norm = NormKind::rms_norm, .ffn_biases = false}),
      small_tanh_config(),
      MiniGPTConfig({.d_model = 8, .n_heads = 2, .n_layers = 1, .d_ff = 16, .vocab_size = 64,
                     .context_len = 8, .ln_eps = 1.0 / 3.0e5, .rope_base = 500.0,
                     .gelu = GeluForm::tanh, .norm = NormKind::rms_norm, .ffn_biases = false}),
  };
  for (const MiniGPTConfig& config : variants) {
    INFO(config.describe());
    const Bytes bytes = safetensors_bytes(MiniGPT(config, 1));
    const MiniGPTConfig read = read_safetensors_config_from_bytes(bytes);
    CHECK(read == config);
    CHECK(differing_fields(read, config).empty());
    CHECK(load_safetensors_from_bytes(bytes).config() == config);
  }
}

TEST_CASE("weights: a file written before norm and ffn_biases existed holds the locked model", "[weights]") {
  SECTION("the committed fuzz corpus file, written by the first version of the format") {
    const Bytes old_file =
        read_file(fs::path(MINIMODEL_SOURCE_DIR) / "fuzz/corpus/weights_loader/valid-small.safetensors");
    REQUIRE(FileParts(old_file).header()["__metadata__"].count("norm") == 0);
    const MiniGPTConfig config = read_safetensors_config_from_bytes(old_file);
    CHECK(config == MiniGPTConfig({.d_model = 4, .n_heads = 2, .n_layers = 1, .d_ff = 8,
                                   .vocab_size = 8, .context_len = 4}));
    CHECK(config.norm() == NormKind::layer_norm);
    CHECK(config.ffn_biases());
    MiniGPT model(config);
    CHECK_NOTHROW(load_safetensors_into_from_bytes(model, old_file));
  }
  SECTION("a file of today with the two keys removed") {
    FileParts parts(safetensors_bytes(MiniGPT(MiniGPTConfig(), 1)));
    ordered_json header = parts.header();
    header["__metadata__"].erase("norm");
    header["__metadata__"].erase("ffn_biases");
    parts.set_header(header);
    CHECK(read_safetensors_config_from_bytes(parts.bytes()) == MiniGPTConfig());
  }
  SECTION("the older fields stay required") {
    FileParts parts(safetensors_bytes(MiniGPT(MiniGPTConfig(), 1)));
    ordered_json header = parts.header();
    header["__metadata__"].erase("gelu");
    parts.set_header(header);
    CHECK_THROWS_WITH(read_safetensors_config_from_bytes(parts.bytes()),
                      Contains("__metadata__ has no 'gelu'; a config needs d_model, n_heads, "));
  }
}

TEST_CASE("weights: load_safetensors refuses a config the data cannot back", "[weights]") {
  // load_safetensors builds a model from the metadata; a lying config must be refused before
  // it can ask for a huge allocation.
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  save_safetensors(MiniGPT(MiniGPTConfig(), 1), path);
  FileParts parts(read_file(path));
  ordered_json header = parts.header();

  SECTION("far more parameters than the file holds") {
    header["__metadata__"]["d_model"] = "16777216";
    header["__metadata__"]["d_ff"] = "16777216";
    parts.set_header(header);
    write_file(path, parts.bytes());
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains("parameters, but the file holds 414720 bytes"));
  }
  SECTION("a context so long that the RoPE tables would dwarf the model") {
    header["__metadata__"]["context_len"] = "16777216";
    parts.set_header(header);
    write_file(path, parts.bytes());
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains("RoPE tables"));
  }
}

TEST_CASE("weights: a failed load leaves the model unchanged", "[weights]") {
  TempDir dir;
  const fs::path path = dir / "model.safetensors";
  save_safetensors(MiniGPT(MiniGPTConfig(), 1), path);
  const Bytes good = read_file(path);

  MiniGPT model(MiniGPTConfig(), 2);
  const auto before = snapshot(model);
  const Matrix logits_before = model.forward(canonical());

  // Each file is wrong only in its last tensor (or only at the very end), so a loader that
  // copied as it checked would already have overwritten everything else.
  FileParts parts(good);
  ordered_json header = parts.header();
  header["ln_final.beta"]["shape"] = {8, 8};
  parts.set_header(header);
  const Bytes bad_shape = parts.bytes();
  const Bytes truncated(good.begin(), good.end() - 4);

  for (const Bytes& bad : {bad_shape, truncated}) {
    write_file(path, bad);
    REQUIRE_THROWS_AS(load_safetensors_into(model, path), WeightsError);
    REQUIRE_THROWS_AS(load_safetensors_into_from_bytes(model, bad), WeightsError);
    CHECK(snapshot(model) == before);
  }
  CHECK(same_bits(model.forward(canonical()), logits_before));
}

TEST_CASE("weights: unreadable and unwritable paths", "[weights]") {
  TempDir dir;
  const MiniGPT model(MiniGPTConfig(), 1);

  SECTION("a path that does not exist") {
    const fs::path missing = dir / "no_such.safetensors";
    MiniGPT target;
    REQUIRE_THROWS_WITH(
        load_safetensors_into(target, missing),
        Contains(missing.string()) && Contains("cannot open it: No such file or directory"));
    REQUIRE_THROWS_AS(read_safetensors_config(missing), WeightsError);
    REQUIRE_THROWS_AS(load_safetensors(missing), WeightsError);
  }
  SECTION("a directory") {
    REQUIRE_THROWS_WITH(read_safetensors_config(dir.path()), Contains("it is a directory"));
  }
  SECTION("saving into a directory that does not exist") {
    const fs::path target = dir / "no_such_dir" / "model.safetensors";
    REQUIRE_THROWS_WITH(save_safetensors(model, target),
                        Contains("cannot save weights to '" + target.string() + "'") &&
                            Contains("No such file or directory"));
    CHECK_FALSE(fs::exists(dir / "no_such_dir"));
  }
  SECTION("a failed save leaves no partial file") {
    // The target is a non-empty directory: the temporary file is written in full, then the
    // rename onto the directory fails; the temporary file must not be left behind.
    const fs::path target = dir / "model.safetensors";
    fs::create_directory(target);
    write_file(target / "keep", Bytes{1, 2, 3});
    REQUIRE_THROWS_AS(save_safetensors(model, target), WeightsError);
    std::vector<fs::path> left;
    for (const fs::directory_entry& e : fs::directory_iterator(dir.path())) {
      left.push_back(e.path());
    }
    CHECK(left == std::vector<fs::path>{target});
    CHECK(fs::is_directory(target));
  }
  SECTION("saving over an existing file replaces it") {
    const fs::path target = dir / "model.safetensors";
    save_safetensors(MiniGPT(MiniGPTConfig(), 5), target);
    save_safetensors(model, target);
    MiniGPT loaded(MiniGPTConfig(), 9);
    load_safetensors_into(loaded, target);
    CHECK(same_parameters(model, loaded));
  }
}
