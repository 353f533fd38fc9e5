// Writes the seed inputs of fuzz/corpus/weights_loader/: one valid small-config weights file
// and a few broken ones, each breaking one rule, so that fuzzing starts from inputs that reach
// every check of the loader. Run once by hand (scripts/fuzz.sh --make-corpus); the files are
// committed. The tokenizer's seeds are plain text files written by hand.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/model.hpp"
#include "minimodel/io/weights_io.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

void write(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::cout << "wrote " << path.string() << " (" << bytes.size() << " bytes)\n";
}

Bytes with_header(const std::string& header, const Bytes& data) {
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(std::uint64_t{header.size()} >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_corpus <directory>\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  // The same small config as the fuzz target: 196 parameters.
  const minimodel::MiniGPTConfig config(minimodel::ConfigValues{
      .d_model = 4, .n_heads = 2, .n_layers = 1, .d_ff = 8, .vocab_size = 8, .context_len = 4});
  const Bytes good = minimodel::safetensors_bytes(minimodel::MiniGPT(config, 7));
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | good[static_cast<std::size_t>(i)];
  const auto header_end = good.begin() + 8 + static_cast<std::ptrdiff_t>(length);
  const nlohmann::ordered_json header = nlohmann::ordered_json::parse(good.begin() + 8, header_end);
  const Bytes data(header_end, good.end());

  const auto edited = [&](const std::string& name, const std::function<void(nlohmann::ordered_json&)>& edit) {
    nlohmann::ordered_json h = header;
    edit(h);
    write(dir / name, with_header(h.dump(), data));
  };

  write(dir / "valid-small.safetensors", good);
  write(dir / "truncated-in-header.safetensors", Bytes(good.begin(), good.begin() + 40));
  write(dir / "truncated-in-data.safetensors", Bytes(good.begin(), good.end() - 10));
  write(dir / "not-json.safetensors", with_header("{\"E\": [", data));
  edited("dtype-f16.safetensors", [](auto& h) { h["E"]["dtype"] = "F16"; });
  edited("overlapping-offsets.safetensors",
         [](auto& h) { h["block_0.ln1.beta"]["data_offsets"] = h["block_0.ln1.gamma"]["data_offsets"]; });
  edited("no-metadata.safetensors", [](auto& h) { h.erase("__metadata__"); });
  edited("other-config.safetensors", [](auto& h) { h["__metadata__"]["vocab_size"] = "9"; });
  {
    std::string text = header.dump();
    text.insert(text.size() - 1, ", \"E\": " + header["E"].dump());
    write(dir / "duplicate-name.safetensors", with_header(text, data));
  }
  return 0;
}
