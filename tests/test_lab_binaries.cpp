// The lab binaries as a student meets them: --help, bad flags, bad input, --json.
// Each case runs the real binary and checks its exit status and what it printed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "minimodel/model.hpp"
#include "minimodel/io/weights_io.hpp"
#include "run_binary.hpp"
#include "helpers.hpp"

namespace {

using test_support::kLabs;

using test_support::run;
using test_support::Run;
using test_support::temp_path;


}  // namespace

TEST_CASE("labs/labs.txt lists exactly the lab folders labgrade grades against", "[labs]") {
  // labgrade discovers the reference labs as the folders of labs/ that hold an expected.txt
  // (tools/labdiff/grade.cpp); everything else reads labs/labs.txt. They must agree.
  std::vector<std::string> folders;
  for (const auto& entry : std::filesystem::directory_iterator(MINIMODEL_SOURCE_DIR "/labs")) {
    if (std::filesystem::is_regular_file(entry.path() / "expected.txt")) {
      folders.push_back("lab" + entry.path().filename().string());
    }
  }
  std::sort(folders.begin(), folders.end());
  const std::vector<std::string> listed(kLabs.begin(), kLabs.end());
  CHECK(folders == listed);
  CHECK(listed.size() == 4);
}

TEST_CASE("every lab passes its checks, prints --help and refuses an unknown flag", "[labs]") {
  for (const char* lab : kLabs) {
    INFO(lab);
    const Run plain = run(lab);
    CHECK(plain.status == 0);
    CHECK(plain.output.find("PASS: all") != std::string::npos);

    const Run help = run(std::string(lab) + " --help");
    CHECK(help.status == 0);
    CHECK(help.output.find("--seed") != std::string::npos);
    CHECK(help.output.find("--json") != std::string::npos);

    const Run bad = run(std::string(lab) + " --no-such-flag");
    CHECK(bad.status == 2);
    CHECK(bad.output.find("--no-such-flag") != std::string::npos);

    const Run bad_seed = run(std::string(lab) + " --seed banana");
    CHECK(bad_seed.status == 2);
    CHECK(bad_seed.output.find("banana") != std::string::npos);
  }
}

TEST_CASE("every lab writes its results as JSON", "[labs]") {
  for (const char* lab : kLabs) {
    INFO(lab);
    const std::filesystem::path path = temp_path(std::string(lab) + ".json");
    REQUIRE(run(std::string(lab) + " --json " + path.string()).status == 0);
    std::ifstream in(path);
    REQUIRE(in);
    const nlohmann::json doc = nlohmann::json::parse(in);
    CHECK(doc.at("passed") == true);
    CHECK(doc.at("checks_failed") == 0);
    CHECK(doc.at("checks").size() == doc.at("checks_passed").get<std::size_t>());
    CHECK(doc.at("seed") == minimodel::MiniGPT::kDefaultSeed);
    CHECK(doc.at("lab") == std::string(lab).substr(3, 2));
    std::filesystem::remove(path);
  }
}

TEST_CASE("a JSON path that cannot be written is a clear error and leaves no file", "[labs]") {
  const Run r = run("lab02-parameter-inventory --json /nonexistent-dir/out.json");
  CHECK(r.status == 2);
  CHECK(r.output.find("cannot write '/nonexistent-dir/out.json'") != std::string::npos);
}

TEST_CASE("lab02 counts a config given by flags and refuses an invalid one", "[labs]") {
  const Run v512 = run("lab02-parameter-inventory --vocab-size 512");
  CHECK(v512.status == 0);
  CHECK(v512.output.find("132352 == 132352") != std::string::npos);  // 512·64 + 2·49728 + 128
  // theory/04's variant: vocab 512, RMSNorm with gain only, no biases.
  const Run variant = run("lab02-parameter-inventory --vocab-size 512 --norm rmsnorm --no-biases");
  CHECK(variant.status == 0);
  CHECK(variant.output.find("131392 == 131392") != std::string::npos);
  const Run odd = run("lab02-parameter-inventory --n-heads 3");
  CHECK(odd.status == 2);
  CHECK(odd.output.find("d_model must be divisible by n_heads") != std::string::npos);
  const Run negative = run("lab02-parameter-inventory --d-ff -4");
  CHECK(negative.status == 2);
  CHECK(negative.output.find("d_ff = -4") != std::string::npos);
}

TEST_CASE("lab03 takes --tokens and --perturb-at and refuses bad ones", "[labs]") {
  const Run custom = run("lab03-causality-perturbation --tokens 1,4,13,11,5,13,11,6 --perturb-at 2");
  CHECK(custom.status == 0);
  CHECK(custom.output.find("positions 0-1 are bit-identical") != std::string::npos);
  const Run outside = run("lab03-causality-perturbation --perturb-at 8");
  CHECK(outside.status == 2);
  CHECK(outside.output.find("--perturb-at 8 is outside the sequence") != std::string::npos);
  const Run big_id = run("lab03-causality-perturbation --tokens 1,64");
  CHECK(big_id.status == 2);
  CHECK(big_id.output.find("token id 64 at position 1 is out of range") != std::string::npos);
  const Run too_long = run("lab03-causality-perturbation --tokens 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1");
  CHECK(too_long.status == 2);
  CHECK(too_long.output.find("context_len = 32") != std::string::npos);
}

TEST_CASE("a weights file holding a NaN is refused by lab01, naming the tensor and the entry", "[labs]") {
  minimodel::MiniGPT model;
  model.parameters().at("block_0.ffn.W_2").value(3, 1) = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::uint8_t> bytes = minimodel::safetensors_bytes(model);
  const std::filesystem::path path = temp_path("nan.safetensors");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const Run r = run("lab01-assemble-mini-gpt --load-weights " + path.string());
  CHECK(r.status == 2);
  CHECK(r.output.find("error: ") != std::string::npos);
  CHECK(r.output.find("tensor 'block_0.ffn.W_2' holds nan at [3, 1]") != std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("lab02's JSON and header say which variant ran", "[labs]") {
  const std::filesystem::path path = temp_path("lab02-variant.json");
  const Run r = run("lab02-parameter-inventory --norm rmsnorm --no-biases --json " + path.string());
  REQUIRE(r.status == 0);
  CHECK(r.output.find("norm=rmsnorm ffn_biases=no") != std::string::npos);  // the config line
  std::ifstream in(path);
  REQUIRE(in);
  const nlohmann::json config = nlohmann::json::parse(in).at("results").at("config");
  CHECK(config.at("norm") == "rmsnorm");
  CHECK(config.at("ffn_biases") == false);
  CHECK(config.at("d_model") == 64);
  std::filesystem::remove(path);
}

TEST_CASE("a fact is printed outside the verdict and listed apart in the JSON", "[labs]") {
  // lab 02's 'every mistake changes the total' no piece computes: a fact.
  const std::filesystem::path path = temp_path("lab02-facts.json");
  const Run r = run("lab02-parameter-inventory --json " + path.string());
  REQUIRE(r.status == 0);
  CHECK(r.output.find("fact: every mistake above changes the total") != std::string::npos);
  CHECK(r.output.find("[PASS] every mistake above") == std::string::npos);
  std::ifstream in(path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  // The closed form (twice: the locked model, theory 04's variant) and the tie (twice): the
  // pieces of this lab a student writes.
  CHECK(doc.at("checks").size() == 4);
  CHECK(doc.at("facts").size() == 1);
  std::filesystem::remove(path);
}
