// Lab 00 · Block by hand (stub; being written).
#include "lab.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Lab 00 · Block by hand"};
  lab::CommonOptions options;
  lab::add_common_options(app, options);
  return lab::run(app, argc, argv, [&] {
    lab::Report report({"00", "Block by hand", "labs/00-block-by-hand/README.md"}, options);
    return report.finish();
  });
}
