// Fuzz target: the safetensors loader (weights_io.hpp) on arbitrary bytes.
//
// The contract under test: whatever the bytes, every loader either succeeds or throws one
// minimodel::WeightsError, and a failed load leaves the model it was loading into unchanged.
// Any other exception escapes and libFuzzer reports it; a crash, a leak or undefined behaviour
// is reported by the sanitizers.
//
// The model is a small config (196 parameters, a 1 KB file), so that libFuzzer's mutations of
// a valid file in corpus/weights_loader/ reach the code past the header checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "minimodel/config.hpp"
#include "minimodel/errors.hpp"
#include "minimodel/model.hpp"
#include "minimodel/io/weights_io.hpp"

namespace {

minimodel::MiniGPTConfig small_config() {
  return minimodel::MiniGPTConfig(minimodel::ConfigValues{
      .d_model = 4, .n_heads = 2, .n_layers = 1, .d_ff = 8, .vocab_size = 8, .context_len = 4});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);

  try {
    (void)minimodel::read_safetensors_config_from_bytes(bytes, "fuzz input");
  } catch (const minimodel::WeightsError&) {
  }

  try {
    // A model built from the file alone: its config comes from __metadata__, bounded by the
    // file's size. Run one token through it, so a loaded model is a usable one.
    const minimodel::MiniGPT model = minimodel::load_safetensors_from_bytes(bytes, "fuzz input");
    const minimodel::TokenId first = 0;
    try {
      (void)model.forward(std::span<const minimodel::TokenId>(&first, 1));
    } catch (const minimodel::Error&) {
      // Loaded weights may be NaN or huge; the forward may refuse them with a clear error.
    }
  } catch (const minimodel::WeightsError&) {
  }

  static minimodel::MiniGPT into(small_config(), 7);
  const std::vector<std::uint8_t> before = minimodel::safetensors_bytes(into);
  try {
    minimodel::load_safetensors_into_from_bytes(into, bytes, "fuzz input");
  } catch (const minimodel::WeightsError&) {
    if (minimodel::safetensors_bytes(into) != before) std::abort();  // a failed load changed the model
  }
  return 0;
}
