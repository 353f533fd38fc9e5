// Lab 01 · Assemble Mini-GPT (stub; being written).
#include "lab.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Lab 01 · Assemble Mini-GPT"};
  lab::CommonOptions options;
  lab::add_common_options(app, options);
  return lab::run(app, argc, argv, [&] {
    lab::Report report({"01", "Assemble Mini-GPT", "labs/01-assemble-mini-gpt/README.md"}, options);
    return report.finish();
  });
}
